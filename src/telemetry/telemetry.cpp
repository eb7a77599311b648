#include <farend/telemetry/telemetry.hpp>

#include <rte_telemetry.h>

#include <cstdlib>
#include <sstream>

namespace farend::telemetry {

namespace {

const dataplane::Dataplane* g_dp = nullptr;

bool skipped(std::size_t i) { return i == pipeline::kMalformedBase + static_cast<std::size_t>(sip::ParseError::none); }

void add_counters(rte_tel_data* d, const pipeline::Counters& c) {
    rte_tel_data_start_dict(d);
    for (std::size_t i = 0; i < pipeline::kAllCounters; ++i) {
        if (skipped(i)) continue;
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

}  // namespace

bool register_commands(const dataplane::Dataplane* dp) {
    g_dp = dp;
    return rte_telemetry_register_cmd("/farend/stats", cmd_stats, "farend counters summed over workers. No parameters") == 0 &&
           rte_telemetry_register_cmd("/farend/lcore_stats", cmd_lcore_stats,
                                      "one worker's counters. Parameters: int lcore_id") == 0 &&
           rte_telemetry_register_cmd("/farend/config", cmd_config, "farend's running configuration. No parameters") == 0;
}

std::string counters_json(const pipeline::Counters& c) {
    std::ostringstream o;
    o << '{';
    bool first = true;
    for (std::size_t i = 0; i < pipeline::kAllCounters; ++i) {
        if (skipped(i)) continue;
        o << (first ? "" : ", ") << '"' << pipeline::counter_name(i) << "\": " << c.v[i];
        first = false;
    }
    o << '}';
    return o.str();
}

}  // namespace farend::telemetry
