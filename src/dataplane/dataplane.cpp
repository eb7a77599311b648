#include <farend/base/cacheline.hpp>
#include <farend/dataplane/dataplane.hpp>
#include <farend/dataplane/flow_table.hpp>
#include <farend/dataplane/log.hpp>
#include <farend/pipeline/worker.hpp>
#include <farend/rules/rules.hpp>

#include "numa.hpp"
#include "virtual_ports.hpp"
#include "worker_loop.hpp"

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip_frag.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

static_assert(RTE_CACHE_LINE_SIZE == farend::kCacheLine, "per-lcore blocks assume 64-byte cache lines");

namespace farend::dataplane {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

namespace {

// What every start-up allocation in DPDK's memory says when it fails.
constexpr const char* kMoreMemory = " (give EAL more memory: -m, or hugepages)";

// Receive and transmit descriptors a queue.
constexpr uint16_t kRxDesc = 1024;
constexpr uint16_t kTxDesc = 1024;
// Data room: a 1500-byte frame keeps ~2.5 KiB of tailroom to grow into when rewritten.
constexpr uint16_t kDataRoom = 4096 + RTE_PKTMBUF_HEADROOM;
// Jumbo buffers (kJumboRoom, worker_loop.hpp): as many as a pool of them holds.
constexpr unsigned kJumboCount = 255;
// IP reassembly (access->core): fragments of one datagram wait up to 2 s in a per-worker table.
// At most kFragMaxEntries datagrams wait at a time per worker, each holding up to
// RTE_LIBRTE_IP_FRAG_MAX_FRAG mbufs; the pool has room for all of them on top of the rings, so a
// flood of fragments that never complete cannot starve the ports of mbufs (beyond the limit,
// fragments go on as they came: fragments_passed).
constexpr uint32_t kFragBuckets = 1024, kFragBucketEntries = 8, kFragMaxEntries = 1024;
constexpr uint64_t kFragTimeoutMs = 2000;
// NAT keepalives: a flow is pinged while it sent a message within 3 intervals or a REGISTER
// within kRegisteredSeconds (the pings themselves: worker_loop.cpp).
constexpr uint64_t kRegisteredSeconds = 3600;

// The NUMA socket for a worker's own tables (flow table, reassembly table): its lcore's, when EAL
// has memory there; else any (--no-huge, or --socket-mem that leaves that socket out).
int memory_socket(unsigned lcore) {
    const unsigned socket = rte_lcore_to_socket_id(lcore);
    rte_malloc_socket_stats st{};
    if (socket < RTE_MAX_NUMA_NODES && rte_malloc_get_socket_stats(static_cast<int>(socket), &st) == 0 &&
        st.heap_totalsz_bytes > 0)
        return static_cast<int>(socket);
    return SOCKET_ID_ANY;
}

// Every worker's flow table, for alias re-targeting: the agent's flow may live on another worker
// (RSS hashes the switch's packet to it by other addresses). rte_hash readers are lock-free.
class Directory final : public pipeline::FlowDirectory {
public:
    std::vector<const FlowTable*> tables;
    [[nodiscard]] bool known(const flow::Key& key) const noexcept override {
        for (const FlowTable* t : tables)
            if (t->contains(key)) return true;
        return false;
    }
};

// A flag per port id (the checksum offloads, started), set for port p; port_flag() reads it.
void set_port_flag(std::vector<bool>& flags, uint16_t p) {
    if (flags.size() <= p) flags.resize(p + 1u, false);
    flags[p] = true;
}

// The mbuf pools of the workers on one NUMA socket: their ports' receive queues fill mbufs of
// `pool`, their keepalives, jumbo copies and fragments come from it, so that a worker receives
// into its own socket's memory (where EAL has memory there: else socket is SOCKET_ID_ANY).
struct PoolSet {
    int socket = SOCKET_ID_ANY;
    unsigned workers = 0;
    rte_mempool* pool = nullptr;
    rte_mempool* jumbo = nullptr;
    rte_mempool* indirect = nullptr;  // for rte_ip*_fragment_packet

