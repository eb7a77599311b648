// The DPDK side: ports, mempool, the poll loop on worker lcores, TX buffering, shutdown.
// Start-up order as in DPDK's examples: rte_eal_init (by the caller) -> Dataplane::create
// (mempool, ports) -> run (launch workers, wait) -> destructor (stop and close ports).
#pragma once

#include <farend/flow/flow.hpp>
#include <farend/pipeline/config.hpp>
#include <farend/pipeline/counters.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace farend::dataplane {

// Set by SIGINT/SIGTERM (and by --exit-when-idle): every worker leaves its loop.
extern std::atomic<bool> g_stop;
// Set by SIGHUP: the rules are re-read (Dataplane::set_rules_source) and swapped in.
extern std::atomic<bool> g_reload;

class Dataplane {
public:
    // After rte_eal_init. nullptr and a message for the operator on error.
    static std::unique_ptr<Dataplane> create(const pipeline::Config& config, std::string* error);
    ~Dataplane();
    Dataplane(const Dataplane&) = delete;
    Dataplane& operator=(const Dataplane&) = delete;

    // Runs the workers until stopped. Returns 0, or non-zero if a worker failed.
    int run();
    // Stops and closes the ports (after run; the destructor does it too). Every mbuf should then
    // be back in its pool: resources() tells.
    void stop_ports();

    // What the ports dropped before farend saw a frame, what the pools hold, how full the flow
    // tables are: for /farend/resources, the final report and the overload and soak checks.
    struct PortStats {
        uint16_t port = 0;
        std::string driver;
        uint64_t rx_packets = 0, tx_packets = 0;
        uint64_t rx_missed = 0;  // no free RX descriptor (the device's FIFO overflowed): imissed
        uint64_t rx_nombuf = 0;  // no mbuf to refill an RX descriptor with (pool empty)
        uint64_t rx_errors = 0, tx_errors = 0;
        bool rx_checksum_offload = false;  // the port verifies UDP checksums on receipt (farend sums the rest)
        bool tx_checksum_offload = false;  // the port fills IPv4 and UDP checksums in on transmit
        // The link as the watch thread last read it (every kLinkPollMs; each change is logged)
        // and how often it changed since the port started. A driver that cannot tell (DPDK
        // 22.11's net_af_packet, net_pcap, net_null) says up.
        bool link_up = false;
        bool link_full_duplex = false;
        uint32_t link_speed_mbps = 0;  // 0: none, or unknown
        uint64_t link_changes = 0;
    };
    // How often the watch thread reads the ports' links.
    static constexpr unsigned kLinkPollMs = 250;
    // "link up, 10 Gbps, full-duplex" or "link DOWN".
    [[nodiscard]] static std::string link_text(const PortStats& p);
    struct PoolStats {
        std::string name;
        uint32_t size = 0, in_use = 0;
    };
    struct Resources {
        std::vector<PortStats> ports;  // empty after stop_ports()
        std::vector<PoolStats> pools;
        uint64_t flows = 0, flow_capacity = 0;  // summed over workers
        uint64_t worker_stalls = 0;  // times a worker did not come round its poll loop for a second
    };
    [[nodiscard]] Resources resources() const;

    // Counters summed over workers, and per worker lcore (read while running: plain loads of
    // single-writer counters).
    [[nodiscard]] pipeline::Counters totals() const;
    [[nodiscard]] std::vector<unsigned> worker_lcores() const;
    [[nodiscard]] bool lcore_counters(unsigned lcore, pipeline::Counters& out) const;
    [[nodiscard]] const pipeline::Config& config() const noexcept { return config_; }
    // The n most recently seen flows over all workers (copies), and how many there are.
    [[nodiscard]] std::vector<flow::Entry> flows(std::size_t n) const;
    [[nodiscard]] std::size_t flow_count() const;

    // Rules. The source gives the rules' texts anew (SIGHUP: --rule ones plus the config file's);
    // without one the configuration's are used. reload_rules builds the new table off the packet
    // path, swaps it in (workers read it once per burst) and frees the old one after every worker
    // passed a quiescent point (rte_rcu_qsbr): no packet waits and none is lost. On error the old
    // rules stay and the error is kept for /farend/rules.
    using RulesSource = std::function<std::optional<std::vector<std::string>>(std::string* error)>;
    void set_rules_source(RulesSource source);
    bool reload_rules(std::string* error);

    struct RuleInfo {
        std::string name, text;
        uint64_t hits = 0;
    };
    struct RulesReport {
        std::size_t count = 0;        // rules in force
        std::vector<RuleInfo> rules;  // rules first .. first+n-1 of them, in the order written
        uint64_t reloads = 0, reload_errors = 0;
        std::string last_error;
        double loaded_s_ago = 0;
    };
    [[nodiscard]] RulesReport rules_report(std::size_t first = 0, std::size_t n = 0) const;

    struct Impl;

private:
    explicit Dataplane(const pipeline::Config& config);
    pipeline::Config config_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace farend::dataplane
