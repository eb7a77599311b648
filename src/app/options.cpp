#include <farend/app/options.hpp>
#include <farend/rules/rules.hpp>

#include <boost/program_options.hpp>

#include <charconv>
#include <fstream>
#include <sstream>

namespace po = boost::program_options;

namespace farend::app {

namespace {

po::options_description describe() {
    po::options_description d(
        "farend options (after the EAL options and \"--\"; the same names work in --config files)");
    // clang-format off
    d.add_options()
        ("help,h", "print this help and exit")
        ("version", "print the version and exit")
        ("check-config", "check these options and the --config file's (rules included), print the configuration "
         "and exit: 0 when they are sound, 2 and what is wrong when not; EAL is not started (EAL options are "
         "ignored), so ports, lcores and memory are checked only by a real start. Command line only")
        ("config", po::value<std::string>()->value_name("FILE"),
         "read options from FILE (\"name = value\" lines, '#' comments); the command line wins")
        ("port-pair", po::value<std::vector<std::string>>()->composing()->value_name("ACCESS:CORE"),
         "forward between access port ACCESS and core port CORE (DPDK port ids); repeatable; default 0:1")
        ("sip-ports", po::value<std::string>()->value_name("LIST"),
         "UDP ports that carry SIP, comma separated; default 5060")
        ("nat-tests", po::value<std::string>()->value_name("LIST"),
         "NAT tests to run: contact-private, via-source-mismatch, via-private, contact-source-mismatch, "
         "sdp-private, source-private, contact-port-mismatch, sdp-source-mismatch, all, none; "
         "default the first four")
        ("rewrite", po::value<std::string>()->value_name("LIST"),
         "what to fix in a NATed message: via, contact, sdp, none; default via,contact,sdp")
        ("contact-mode", po::value<std::string>()->value_name("MODE"),
         "rewrite (put the source address in the Contact URI) or alias (append ;alias=ip~port~1); default rewrite")
        ("private-ranges", po::value<std::string>()->value_name("LIST"),
         "address prefixes counted as private, comma separated; 'default' = 10/8, 172.16/12, 192.168/16, "
         "100.64/10, 192.0.0.0/24, 169.254/16, fc00::/7, fe80::/10")
        ("malformed", po::value<std::string>()->value_name("ACTION"),
         "what to do with SIP that does not parse: pass (forward unmodified) or drop; counted either way; default pass. "
         "Agents' NAT keepalives (datagrams of only CRLF, white space or zero bytes; STUN messages) are always "
         "forwarded, counted malformed_empty and malformed_stun")
        ("checksums", po::value<std::string>()->value_name("ACTION"),
         "verify: a SIP datagram whose IPv4 header or UDP checksum is wrong (damaged on the way) is forwarded as it "
         "came and counted (bad_checksum), never rewritten, so the switch discards it as it would without farend; "
         "ignore: rewrite it all the same, its checksums summed anew (for replaying captures taken on a sending host "
         "with checksum offload, whose checksums were never filled in); default verify")
        ("keepalive-interval", po::value<std::string>()->value_name("SECONDS"),
         "every SECONDS, ping each NATed agent that registered (last hour) or sent a message (last 3 intervals) "
         "from the switch's address, to keep its NAT binding open; 0 = off (default)")
        ("keepalive-method", po::value<std::string>()->value_name("METHOD"),
         "options (a SIP OPTIONS; answers are consumed and agents that miss 3 in a row are dropped from the "
         "flow table), crlf (\\r\\n\\r\\n) or null4 (four zero bytes); default options")
        ("exit-when-idle", po::value<std::string>()->value_name("SECONDS"),
         "stop after SECONDS with no frame received (for captures); 0 = run until signalled (default)")
        ("stats-json", po::value<std::string>()->value_name("FILE"), "write the final counters to FILE as JSON at exit")
        ("mtu", po::value<std::string>()->value_name("BYTES"),
         "IP MTU of the ports (576-65535): a datagram that leaves larger (reassembled, or grown by a rewrite) is "
         "cut into fragments, but IPv4 with don't-fragment set, which goes whole (counted, oversize_tx); default 1500")
        ("flow-capacity", po::value<std::string>()->value_name("N"),
         "sources each worker tracks for telemetry, keepalives and alias (16-16777216); when full, the least "
         "recently seen of a sample is evicted (flows_evicted); every packet is forwarded either way; ~330 bytes of "
         "DPDK memory (EAL -m) a flow and worker; default 65536")
        ("mbufs", po::value<std::string>()->value_name("N"),
         "mbufs in the packet pool (4096-16777216), at least what the ports' receive and transmit queues, bursts "
         "and IP reassembly need; more for drivers that hold frames of their own (net_pcap's infinite_rx holds "
         "its whole capture); with workers on several NUMA sockets, shared among their sockets' pools as the "
         "workers are; default 0: exactly that need")
        ("rule", po::value<std::vector<std::string>>()->composing()->value_name("RULE"),
         "a rule, repeatable (in a --config file: 'rule = ...' lines, re-read on SIGHUP): key=value words, "
         "matching by source=PREFIX and/or domain=NAME|*.NAME (host of the Request-URI, To or From) and setting "
         "action=auto|force|never|drop, nat-tests=LIST, rewrite=LIST, contact-mode=MODE; optional name=NAME. "
         "The longest source prefix wins, then the most specific domain, then the first rule");
    // clang-format on
    return d;
}

bool to_uint(const std::string& s, uint64_t max, uint64_t& out) {
    if (s.empty()) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size() && out <= max;
}

bool to_seconds(const std::string& s, double& out) {
    std::istringstream in(s);
    in >> out;
    return !in.fail() && in.eof() && out >= 0 && out < 1e9;
}

}  // namespace

std::string help_text() {
    std::ostringstream o;
    o << "usage: farend [EAL options] -- [farend options]\n"
         "Far-end NAT traversal for SIP: frames received on an access port leave on its core port and\n"
         "back; SIP from NATed agents is rewritten on the way in. EAL options come first, as for every\n"
         "DPDK application (e.g. -l 0-1 --vdev=net_pcap0,rx_pcap=in.pcap ...; see dpdk-testpmd --help).\n\n"
      << describe();
    return o.str();
}

std::optional<Options> parse_options(int argc, const char* const* argv, std::string* error) {
    Options out;
    po::variables_map vm;
    const auto desc = describe();
    try {
        po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        *error = e.what();
        return std::nullopt;
    }
    if (vm.count("config")) {
        // The file fills in what the command line did not say (for --port-pair: all or nothing).
        const std::string file = vm["config"].as<std::string>();
        std::ifstream in(file);
        if (!in) {
            *error = "--config: cannot read " + file;
            return std::nullopt;
        }
        po::variables_map from_file;
        try {
            po::store(po::parse_config_file(in, desc), from_file);
            po::notify(from_file);
        } catch (const po::error& e) {
            *error = "--config " + file + ": " + e.what();
            return std::nullopt;
        }
        for (const char* cli_only : {"help", "version", "check-config", "config"})
            if (from_file.count(cli_only)) {
                *error = "--config " + file + ": " + cli_only + " is a command-line option";
                return std::nullopt;
            }
        if (from_file.count("rule")) out.config.file_rules = from_file["rule"].as<std::vector<std::string>>();
        for (const auto& [name, value] : from_file)
            if (!vm.count(name) && name != "rule") vm.insert({name, value});
        out.config.config_file = file;
    }
    if (vm.count("rule")) out.config.cli_rules = vm["rule"].as<std::vector<std::string>>();
    if (vm.count("help")) out.help = true;
    if (vm.count("version")) out.version = true;
    pipeline::Config& c = out.config;
    auto fail = [&](const std::string& opt, const std::string& why) {
        *error = "--" + opt + ": " + why;
        return std::nullopt;
    };
    if (vm.count("port-pair")) {
        c.port_pairs.clear();
        for (const std::string& s : vm["port-pair"].as<std::vector<std::string>>()) {
            const auto colon = s.find(':');
            uint64_t a = 0, b = 0;
            if (colon == std::string::npos || !to_uint(s.substr(0, colon), 1023, a) || !to_uint(s.substr(colon + 1), 1023, b))
                return fail("port-pair", "'" + s + "' is not ACCESS:CORE (two DPDK port ids, e.g. 0:1)");
            if (a == b) return fail("port-pair", "'" + s + "' pairs a port with itself");
            for (const auto& p : c.port_pairs)
                if (p.access == a || p.core == a || p.access == b || p.core == b)
                    return fail("port-pair", "port " + std::to_string(p.access == a || p.core == a ? a : b) +
                                                 " is in two pairs");
            c.port_pairs.push_back({static_cast<uint16_t>(a), static_cast<uint16_t>(b)});
        }
    }
    if (vm.count("sip-ports")) {
        c.sip_ports.clear();
        std::string list = vm["sip-ports"].as<std::string>();
        std::istringstream in(list);
        for (std::string item; std::getline(in, item, ',');) {
            uint64_t p = 0;
            if (!to_uint(item, 65535, p) || p == 0) return fail("sip-ports", "'" + item + "' is not a UDP port (1-65535)");
            c.sip_ports.push_back(static_cast<uint16_t>(p));
        }
        if (c.sip_ports.empty()) return fail("sip-ports", "empty list");
    }
    std::string err;
    if (vm.count("nat-tests")) {
        auto t = nat::parse_tests(vm["nat-tests"].as<std::string>(), &err);
        if (!t) return fail("nat-tests", err);
        c.rewrite.detect.tests = *t;
    }
    if (vm.count("rewrite")) {
        auto r = rewrite::parse_rewrites(vm["rewrite"].as<std::string>(), &err);
        if (!r) return fail("rewrite", err);
        r->contact_mode = c.rewrite.rewrite.contact_mode;
        c.rewrite.rewrite = *r;
    }
    if (vm.count("contact-mode")) {
        auto m = rewrite::parse_contact_mode(vm["contact-mode"].as<std::string>());
        if (!m) return fail("contact-mode", "'" + vm["contact-mode"].as<std::string>() + "' is neither rewrite nor alias");
        c.rewrite.rewrite.contact_mode = *m;
    }
    if (vm.count("private-ranges")) {
        auto r = PrefixSet::parse(vm["private-ranges"].as<std::string>(), &err);
        if (!r) return fail("private-ranges", err);
        c.rewrite.detect.private_ranges = *r;
    }
    if (vm.count("malformed")) {
        const std::string m = vm["malformed"].as<std::string>();
        if (m == "pass")
            c.malformed = pipeline::MalformedAction::pass;
        else if (m == "drop")
            c.malformed = pipeline::MalformedAction::drop;
        else
            return fail("malformed", "'" + m + "' is neither pass nor drop");
    }
    if (vm.count("checksums")) {
        const std::string m = vm["checksums"].as<std::string>();
        if (m == "verify" || m == "ignore")
            c.verify_checksums = m == "verify";
        else
            return fail("checksums", "'" + m + "' is neither verify nor ignore");
    }
    if (vm.count("keepalive-interval")) {
        uint64_t s = 0;
        if (!to_uint(vm["keepalive-interval"].as<std::string>(), 86400, s))
            return fail("keepalive-interval", "not a number of seconds (0-86400)");
        c.keepalive_interval = static_cast<uint32_t>(s);
    }
    if (vm.count("keepalive-method")) {
        auto m = pipeline::parse_keepalive_method(vm["keepalive-method"].as<std::string>());
        if (!m) return fail("keepalive-method", "'" + vm["keepalive-method"].as<std::string>() + "' is not options, crlf or null4");
        c.keepalive_method = *m;
    }
    if (vm.count("exit-when-idle") && !to_seconds(vm["exit-when-idle"].as<std::string>(), c.exit_when_idle))
        return fail("exit-when-idle", "not a number of seconds >= 0");
    if (vm.count("stats-json")) {
        c.stats_json = vm["stats-json"].as<std::string>();
        if (c.stats_json.empty()) return fail("stats-json", "empty file name");
    }
    if (vm.count("mtu")) {
        uint64_t m = 0;
        if (!to_uint(vm["mtu"].as<std::string>(), 65535, m) || m < 576) return fail("mtu", "not an MTU (576-65535)");
        c.mtu = static_cast<uint16_t>(m);
    }
    if (vm.count("flow-capacity")) {
        uint64_t n = 0;
        if (!to_uint(vm["flow-capacity"].as<std::string>(), 1u << 24, n) || n < 16)
            return fail("flow-capacity", "not a number of flows (16-16777216)");
        c.flow_capacity = static_cast<uint32_t>(n);
    }
    if (vm.count("mbufs")) {
        uint64_t n = 0;
        if (!to_uint(vm["mbufs"].as<std::string>(), 1u << 24, n) || (n != 0 && n < 4096))
            return fail("mbufs", "not a number of mbufs (0, or 4096-16777216)");
        c.mbufs = static_cast<uint32_t>(n);
    }
    if (!c.cli_rules.empty() || !c.file_rules.empty()) {
        if (!rules::parse_rules(c.rules(), &err)) return fail("rule", err);
    }
    return out;
}

std::optional<std::vector<std::string>> read_file_rules(const std::string& file, std::string* error) {
    std::ifstream in(file);
    if (!in) {
        *error = "cannot read " + file;
        return std::nullopt;
    }
    po::variables_map vm;
    try {
        po::store(po::parse_config_file(in, describe()), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        *error = file + ": " + e.what();
        return std::nullopt;
    }
    if (!vm.count("rule")) return std::vector<std::string>{};
    return vm["rule"].as<std::vector<std::string>>();
}

}  // namespace farend::app
