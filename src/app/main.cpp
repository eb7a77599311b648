// farend [EAL options] -- [farend options]
#include <farend/app/options.hpp>
#include <farend/dataplane/dataplane.hpp>
#include <farend/dataplane/log.hpp>
#include <farend/simd/scan.hpp>
#include <farend/telemetry/telemetry.hpp>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_pdump.h>
#include <rte_version.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

using namespace farend;

namespace {

void on_signal(int) { dataplane::g_stop.store(true); }
void on_hup(int) { dataplane::g_reload.store(true); }

void print_report(const pipeline::Counters& t) {
    std::printf("\nfarend: final counters\n");
    for (std::size_t i = 0; i < pipeline::kAllCounters; ++i) {
        const bool fixed = i < pipeline::kCounterCount;
        if (!fixed && t.v[i] == 0) continue;  // per-test and per-reason lines only when non-zero
        if (!pipeline::counter_reported(i)) continue;
        const std::string name(pipeline::counter_name(i));
        std::printf("  %-30s %14llu\n", name.c_str(), static_cast<unsigned long long>(t.v[i]));
    }
}

void print_resources(const dataplane::Dataplane::Resources& running, const dataplane::Dataplane::Resources& stopped) {
    for (const auto& p : running.ports)
        if (p.rx_missed || p.rx_nombuf || p.rx_errors || p.tx_errors)
            std::printf("  port %u (%s): rx_missed %llu, rx_nombuf %llu, rx_errors %llu, tx_errors %llu (dropped by the "
                        "port: received frames before farend saw them, sent ones after farend sent them)\n",
                        static_cast<unsigned>(p.port), p.driver.c_str(),
                        static_cast<unsigned long long>(p.rx_missed), static_cast<unsigned long long>(p.rx_nombuf),
                        static_cast<unsigned long long>(p.rx_errors), static_cast<unsigned long long>(p.tx_errors));
    for (const auto& p : running.ports)
        if (p.link_changes)
            std::printf("  port %u (%s): link changed %llu time(s), %s at the end\n", static_cast<unsigned>(p.port),
                        p.driver.c_str(), static_cast<unsigned long long>(p.link_changes),
                        p.link_up ? "up" : "DOWN");
    if (running.worker_stalls)
        std::printf("  worker stalls %llu (a worker did not come round its poll loop for a second: see above)\n",
                    static_cast<unsigned long long>(running.worker_stalls));
    std::printf("  flows %llu of %llu\n", static_cast<unsigned long long>(running.flows),
                static_cast<unsigned long long>(running.flow_capacity));
    for (const auto& p : stopped.pools)
        if (p.in_use)
            dataplane::log::say(dataplane::log::Level::warning,
                                "warning: %u of the %u mbufs of pool %s not returned after the ports stopped (a leak: "
                                "please report it)", p.in_use, p.size, p.name.c_str());
}

bool write_json(const std::string& file, const dataplane::Dataplane& dp, const dataplane::Dataplane::Resources& running,
                const dataplane::Dataplane::Resources& stopped) {
    std::ofstream out(file);
    out << "{\n  \"totals\": " << telemetry::counters_json(dp.totals()) << ",\n  \"resources\": "
        << telemetry::resources_json(running) << ",\n  \"after_stop\": " << telemetry::resources_json(stopped)
        << ",\n  \"lcores\": {";
    bool first = true;
    for (unsigned l : dp.worker_lcores()) {
        pipeline::Counters c;
        if (!dp.lcore_counters(l, c)) continue;
        out << (first ? "" : ",") << "\n    \"" << l << "\": " << telemetry::counters_json(c);
        first = false;
    }
    out << "\n  }\n}\n";
    return static_cast<bool>(out);
}

// The index of the first "--", where EAL's options end and farend's begin; argc when there is none.
int separator(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (!std::strcmp(argv[i], "--")) return i;
    return argc;
}

// farend's options from argv[first] on (--check-config left out), parsed; a problem is said on
// stderr and gives nothing.
std::optional<app::Options> parse_own(int argc, char** argv, int first) {
    std::vector<const char*> own{argv[0]};
    for (int i = first; i < argc; ++i)
        if (std::strcmp(argv[i], "--check-config") != 0) own.push_back(argv[i]);
    std::string why;
    auto opts = app::parse_options(static_cast<int>(own.size()), own.data(), &why);
    if (!opts) dataplane::log::say(dataplane::log::Level::err, "%s (farend --help lists the options)", why.c_str());
    return opts;
}

}  // namespace

