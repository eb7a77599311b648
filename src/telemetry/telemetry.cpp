#include <farend/telemetry/telemetry.hpp>

#include <rte_cycles.h>
#include <rte_telemetry.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <utility>

namespace farend::telemetry {

namespace {

const dataplane::Dataplane* g_dp = nullptr;
constexpr std::size_t kFlowsShown = 32;  // a telemetry reply is at most 16 KiB

void add_counters(rte_tel_data* d, const pipeline::Counters& c) {
    rte_tel_data_start_dict(d);
    for (std::size_t i = 0; i < pipeline::kAllCounters; ++i) {
        if (!pipeline::counter_reported(i)) continue;
        const std::string name(pipeline::counter_name(i));
        rte_tel_data_add_dict_u64(d, name.c_str(), c.v[i]);
    }
}

int cmd_stats(const char*, const char*, rte_tel_data* d) {
    if (!g_dp) return -1;
    add_counters(d, g_dp->totals());
    return 0;
}

int cmd_lcore_stats(const char*, const char* params, rte_tel_data* d) {
    if (!g_dp || !params || !*params) return -1;
    char* end = nullptr;
    const unsigned long lcore = std::strtoul(params, &end, 10);
    if (*end != '\0') return -1;
    pipeline::Counters c;
    if (!g_dp->lcore_counters(static_cast<unsigned>(lcore), c)) return -1;
    add_counters(d, c);
    return 0;
}

int cmd_config(const char*, const char*, rte_tel_data* d) {
    if (!g_dp) return -1;
    rte_tel_data_start_dict(d);
    std::istringstream in(g_dp->config().describe());
    for (std::string line; std::getline(in, line);) {
        const auto eq = line.find(" = ");
        if (eq == std::string::npos) continue;
        std::string key = line.substr(0, eq);
        const std::string value = line.substr(eq + 3);
        for (char& ch : key)
            if (ch == '-') ch = '_';  // telemetry keys take [A-Za-z0-9_] only
        rte_tel_data_add_dict_string(d, key.c_str(), value.c_str());
    }
    std::string lcores;
    for (unsigned l : g_dp->worker_lcores()) {
        if (!lcores.empty()) lcores.push_back(',');
        lcores.append(std::to_string(l));
    }
    rte_tel_data_add_dict_string(d, "worker_lcores", lcores.c_str());
    return 0;
}

std::string ip_port(const IpAddr& ip, uint16_t port) {
    if (!ip.valid()) return "";
    char b[IpAddr::kMaxText + 10];
    std::size_t n = 0;
    if (ip.is_v6()) b[n++] = '[';
    n += ip.format(b + n);
    if (ip.is_v6()) b[n++] = ']';
    n += static_cast<std::size_t>(std::snprintf(b + n, sizeof b - n, ":%u", port));
    return std::string(b, n);
}

std::string mac(const std::array<uint8_t, 6>& m) {
    char b[18];
    std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return b;
}

int cmd_flows(const char*, const char*, rte_tel_data* d) {
    // DPDK 22.11 telemetry nests only arrays of numbers or strings, so each flow is an array of
    // "field=value" strings under "flow_<n>" (most recently seen first).
    if (!g_dp) return -1;
    const uint64_t now = rte_rdtsc();
    const double hz = static_cast<double>(rte_get_tsc_hz());
    // The worker may stamp an entry after `now` was read: that is 0 s ago, not 2^64 cycles.
    auto ago = [&](uint64_t t) { return std::to_string(t >= now ? 0 : static_cast<uint64_t>(static_cast<double>(now - t) / hz)); };
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "count", g_dp->flow_count());
    std::size_t i = 0;
    for (const flow::Entry& e : g_dp->flows(kFlowsShown)) {
        rte_tel_data* f = rte_tel_data_alloc();
        rte_tel_data_start_array(f, RTE_TEL_STRING_VAL);
        auto add = [f](const std::string& k, const std::string& v) {
            std::string kv(k);
            kv.push_back('=');
            kv.append(v);
            rte_tel_data_add_array_string(f, kv.c_str());
        };
        add("public", ip_port(e.public_addr(), e.public_port()));
        add("private", e.private_addr.valid() ? e.private_addr.to_string() : "");
        add("peer", ip_port(e.peer, e.peer_port));
        add("vlan", std::to_string(e.vlan()));
        add("ingress_port", std::to_string(e.ingress_port));
        add("src_mac", mac(e.src_mac()));
        add("dst_mac", mac(e.dst_mac()));
        add("packets", std::to_string(e.packets));
        add("bytes", std::to_string(e.bytes));
        add("rewritten", std::to_string(e.rewritten));
        add("nat_tests", nat::tests_to_string(e.last_verdict));
        add("first_seen_s_ago", ago(e.first_seen));
        add("last_seen_s_ago", ago(e.last_seen));
        add("last_register_s_ago", e.last_register ? ago(e.last_register) : "never");
        add("keepalives", std::to_string(e.pings));
        add("keepalive_answers", std::to_string(e.answers));
        add("last_ping_s_ago", e.last_ping ? ago(e.last_ping) : "never");
        add("last_answer_s_ago", e.last_answer ? ago(e.last_answer) : "never");
        const std::string key = "flow_" + std::to_string(i++);
        rte_tel_data_add_dict_container(d, key.c_str(), f, 0);
    }
    return 0;
}

// A port's counters by name, for /farend/resources and resources_json.
using PortStats = dataplane::Dataplane::PortStats;
constexpr std::pair<const char*, uint64_t PortStats::*> kPortFields[] = {
    {"rx_packets", &PortStats::rx_packets}, {"tx_packets", &PortStats::tx_packets},
    {"rx_missed", &PortStats::rx_missed},   {"rx_nombuf", &PortStats::rx_nombuf},
    {"rx_errors", &PortStats::rx_errors},   {"tx_errors", &PortStats::tx_errors},
    {"link_changes", &PortStats::link_changes},
};

// /farend/resources: flat keys (22.11 telemetry nests no dicts): port<N>_<field>, pool_<name>_size
// and _in_use, flows, flow_capacity.
int cmd_resources(const char*, const char*, rte_tel_data* d) {
    if (!g_dp) return -1;
    const auto r = g_dp->resources();
    rte_tel_data_start_dict(d);
    for (const auto& p : r.ports) {
        const std::string k = "port" + std::to_string(p.port) + "_";
        rte_tel_data_add_dict_string(d, (k + "driver").c_str(), p.driver.c_str());
        for (const auto& [name, field] : kPortFields) rte_tel_data_add_dict_u64(d, (k + name).c_str(), p.*field);
        rte_tel_data_add_dict_u64(d, (k + "rx_checksum_offload").c_str(), p.rx_checksum_offload);
        rte_tel_data_add_dict_u64(d, (k + "tx_checksum_offload").c_str(), p.tx_checksum_offload);
        rte_tel_data_add_dict_u64(d, (k + "link_up").c_str(), p.link_up);
        rte_tel_data_add_dict_u64(d, (k + "link_speed_mbps").c_str(), p.link_speed_mbps);
        rte_tel_data_add_dict_u64(d, (k + "link_full_duplex").c_str(), p.link_full_duplex);
    }
    for (const auto& p : r.pools) {
        const std::string k = "pool_" + p.name + "_";
        rte_tel_data_add_dict_u64(d, (k + "size").c_str(), p.size);
        rte_tel_data_add_dict_u64(d, (k + "in_use").c_str(), p.in_use);
    }
    rte_tel_data_add_dict_u64(d, "flows", r.flows);
    rte_tel_data_add_dict_u64(d, "flow_capacity", r.flow_capacity);
    rte_tel_data_add_dict_u64(d, "worker_stalls", r.worker_stalls);
    return 0;
}

constexpr std::size_t kRulesShown = 32;

// /farend/rules[,first]: reload state, then rules first .. first+31 in the order written, each an
// array of "field=value" strings under "rule_<index>" (hits since the rules were last loaded).
int cmd_rules(const char*, const char* params, rte_tel_data* d) {
    if (!g_dp) return -1;
    std::size_t first = 0;
    if (params && *params) {
        char* end = nullptr;
        first = std::strtoul(params, &end, 10);
        if (*end != '\0') return -1;
    }
    const auto r = g_dp->rules_report(first, kRulesShown);
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "count", r.count);
    rte_tel_data_add_dict_u64(d, "reloads", r.reloads);
    rte_tel_data_add_dict_u64(d, "reload_errors", r.reload_errors);
    rte_tel_data_add_dict_string(d, "last_reload_error", r.last_error.substr(0, RTE_TEL_MAX_STRING_LEN - 1).c_str());
    rte_tel_data_add_dict_u64(d, "loaded_s_ago", static_cast<uint64_t>(r.loaded_s_ago));
    for (std::size_t k = 0; k < r.rules.size(); ++k) {
        const std::size_t i = first + k;
        rte_tel_data* f = rte_tel_data_alloc();
        rte_tel_data_start_array(f, RTE_TEL_STRING_VAL);
        const std::string name = "name=" + r.rules[k].name, hits = "hits=" + std::to_string(r.rules[k].hits),
                          text = "rule=" + r.rules[k].text;
        for (const std::string* kv : {&name, &hits, &text})
            rte_tel_data_add_array_string(f, kv->substr(0, RTE_TEL_MAX_STRING_LEN - 1).c_str());
        const std::string key = "rule_" + std::to_string(i);
        rte_tel_data_add_dict_container(d, key.c_str(), f, 0);
    }
    return 0;
}