    // Its three pools, n packet mbufs. The only set keeps the plain names; one of several is told
    // apart by its socket (_s<N>, _sany), in its names and in what it says when it cannot be made.
    bool create(unsigned n, bool only, std::string* error) {
        const std::string suffix = only ? std::string()
                                   : socket == SOCKET_ID_ANY ? std::string("_sany") : "_s" + std::to_string(socket);
        const std::string where = only ? std::string() : " on " + socket_name(socket);
        pool = rte_pktmbuf_pool_create(("farend_mbufs" + suffix).c_str(), n, 256, 0, kDataRoom, socket);
        if (!pool) {
            *error = "cannot create the mbuf pool" + where + ": " + std::to_string(n) + " mbufs of " +
                     std::to_string(kDataRoom + sizeof(rte_mbuf)) + " bytes (" +
                     std::to_string((uint64_t{n} * (kDataRoom + sizeof(rte_mbuf))) >> 20) +
                     " MiB) needed: " + rte_strerror(rte_errno) + kMoreMemory;
            return false;
        }
        jumbo = rte_pktmbuf_pool_create(("farend_jumbo" + suffix).c_str(), kJumboCount, 32, 0, kJumboRoom, socket);
        if (!jumbo) {
            *error = "cannot create the jumbo mbuf pool" + where + ": " + std::to_string(kJumboCount) +
                     " mbufs of 64 KiB (" +
                     std::to_string((uint64_t{kJumboCount} * (kJumboRoom + sizeof(rte_mbuf))) >> 20) + " MiB) needed: " +
                     rte_strerror(rte_errno) + kMoreMemory;
            return false;
        }
        indirect = rte_pktmbuf_pool_create(("farend_indirect" + suffix).c_str(), 4095, 64, 0, 0, socket);
        if (!indirect) {
            *error = "cannot create the indirect mbuf pool for IP fragmentation" + where + ": " + rte_strerror(rte_errno);
            return false;
        }
        return true;
    }
};

}  // namespace

struct Dataplane::Impl {
    std::vector<PoolSet> pool_sets;   // one per socket with a worker (memory_socket), in the workers' order
    std::vector<bool> csum_offload;   // per port id: IPv4 and UDP checksums on transmit
    std::vector<bool> rx_csum_offload;  // per port id: UDP checksums verified on receipt
    std::vector<uint16_t> ports;      // cleared by stop_ports(), under ports_mutex (telemetry reads it)
    std::vector<bool> started;        // per port id: rte_eth_dev_start succeeded (stop_ports stops only those)
    // Each port's link as last read (poll_links), beside ports and under the same mutex.
    struct Link {
        rte_eth_link link{};
        uint64_t changes = 0;
    };
    std::vector<Link> links;
    AfPacketPorts af_packet;  // beside ports and under the same mutex
    mutable std::mutex ports_mutex;
    std::atomic<uint64_t> worker_stalls{0};  // times a worker did not come round its loop for kStallMs
    std::atomic<bool> said_ready{false};     // READY=1 sent to systemd (watch_loop)
    std::vector<Path> paths;
    std::vector<int32_t> peer_of;     // per port id: the other port of its pair, -1 for ports in no pair
    std::vector<std::unique_ptr<WorkerState>> workers;
    Directory directory;
    int rc = 0;
    // Rules: workers load `rules` once per burst and report a quiescent state every loop; the
    // control plane (reload, telemetry) holds rules_mutex while it swaps, frees or reads them.
    std::atomic<rewrite::PolicySource*> rules{nullptr};
    std::unique_ptr<rules::RuleSet> rules_owned;
    mutable std::mutex rules_mutex;
    rte_rcu_qsbr* qsbr = nullptr;
    RulesSource rules_source;
    uint64_t reloads = 0, reload_errors = 0, rules_loaded_at = 0;
    std::string last_reload_error;
};

Dataplane::Dataplane(const pipeline::Config& config) : config_(config), impl_(std::make_unique<Impl>()) {}

void Dataplane::stop_ports() {
    std::lock_guard<std::mutex> lock(impl_->ports_mutex);
    impl_->af_packet.forget();  // before the ports close: their descriptors may then be reused
    for (uint16_t p : impl_->ports) {
        // A port set up no further than a refusal at start is not stopped (DPDK would say
        // "already stopped"), only closed.
        if (port_flag(impl_->started, p)) rte_eth_dev_stop(p);
        rte_eth_dev_close(p);
    }
    impl_->ports.clear();
    impl_->links.clear();
}

namespace {

// A port's driver, as DPDK names it ("net_ixgbe"); empty when DPDK cannot say.
std::string driver_of(uint16_t port) {
    rte_eth_dev_info info{};
    return rte_eth_dev_info_get(port, &info) == 0 && info.driver_name ? info.driver_name : "";
}

// A link as PortStats has it (a driver's unknown speed as 0).
void fill_link(Dataplane::PortStats& ps, const rte_eth_link& l) {
    ps.link_up = l.link_status == RTE_ETH_LINK_UP;
    ps.link_full_duplex = l.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
    ps.link_speed_mbps = l.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : l.link_speed;
}

// Reads every port's link (rte_eth_link_get_nowait: no waiting for auto-negotiation) and says
// each change on stderr, as a carrier engineer's logs want it: a port whose link went down loses
// what farend sends to it until it comes back.
void poll_links(Dataplane::Impl& im) {
    std::lock_guard<std::mutex> lock(im.ports_mutex);
    im.af_packet.drain();  // the kernel's count is 32 bits: read it often
    for (std::size_t i = 0; i < im.ports.size() && i < im.links.size(); ++i) {
        rte_eth_link now{};
        if (im.af_packet.read_link(im.ports[i], &now) != 0) continue;
        auto& was = im.links[i];
        const bool changed = now.link_status != was.link.link_status;
        was.link = now;  // a speed renegotiated on a link that stayed up is not a change
        if (!changed) continue;
        ++was.changes;
        Dataplane::PortStats ps;
        fill_link(ps, now);
        log::say(now.link_status ? log::Level::notice : log::Level::warning, "port %u (%s): %s",
                 static_cast<unsigned>(im.ports[i]), driver_of(im.ports[i]).c_str(), Dataplane::link_text(ps).c_str());
    }
}

// A worker that has not come round its poll loop for this long is stalled: its queues are not
// read (a driver call that blocks, or a fault). systemd's watchdog is then no longer fed.
constexpr auto kStallTime = std::chrono::milliseconds(1000);
constexpr auto kWatchTick = std::chrono::milliseconds(100);
// How often systemd's STATUS (systemctl status) is given the totals.
constexpr auto kStatusEvery = std::chrono::seconds(5);

// The watch thread: the ports' links (poll_links), each worker's progress (its loop counter, a
// single writer's plain load, as telemetry reads it), and systemd's notifications (sd_notify:
// no-ops unless farend runs as a Type=notify service): READY=1 once every worker runs,
// WATCHDOG=1 at half the unit's WatchdogSec while none is stalled, a STATUS with the totals
// every kStatusEvery, STOPPING=1 at the end. A thread of its own, so that a long rule reload
// (the control thread's) never starves the watchdog.
void watch_loop(const Dataplane& dp, Dataplane::Impl& im) {
    using clock = std::chrono::steady_clock;
    struct Progress {
        uint64_t loops = 0;
        clock::time_point since{};
        bool stalled = false;
    };
    std::vector<Progress> progress(im.workers.size());
    uint64_t watchdog_usec = 0;
    const bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0;
    const auto ping_every = std::chrono::microseconds(watchdog_usec / 2);
    auto next_link_poll = clock::now(), next_ping = clock::now(), next_status = clock::now() + kStatusEvery;
    while (!g_stop.load()) {
        const auto now = clock::now();
        if (now >= next_link_poll) {
            poll_links(im);
            next_link_poll = now + std::chrono::milliseconds(Dataplane::kLinkPollMs);
        }
        bool all_started = true, any_stalled = false;
        for (std::size_t i = 0; i < im.workers.size(); ++i) {
            const WorkerState& w = *im.workers[i];
            Progress& p = progress[i];
            const uint64_t loops = w.worker->counters().get(pipeline::Counter::loops);
            if (loops == 0) {  // not started yet
                all_started = false;
                continue;
            }
            if (loops != p.loops) {  // moved on (or seen running for the first time: p.loops was 0)
                if (p.stalled)
                    log::say(log::Level::notice, "worker lcore %u runs again after %.1f s", w.lcore,
                             std::chrono::duration<double>(now - p.since).count());
                p = {loops, now, false};
                continue;
            }
            if (now - p.since < kStallTime) continue;
            any_stalled = true;
            if (!p.stalled) {
                p.stalled = true;
                im.worker_stalls.fetch_add(1);
                log::say(log::Level::warning, "warning: worker lcore %u has not come round its loop for %.1f s: its "
                         "queues are not read (a driver call that blocks, or a fault); under systemd the watchdog "
                         "restarts farend if it lasts",
                         w.lcore, std::chrono::duration<double>(now - p.since).count());
            }
        }
        if (all_started && !im.said_ready.exchange(true))
            sd_notifyf(0, "READY=1\nSTATUS=forwarding: %zu port(s), %zu worker lcore(s)", im.ports.size(),
                       im.workers.size());
        const bool ready = im.said_ready.load();
        if (ready && now >= next_status) {
            const pipeline::Counters t = dp.totals();
            using pipeline::Counter;
            sd_notifyf(0,
                       "STATUS=forwarding: %zu port(s), %zu worker lcore(s); %llu frames in, %llu SIP, %llu "
                       "rewritten, %llu dropped, %llu worker stall(s)",
                       im.ports.size(), im.workers.size(), static_cast<unsigned long long>(t.get(Counter::rx_packets)),
                       static_cast<unsigned long long>(t.get(Counter::sip_messages)),
                       static_cast<unsigned long long>(t.get(Counter::rewritten)),
                       static_cast<unsigned long long>(t.get(Counter::dropped)),
                       static_cast<unsigned long long>(im.worker_stalls.load()));
            next_status = now + kStatusEvery;
        }
        if (watchdog && ready && !any_stalled && now >= next_ping) {
            sd_notify(0, "WATCHDOG=1");
            next_ping = now + ping_every;
        }
        std::this_thread::sleep_for(kWatchTick);
    }
    sd_notify(0, "STOPPING=1");
}

}  // namespace

std::string Dataplane::link_text(const PortStats& p) {
    if (!p.link_up) return "link DOWN";
    std::string t = "link up";
    if (const uint32_t m = p.link_speed_mbps; m >= 1000 && m % 1000 == 0)
        t += ", " + std::to_string(m / 1000) + " Gbps";
    else if (m)
        t += ", " + std::to_string(m) + " Mbps";
    return t + (p.link_full_duplex ? ", full-duplex" : ", half-duplex");
}

Dataplane::Resources Dataplane::resources() const {
    Impl& im = *impl_;  // the kernel rings' counts are read (and reset) into it
    Resources r;
    std::lock_guard<std::mutex> lock(im.ports_mutex);
    im.af_packet.drain();
    for (std::size_t i = 0; i < im.ports.size(); ++i) {  // each once: --port-pair refuses a port in two pairs
        const uint16_t p = im.ports[i];
        PortStats ps;
        ps.port = p;
        ps.driver = driver_of(p);
        if (i < im.links.size()) {
            fill_link(ps, im.links[i].link);
            ps.link_changes = im.links[i].changes;
        }
        ps.rx_checksum_offload = port_flag(im.rx_csum_offload, p);
        ps.tx_checksum_offload = port_flag(im.csum_offload, p);
        rte_eth_stats st{};
        if (rte_eth_stats_get(p, &st) == 0) {
            ps.rx_packets = st.ipackets;
            ps.tx_packets = st.opackets;
            ps.rx_missed = st.imissed + im.af_packet.drops(p);
            ps.rx_nombuf = st.rx_nombuf;
            ps.rx_errors = st.ierrors;
            ps.tx_errors = st.oerrors;
        }
        r.ports.push_back(std::move(ps));
    }
    for (const PoolSet& ps : im.pool_sets)
        for (const rte_mempool* mp : {ps.pool, ps.jumbo, ps.indirect}) {
            if (!mp) continue;
            // avail_count includes the mbufs parked in the lcores' caches.
            const unsigned avail = rte_mempool_avail_count(mp);
            r.pools.push_back({mp->name, mp->size, mp->size > avail ? mp->size - avail : 0});
        }
    r.worker_stalls = im.worker_stalls.load();
    for (const auto& w : im.workers) {
        r.flows += w->flows->size();
        r.flow_capacity += w->flows->capacity();
    }
    return r;
}

Dataplane::~Dataplane() {
    stop_ports();
    for (auto& w : impl_->workers) {
        for (auto* b : w->tx) rte_free(b);
        if (w->frag_table) {
            rte_ip_frag_free_death_row(&w->death_row, 0);
            rte_ip_frag_table_destroy(w->frag_table);
        }
    }
    impl_->rules.store(nullptr);
    impl_->rules_owned.reset();
    if (impl_->qsbr) rte_free(impl_->qsbr);
    for (const PoolSet& ps : impl_->pool_sets) {
        if (ps.indirect) rte_mempool_free(ps.indirect);
        if (ps.pool) rte_mempool_free(ps.pool);
        if (ps.jumbo) rte_mempool_free(ps.jumbo);
    }
}

namespace {

// The --vdev devices that gave no port: EAL goes on when a virtual device fails to start (an
// rx_pcap file that does not open, an af_packet interface that does not exist), and its driver
// says why among EAL's messages. "--vdev net_pcap0 did not start (its driver says why above)",
// or "" when every one gave a port.
std::string vdevs_not_started() {
    std::vector<std::string> started;
    for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; ++p) {
        rte_eth_dev_info info{};
        if (rte_eth_dev_is_valid_port(p) && rte_eth_dev_info_get(p, &info) == 0 && info.device)
            started.emplace_back(rte_dev_name(info.device));
    }
    std::string names;
    unsigned count = 0;
    const rte_devargs* da;
    RTE_EAL_DEVARGS_FOREACH("vdev", da) {
        if (std::find(started.begin(), started.end(), da->name) != started.end()) continue;
        names += (count++ ? ", " : "") + std::string(da->name);
    }
    if (count == 0) return {};
    return "--vdev " + names + (count == 1 ? " did not start (its driver says why above)" : " did not start (their drivers say why above)");
}

}  // namespace