int main(int argc, char** argv) {
    // --help / --version answer without starting EAL (which would want its resources).
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
            std::fputs(app::help_text().c_str(), stdout);
            return 0;
        }
        if (!std::strcmp(argv[i], "--version")) {
            std::printf("farend %s (%s, scanner %s)\n", app::kVersion, rte_version(), simd::active().name);
            return 0;
        }
    }
    // --check-config: farend's options (those after "--", or all when there is no "--") checked
    // without EAL, so that a running farend's ports, memory and file prefix are left alone.
    const int sep = separator(argc, argv);
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--check-config") != 0) continue;
        const auto checked = parse_own(argc, argv, sep < argc ? sep + 1 : 1);
        if (!checked) return 2;
        std::printf("%sfarend: configuration OK (%zu rule(s); ports, lcores and memory are checked at start)\n",
                    checked->config.describe().c_str(), checked->config.rules().size());
        return 0;
    }
    // A bad option or config file stops farend before EAL takes the ports and memory, with exit
    // status 2, which configs/farend.service does not restart on (RestartPreventExitStatus=2): a
    // file that is wrong stays wrong.
    std::optional<app::Options> opts;
    if (sep < argc && !(opts = parse_own(argc, argv, sep + 1))) return 2;
    dataplane::log::redirect_dpdk();  // DPDK's lines once (not to syslog too), with their priority in the journal
    const int eal_args = rte_eal_init(argc, argv);
    if (eal_args < 0) {
        // EINVAL: EAL's own options are wrong (exit 2, as farend's); anything else is the machine's
        // (no hugepages, a device or file prefix taken: exit 1, which systemd may retry).
        // (Some failures leave rte_errno unset: a file prefix another process holds, say.)
        const int err = rte_errno;
        dataplane::log::say(dataplane::log::Level::err,
                            "EAL initialisation failed%s%s (see the EAL messages above; farend --help)",
                            err ? ": " : "", err ? rte_strerror(err) : "");
        return err == EINVAL ? 2 : 1;
    }
    // EAL stops at the "--" (its index comes back); otherwise farend's options are what EAL left.
    if (!opts || eal_args != sep) {
        opts = parse_own(argc, argv, eal_args + 1);
        if (!opts) {
            rte_eal_cleanup();
            return 2;
        }
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    std::string error;
    auto dp = dataplane::Dataplane::create(opts->config, &error);
    if (!dp) {
        dataplane::log::say(dataplane::log::Level::err, "%s", error.c_str());
        rte_eal_cleanup();
        return 1;
    }
    // SIGHUP re-reads the rules: the --rule ones and the config file's "rule =" lines.
    dp->set_rules_source([cfg = opts->config](std::string* why) -> std::optional<std::vector<std::string>> {
        std::vector<std::string> all = cfg.cli_rules;
        if (!cfg.config_file.empty()) {
            auto file = app::read_file_rules(cfg.config_file, why);
            if (!file) return std::nullopt;
            all.insert(all.end(), file->begin(), file->end());
        }
        return all;
    });
    std::signal(SIGHUP, on_hup);
    if (rte_pdump_init() != 0)
        dataplane::log::say(dataplane::log::Level::warning,
                            "warning: rte_pdump_init failed: dpdk-dumpcap cannot attach");
    if (std::string why; !telemetry::register_commands(dp.get(), &why))
        dataplane::log::say(dataplane::log::Level::warning,
                            "warning: telemetry commands not registered (%s; started with --no-telemetry?)",
                            why.c_str());

    std::printf("farend %s: %u port(s), worker lcore(s)", app::kVersion, static_cast<unsigned>(rte_eth_dev_count_avail()));
    for (unsigned l : dp->worker_lcores()) std::printf(" %u", l);
    std::printf(", scanner %s\n%s", simd::active().name, opts->config.describe().c_str());
    // Who does the checksum work, per port: a carrier engineer checks that the NIC's offloads are
    // on (where farend sums, it costs cycles; where a port verifies, damaged datagrams are still
    // told apart: --checksums).
    // And each port's link (a change while farend runs is said on stderr).
    for (const auto& p : dp->resources().ports)
        std::printf("port %u (%s): %s; UDP checksums verified on receipt by %s; IPv4 and UDP checksums filled in on "
                    "transmit by %s\n",
                    static_cast<unsigned>(p.port), p.driver.c_str(), dataplane::Dataplane::link_text(p).c_str(),
                    p.rx_checksum_offload ? "the port" : "farend", p.tx_checksum_offload ? "the port" : "farend");
    std::fflush(stdout);

    const int rc = dp->run();
    const pipeline::Counters totals = dp->totals();
    const auto running = dp->resources();
    dp->stop_ports();  // flushes pcap files; every mbuf is back in its pool after this
    const auto stopped = dp->resources();
    print_report(totals);
    print_resources(running, stopped);
    int status = rc;
    if (!opts->config.stats_json.empty() && !write_json(opts->config.stats_json, *dp, running, stopped)) {
        dataplane::log::say(dataplane::log::Level::err, "cannot write --stats-json %s: %s",
                            opts->config.stats_json.c_str(), std::strerror(errno));
        status = 1;
    }
    dp.reset();  // stops and closes the ports (flushes pcap files)
    rte_pdump_uninit();
    rte_eal_cleanup();
    return status;
}