// A command's help text: rte_telemetry_register_cmd refuses one of RTE_TEL_MAX_STRING_LEN bytes or
// more, which this makes a compile error rather than a failed start.
template <std::size_t N>
consteval const char* help(const char (&text)[N]) {
    if (N > RTE_TEL_MAX_STRING_LEN) throw "telemetry help text too long";
    return text;
}

struct Command {
    const char* name;
    telemetry_cb fn;
    const char* help;
};

}  // namespace

bool register_commands(const dataplane::Dataplane* dp, std::string* error) {
    g_dp = dp;
    static constexpr Command kCommands[] = {
        {"/farend/stats", cmd_stats, help("farend counters summed over workers. No parameters")},
        {"/farend/lcore_stats", cmd_lcore_stats, help("one worker's counters. Parameters: int lcore_id")},
        {"/farend/config", cmd_config, help("farend's running configuration. No parameters")},
        {"/farend/flows", cmd_flows, help("the most recently seen flows (observed sources) with their fields. No parameters")},
        {"/farend/resources", cmd_resources,
         help("ports' links and drops before farend, mbufs in use per pool, flows tracked and capacity. No parameters")},
        {"/farend/rules", cmd_rules, help("the rules, their hits and reloads. Parameters: int first rule shown (32 a reply)")},
    };
    for (const Command& c : kCommands)
        if (const int r = rte_telemetry_register_cmd(c.name, c.fn, c.help); r != 0) {
            *error = std::string(c.name) + ": " + std::strerror(-r);
            return false;
        }
    return true;
}