std::unique_ptr<Dataplane> Dataplane::create(const pipeline::Config& config, std::string* error) {
    std::unique_ptr<Dataplane> dp(new Dataplane(config));
    Impl& im = *dp->impl_;
    const uint16_t avail = rte_eth_dev_count_avail();
    if (avail == 0) {
        const std::string not_started = vdevs_not_started();
        *error = not_started.empty() ? "no ports: bind NICs with dpdk-devbind.py (vfio-pci) or give virtual devices with --vdev"
                                     : "no ports: " + not_started;
        return nullptr;
    }
    for (const auto& pp : config.port_pairs) {
        for (uint16_t p : {pp.access, pp.core}) {
            if (!rte_eth_dev_is_valid_port(p)) {
                const std::string not_started = vdevs_not_started();
                *error = "--port-pair " + std::to_string(pp.access) + ":" + std::to_string(pp.core) + ": port " +
                         std::to_string(p) + " does not exist (" + std::to_string(avail) + " port(s) found" +
                         (not_started.empty() ? "" : "; " + not_started) + ")";
                return nullptr;
            }
            im.ports.push_back(p);
        }
        im.paths.push_back({pp.access, pp.core, pipeline::Direction::access_to_core});
        if (const uint16_t top = std::max(pp.access, pp.core); im.peer_of.size() <= top) im.peer_of.resize(top + 1u, -1);
        im.peer_of[pp.access] = pp.core;
        im.peer_of[pp.core] = pp.access;
        im.paths.push_back({pp.core, pp.access, pipeline::Direction::core_to_access});
    }
    if (avail % 2 != 0 && config.port_pairs.size() * 2 != avail)
        log::say(log::Level::warning, "warning: %u ports found, an odd number; ports outside --port-pair are unused",
                 static_cast<unsigned>(avail));

    // Workers: every worker lcore; with none (-l N), the main lcore does the work. Each worker
    // owns queue q of every port; RSS (symmetric key) spreads flows over the queues so that both
    // directions of a flow meet on one worker.
    std::vector<unsigned> lcores;
    unsigned l;
    RTE_LCORE_FOREACH_WORKER(l) lcores.push_back(l);
    if (lcores.empty()) lcores.push_back(rte_get_main_lcore());
    // As many workers as every port has queues for: a single-queue virtual device runs one.
    uint16_t max_q = UINT16_MAX;
    for (uint16_t p : im.ports) {
        rte_eth_dev_info info{};
        if (rte_eth_dev_info_get(p, &info) == 0) max_q = std::min({max_q, info.max_rx_queues, info.max_tx_queues});
    }
    if (max_q == 0) max_q = 1;
    const std::size_t lcores_given = lcores.size();
    if (lcores.size() > max_q) {
        std::string idle;
        for (std::size_t i = max_q; i < lcores.size(); ++i) {
            idle.push_back(' ');
            idle.append(std::to_string(lcores[i]));
        }
        log::say(log::Level::warning,
                 "warning: the ports have %u queue(s) each at most, so %u worker(s) run; lcore(s)%s stay idle",
                 static_cast<unsigned>(max_q), static_cast<unsigned>(max_q), idle.c_str());
        lcores.resize(max_q);
    }
    const auto nq = static_cast<uint16_t>(lcores.size());

    // What the queues hold at most (every receive and transmit descriptor, a burst in hand each
    // way), the keepalives' and copies' slack, and the fragments reassembly may keep waiting.
    const unsigned need =
        static_cast<unsigned>(im.ports.size()) * nq * (kRxDesc + kTxDesc + 2u * kBurst) + 1024u * nq +
        kFragMaxEntries * RTE_LIBRTE_IP_FRAG_MAX_FRAG * nq;
    if (config.mbufs != 0 && config.mbufs < need) {
        *error = "--mbufs " + std::to_string(config.mbufs) + " is fewer than the " + std::to_string(need) + " mbufs " +
                 std::to_string(im.ports.size()) + " ports with " + std::to_string(nq) +
                 " queue(s) each need (descriptors, bursts, reassembly)";
        return nullptr;
    }
    // One set of pools per NUMA socket the workers run on, each sized for its own workers; --mbufs
    // is shared among the sets as the workers are (each share then covers its workers' need).
    std::vector<std::size_t> set_of(nq);
    for (uint16_t q = 0; q < nq; ++q) {
        const int socket = memory_socket(lcores[q]);
        std::size_t i = 0;
        while (i < im.pool_sets.size() && im.pool_sets[i].socket != socket) ++i;
        if (i == im.pool_sets.size()) im.pool_sets.push_back({socket});
        ++im.pool_sets[i].workers;
        set_of[q] = i;
    }
    const unsigned nb_mbufs = config.mbufs != 0 ? config.mbufs : need;
    unsigned shared = 0;
    for (std::size_t i = 0; i < im.pool_sets.size(); ++i) {
        PoolSet& ps = im.pool_sets[i];
        const unsigned n = i + 1 == im.pool_sets.size() ? nb_mbufs - shared
                                                        : static_cast<unsigned>(uint64_t{nb_mbufs} * ps.workers / nq);
        shared += n;
        if (!ps.create(n, im.pool_sets.size() == 1, error)) return nullptr;
    }
    if (im.pool_sets.size() > 1) {
        std::string line = "farend: mbuf pools per NUMA socket:";
        for (std::size_t i = 0; i < im.pool_sets.size(); ++i) {
            const PoolSet& ps = im.pool_sets[i];
            line += i ? "; " : " ";
            line += socket_name(ps.socket) + " (" + std::string(ps.pool->name) + ", " + std::to_string(ps.pool->size) + " mbufs) for lcore(s)";
            for (uint16_t q = 0; q < nq; ++q)
                if (set_of[q] == i) line += " " + std::to_string(lcores[q]);
        }
        std::printf("%s\n", line.c_str());
    }
    for (uint16_t p : im.ports) {
        rte_eth_conf conf{};
        rte_eth_dev_info info{};
        if (rte_eth_dev_info_get(p, &info) != 0) {
            *error = "port " + std::to_string(p) + ": cannot read device info";
            return nullptr;
        }
        if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
            *error = "port " + std::to_string(p) + " (" + info.driver_name + ") has " + std::to_string(info.max_rx_queues) +
                     " RX / " + std::to_string(info.max_tx_queues) + " TX queues, fewer than the " + std::to_string(nq) +
                     " worker lcores: give fewer lcores with -l (one worker per queue)";
            return nullptr;
        }
        if (std::string refused = unread_queues_error(p, info, nq, lcores_given); !refused.empty()) {
            *error = std::move(refused);
            return nullptr;
        }
        af_packet_note(p, info);
        static uint8_t symmetric_key[40];  // 0x6d5a repeated: Toeplitz gives both directions one hash
        for (std::size_t k = 0; k < sizeof symmetric_key; k += 2) {
            symmetric_key[k] = 0x6d;
            symmetric_key[k + 1] = 0x5a;
        }
        const uint64_t rss = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
        if (nq > 1 && rss) {
            conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_key = symmetric_key;
            conf.rx_adv_conf.rss_conf.rss_key_len = sizeof symmetric_key;
            conf.rx_adv_conf.rss_conf.rss_hf = rss;
        } else if (nq > 1) {
            log::say(log::Level::notice, "port %u (%s) has no RSS: each of its %u queues is read by one worker as the "
                     "device fills it", static_cast<unsigned>(p), info.driver_name, static_cast<unsigned>(nq));
        }
        // UDP checksums verified on receipt where the port can: farend then sums only those the
        // port did not find right (a damaged datagram is never rewritten: Worker::damaged).
        constexpr uint64_t kRxCsum = RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
        if ((info.rx_offload_capa & kRxCsum) == kRxCsum) {
            conf.rxmode.offloads |= kRxCsum;
            set_port_flag(im.rx_csum_offload, p);
        }
        // Checksums on transmit where the port can: the rewrite then leaves them to the NIC.
        constexpr uint64_t kCsum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
        if ((info.tx_offload_capa & kCsum) == kCsum) {
            conf.txmode.offloads |= kCsum;
            set_port_flag(im.csum_offload, p);
        }
        int r = rte_eth_dev_configure(p, nq, nq, &conf);
        uint16_t rxd = kRxDesc, txd = kTxDesc;
        if (r == 0) r = rte_eth_dev_adjust_nb_rx_tx_desc(p, &rxd, &txd);
        for (uint16_t q = 0; q < nq && r == 0; ++q) {
            r = rte_eth_rx_queue_setup(p, q, rxd, rte_eth_dev_socket_id(p), nullptr, im.pool_sets[set_of[q]].pool);
            if (r == 0) r = rte_eth_tx_queue_setup(p, q, txd, rte_eth_dev_socket_id(p), nullptr);
        }
        if (r == 0 && (r = rte_eth_dev_start(p)) == 0) set_port_flag(im.started, p);
        if (r != 0) {
            *error = "port " + std::to_string(p) + " (" + info.driver_name + "): cannot be set up: " + rte_strerror(-r);
            return nullptr;
        }
        rte_eth_promiscuous_enable(p);  // a bump in the wire forwards every frame; vdevs may refuse
    }
    im.af_packet.find(im.ports);
    // The links as they are now (a NIC may still be negotiating: poll_links says when it comes up).
    for (uint16_t p : im.ports) {
        Impl::Link pl;
        im.af_packet.read_link(p, &pl.link);
        im.links.push_back(pl);
    }

    // A port polled from another NUMA socket than its own: each frame, descriptor and register
    // access crosses the sockets' link. It works; a carrier engineer wants to know (DPDK's own
    // tools say so too). Ports of unknown socket (-1: virtual devices, or no NUMA) say nothing.
    for (uint16_t p : im.ports) {
        const int socket = rte_eth_dev_socket_id(p);
        if (socket < 0) continue;
        std::string remote;
        for (unsigned lc : lcores)
            if (const unsigned lcore_socket = rte_lcore_to_socket_id(lc); lcore_socket != static_cast<unsigned>(socket))
                remote += " " + std::to_string(lc) + " (socket " + std::to_string(lcore_socket) + ")";
        if (!remote.empty())
            log::say(log::Level::warning, "warning: port %u is on NUMA socket %d and polled by worker lcore(s)%s: its "
                     "frames cross the sockets' link; give -l lcores of socket %d, or put the NIC in a slot of theirs",
                     static_cast<unsigned>(p), socket, remote.c_str(), socket);
    }

    const uint64_t frag_cycles = (rte_get_tsc_hz() + 999) / 1000 * kFragTimeoutMs;
    uint16_t max_port = 0;
    for (uint16_t p : im.ports) max_port = std::max(max_port, p);
    for (uint16_t q = 0; q < nq; ++q) {
        auto ws = std::make_unique<WorkerState>();
        ws->lcore = lcores[q];
        ws->queue = q;
        ws->pools = set_of[q];
        ws->worker = std::make_unique<pipeline::Worker>(dp->config_);
        ws->tx.assign(max_port + 1u, nullptr);
        for (uint16_t p : im.ports) {
            auto* b = static_cast<rte_eth_dev_tx_buffer*>(
                rte_zmalloc_socket("farend_tx", RTE_ETH_TX_BUFFER_SIZE(kBurst), 0, rte_eth_dev_socket_id(p)));
            if (!b || rte_eth_tx_buffer_init(b, kBurst) != 0 ||
                rte_eth_tx_buffer_set_err_callback(b, rte_eth_tx_buffer_count_callback, &ws->tx_dropped) != 0) {
                *error = "cannot allocate the TX buffers of worker lcore " + std::to_string(ws->lcore) +
                         kMoreMemory;
                return nullptr;
            }
            ws->tx[p] = b;
        }
        const int socket = im.pool_sets[ws->pools].socket;  // memory_socket(ws->lcore), chosen once above
        ws->frag_table = rte_ip_frag_table_create(kFragBuckets, kFragBucketEntries, kFragMaxEntries, frag_cycles, socket);
        if (!ws->frag_table) {
            *error = "cannot create the IP reassembly table of worker lcore " + std::to_string(ws->lcore) + " on " +
                     socket_name(socket) + ", " + std::to_string(kFragBuckets * kFragBucketEntries) +
                     " entries" + kMoreMemory;
            return nullptr;
        }
        ws->flows = FlowTable::create("farend_flows_" + std::to_string(ws->lcore), config.flow_capacity, socket, error);
        if (!ws->flows) return nullptr;
        if (config.keepalive_interval) {
            const uint64_t hz = rte_get_tsc_hz();
            FlowTable::KeepalivePolicy kp;
            kp.interval = config.keepalive_interval * hz;
            kp.active = 3 * kp.interval;
            kp.registered = kRegisteredSeconds * hz;
            kp.max_unanswered = config.keepalive_method == pipeline::KeepaliveMethod::options ? pipeline::kKeepaliveMaxUnanswered : 0;
            ws->flows->set_keepalive(kp);
        }
        im.directory.tables.push_back(ws->flows.get());
        ws->worker->set_flow_directory(&im.directory);
        ws->worker->set_rules(&im.rules, q);
        im.workers.push_back(std::move(ws));
    }
    const std::size_t qsz = rte_rcu_qsbr_get_memsize(nq);
    im.qsbr = static_cast<rte_rcu_qsbr*>(rte_zmalloc("farend_rcu", qsz, RTE_CACHE_LINE_SIZE));
    if (!im.qsbr || rte_rcu_qsbr_init(im.qsbr, nq) != 0) {
        *error = "cannot set up RCU for the rules (rte_rcu_qsbr)";
        return nullptr;
    }
    if (!config.cli_rules.empty() || !config.file_rules.empty()) {
        std::string why;
        if (!dp->reload_rules(&why)) {
            *error = "rules: " + why;
            return nullptr;
        }
        im.reloads = 0;  // the first load is no reload
    }
    return dp;
}
int Dataplane::run() {
    Impl& im = *impl_;
    std::vector<LoopArgs> args;
    args.reserve(im.workers.size());
    for (auto& w : im.workers) {
        const PoolSet& ps = im.pool_sets[w->pools];
        args.push_back({&im.csum_offload, &im.peer_of, w.get(), &im.paths, &config_, ps.jumbo, ps.pool, ps.indirect, im.qsbr});
    }
    // The control thread: rule reloads on SIGHUP, off the workers' lcores; the watch thread:
    // links, the workers' progress and systemd's notifications.
    std::thread watch([this] { watch_loop(*this, *impl_); });
    std::thread control([this] {
        while (!g_stop.load()) {
            if (g_reload.exchange(false)) {
                // systemd shows the unit reloading until READY=1 again (once it was ready at all).
                const bool notify = impl_->said_ready.load();
                if (notify) sd_notify(0, "RELOADING=1\nSTATUS=reloading the rules");
                std::string why;
                if (reload_rules(&why)) {
                    const std::size_t n = rules_report().count;
                    log::say(log::Level::notice, "rules reloaded: %zu rule(s)", n);
                    if (notify) sd_notifyf(0, "READY=1\nSTATUS=rules reloaded: %zu rule(s)", n);
                } else {
                    log::say(log::Level::err, "rules NOT reloaded, the previous ones stay: %s", why.c_str());
                    if (notify)
                        sd_notify(0, "READY=1\nSTATUS=rules NOT reloaded, the previous ones stay (see the journal)");
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    const unsigned main = rte_get_main_lcore();
    int rc = 0;
    // Workers on other lcores count themselves out when their loop ends.
    std::atomic<unsigned> remote{0};
    for (auto& a : args) {
        if (a.ws->lcore == main) continue;
        a.remote = &remote;
        remote.fetch_add(1);
        if (rte_eal_remote_launch(remote_worker_loop, &a, a.ws->lcore) != 0) {
            remote.fetch_sub(1);
            log::say(log::Level::err, "cannot launch the worker on lcore %u", a.ws->lcore);
            g_stop.store(true);
            rc = 1;
        }
    }
    for (auto& a : args)
        if (a.ws->lcore == main) worker_loop(&a);
    // A main lcore without a worker sleeps until the workers end: rte_eal_mp_wait_lcore() spins
    // (rte_pause), which kept a whole CPU busy doing nothing, beside the workers, for as long as
    // farend ran. It then only collects the lcores' states.
    while (remote.load() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    rte_eal_mp_wait_lcore();
    control.join();
    watch.join();
    return rc;
}

void Dataplane::set_rules_source(RulesSource source) { impl_->rules_source = std::move(source); }

bool Dataplane::reload_rules(std::string* error) {
    Impl& im = *impl_;
    auto fail = [&](const std::string& why) {
        std::lock_guard<std::mutex> lock(im.rules_mutex);
        ++im.reload_errors;
        im.last_reload_error = why;
        *error = why;
        return false;
    };
    std::string why;
    std::optional<std::vector<std::string>> texts = im.rules_source ? im.rules_source(&why) : config_.rules();
    if (!texts) return fail(why);
    auto specs = rules::parse_rules(*texts, &why);
    if (!specs) return fail(why);
    std::unique_ptr<rules::RuleSet> fresh;
    if (!specs->empty()) {
        fresh = rules::RuleSet::build(std::move(*specs), config_.rewrite, static_cast<unsigned>(im.workers.size()), &why);
        if (!fresh) return fail(why);
    }
    std::lock_guard<std::mutex> lock(im.rules_mutex);
    im.rules.store(fresh.get(), std::memory_order_release);
    // Every worker has been through a quiescent point (between two loops) after the store:
    // none still holds the old table.
    rte_rcu_qsbr_synchronize(im.qsbr, RTE_QSBR_THRID_INVALID);
    im.rules_owned = std::move(fresh);
    ++im.reloads;
    im.rules_loaded_at = rte_rdtsc();
    return true;
}

Dataplane::RulesReport Dataplane::rules_report(std::size_t first, std::size_t n) const {
    const Impl& im = *impl_;
    std::lock_guard<std::mutex> lock(im.rules_mutex);
    RulesReport r;
    r.reloads = im.reloads;
    r.reload_errors = im.reload_errors;
    r.last_error = im.last_reload_error;
    if (im.rules_loaded_at)
        r.loaded_s_ago = static_cast<double>(rte_rdtsc() - im.rules_loaded_at) / static_cast<double>(rte_get_tsc_hz());
    if (const rules::RuleSet* rs = im.rules_owned.get()) {
        r.count = rs->size();
        for (std::size_t i = first; i < rs->size() && i - first < n; ++i)
            r.rules.push_back({rs->spec(i).name, rs->spec(i).text, rs->hits(i)});
    }
    return r;
}

pipeline::Counters Dataplane::totals() const {
    pipeline::Counters t;
    for (const auto& w : impl_->workers) t += w->worker->counters();
    t.settle();
    return t;
}

std::vector<unsigned> Dataplane::worker_lcores() const {
    std::vector<unsigned> out;
    for (const auto& w : impl_->workers) out.push_back(w->lcore);
    return out;
}

std::vector<flow::Entry> Dataplane::flows(std::size_t n) const {
    std::vector<flow::Entry> all;
    for (const auto& w : impl_->workers) {
        auto part = w->flows->snapshot(n);
        all.insert(all.end(), part.begin(), part.end());
    }
    std::sort(all.begin(), all.end(), [](const flow::Entry& a, const flow::Entry& b) { return a.last_seen > b.last_seen; });
    if (all.size() > n) all.resize(n);
    return all;
}

std::size_t Dataplane::flow_count() const {
    std::size_t n = 0;
    for (const auto& w : impl_->workers) n += w->flows->size();
    return n;
}

bool Dataplane::lcore_counters(unsigned lcore, pipeline::Counters& out) const {
    for (const auto& w : impl_->workers)
        if (w->lcore == lcore) {
            out = w->worker->counters().settled();
            return true;
        }
    return false;
}

}  // namespace farend::dataplane
