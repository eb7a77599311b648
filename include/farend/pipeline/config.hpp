// What farend is told to do: the options of the interface contract, validated. DPDK-free, so
// the option parser and the pipeline tests share it.
#pragma once

#include <farend/pipeline/keepalive.hpp>
#include <farend/rewrite/processor.hpp>

#include <bitset>
#include <cstdint>
#include <string>
#include <vector>

namespace farend::pipeline {

enum class MalformedAction : uint8_t { pass, drop };

struct PortPair {
    uint16_t access = 0;
    uint16_t core = 1;
};

struct Config {
    std::vector<PortPair> port_pairs{PortPair{}};
    std::vector<uint16_t> sip_ports{5060};
    rewrite::Options rewrite;  // NAT tests, private ranges, rewrites, Contact mode
    MalformedAction malformed = MalformedAction::pass;
    bool verify_checksums = true;     // --checksums verify: damaged datagrams are not rewritten
    uint32_t keepalive_interval = 0;  // seconds, 0 = off
    KeepaliveMethod keepalive_method = KeepaliveMethod::options;
    double exit_when_idle = 0;        // seconds without a received frame before stopping, 0 = never
    std::string stats_json;           // file for the final counters, "" = none
    uint16_t mtu = 1500;
    uint32_t flow_capacity = 65536;   // flows tracked per worker
    uint32_t mbufs = 0;               // the mbuf pool's size; 0 = what the ports' queues need
    // Rules as written (see farend/rules/rules.hpp): from --rule, then from the --config file's
    // "rule =" lines (re-read on SIGHUP).
    std::vector<std::string> cli_rules, file_rules;
    std::string config_file;  // --config, "" when none

    [[nodiscard]] std::vector<std::string> rules() const {
        std::vector<std::string> all = cli_rules;
        all.insert(all.end(), file_rules.begin(), file_rules.end());
        return all;
    }

    // One line per setting, "name = value", in option syntax (for /farend/config and the banner).
    [[nodiscard]] std::string describe() const;
    [[nodiscard]] std::bitset<65536> sip_port_set() const;
};

}  // namespace farend::pipeline