std::string counters_json(const pipeline::Counters& c) {
    std::ostringstream o;
    o << '{';
    bool first = true;
    for (std::size_t i = 0; i < pipeline::kAllCounters; ++i) {
        if (!pipeline::counter_reported(i)) continue;
        o << (first ? "" : ", ") << '"' << pipeline::counter_name(i) << "\": " << c.v[i];
        first = false;
    }
    o << '}';
    return o.str();
}

std::string resources_json(const dataplane::Dataplane::Resources& r) {
    std::ostringstream o;
    o << "{\"ports\": {";
    for (std::size_t i = 0; i < r.ports.size(); ++i) {
        const auto& p = r.ports[i];
        o << (i ? ", " : "") << '"' << p.port << "\": {\"driver\": \"" << p.driver << '"';
        for (const auto& [name, field] : kPortFields) o << ", \"" << name << "\": " << p.*field;
        o << ", \"rx_checksum_offload\": " << (p.rx_checksum_offload ? "true" : "false")
          << ", \"tx_checksum_offload\": " << (p.tx_checksum_offload ? "true" : "false")
          << ", \"link_up\": " << (p.link_up ? "true" : "false") << ", \"link_speed_mbps\": " << p.link_speed_mbps
          << ", \"link_full_duplex\": " << (p.link_full_duplex ? "true" : "false") << '}';
    }
    o << "}, \"pools\": {";
    for (std::size_t i = 0; i < r.pools.size(); ++i)
        o << (i ? ", " : "") << '"' << r.pools[i].name << "\": {\"size\": " << r.pools[i].size
          << ", \"in_use\": " << r.pools[i].in_use << '}';
    o << "}, \"flows\": " << r.flows << ", \"flow_capacity\": " << r.flow_capacity
      << ", \"worker_stalls\": " << r.worker_stalls << '}';
    return o.str();
}

}  // namespace farend::telemetry
