#include <farend/base/cacheline.hpp>
#include <farend/dataplane/dataplane.hpp>
#include <farend/dataplane/flow_table.hpp>
#include <farend/net/frame.hpp>
#include <farend/pipeline/worker.hpp>
#include <farend/rules/rules.hpp>

#include <rte_cycles.h>
#include <rte_eal.h>
#define ALLOW_EXPERIMENTAL_API 1  // rte_ip_frag_table_del_expired_entries (see expire_fragments)
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

static_assert(RTE_CACHE_LINE_SIZE == farend::kCacheLine, "per-lcore blocks assume 64-byte cache lines");

namespace farend::dataplane {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

namespace {

constexpr uint16_t kBurst = 32;
static_assert(kBurst <= pipeline::Worker::kMaxBurst);
constexpr uint16_t kRxDesc = 1024;
constexpr uint16_t kTxDesc = 1024;
// Data room: a 1500-byte frame keeps ~2.5 KiB of tailroom to grow into when rewritten.
constexpr uint16_t kDataRoom = 4096 + RTE_PKTMBUF_HEADROOM;
constexpr uint64_t kTxDrainUs = 100;
// Jumbo buffers: a frame that arrives in several segments, or whose rewrite outgrows its mbuf,
// is copied into one of these (the largest data room an mbuf can have).
constexpr uint16_t kJumboRoom = 65535;
constexpr unsigned kJumboCount = 255;
// IP reassembly (access->core): fragments of one datagram wait up to 2 s in a per-worker table.
// At most kFragMaxEntries datagrams wait at a time per worker, each holding up to
// RTE_LIBRTE_IP_FRAG_MAX_FRAG mbufs; the pool has room for all of them on top of the rings, so a
// flood of fragments that never complete cannot starve the ports of mbufs (beyond the limit,
// fragments go on as they came: fragments_passed).
constexpr uint32_t kFragBuckets = 1024, kFragBucketEntries = 8, kFragMaxEntries = 1024;
constexpr uint64_t kFragTimeoutMs = 2000;
constexpr uint16_t kMaxFragmentsOut = 64;
// Flow table: sources tracked per worker (--flow-capacity), aged out after 10 minutes without a
// SIP message; the ageing looks at kAgeBudget slots every kAgeEvery poll loops.
constexpr uint64_t kFlowIdleSeconds = 600;
constexpr uint32_t kAgeEvery = 1024, kAgeBudget = 256;

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
// NAT keepalives: every kKeepaliveEvery loops the worker looks at kKeepaliveBudget flow slots
// (a pass over the table takes ~1-30 ms, so pings are that close to their time). A flow is
// pinged while it sent a message within 3 intervals or a REGISTER within kRegisteredSeconds.
constexpr uint32_t kKeepaliveEvery = 8, kKeepaliveBudget = 512;
constexpr uint64_t kRegisteredSeconds = 3600;

struct Path {  // one direction of one port pair
    uint16_t in, out;
    pipeline::Direction dir;
};

struct alignas(kCacheLine) WorkerState {
    unsigned lcore = 0;
    uint16_t queue = 0;  // this worker's RX and TX queue on every port
    std::unique_ptr<pipeline::Worker> worker;
    std::vector<rte_eth_dev_tx_buffer*> tx;  // per output port id
    uint64_t tx_dropped = 0;                 // counted by the TX buffer error callback
    rte_ip_frag_tbl* frag_table = nullptr;
    rte_ip_frag_death_row death_row{};
    std::unique_ptr<FlowTable> flows;
};

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

// A flag per port id (the checksum offloads): set for port p, read for any id (false past the
// last one set).
void set_port_flag(std::vector<bool>& flags, uint16_t p) {
    if (flags.size() <= p) flags.resize(p + 1u, false);
    flags[p] = true;
}
bool port_flag(const std::vector<bool>& flags, uint16_t p) noexcept { return p < flags.size() && flags[p]; }

}  // namespace

struct Dataplane::Impl {
    rte_mempool* pool = nullptr;
    rte_mempool* jumbo = nullptr;
    rte_mempool* indirect = nullptr;  // for rte_ip*_fragment_packet
    std::vector<bool> csum_offload;   // per port id: IPv4 and UDP checksums on transmit
    std::vector<bool> rx_csum_offload;  // per port id: UDP checksums verified on receipt
    std::vector<uint16_t> ports;      // cleared by stop_ports(), under ports_mutex (telemetry reads it)
    mutable std::mutex ports_mutex;
    std::vector<Path> paths;
    std::vector<int32_t> core_of;     // per port id: the core port of its pair when it is an access port, else -1
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
    for (uint16_t p : impl_->ports) {
        rte_eth_dev_stop(p);
        rte_eth_dev_close(p);
    }
    impl_->ports.clear();
}

Dataplane::Resources Dataplane::resources() const {
    const Impl& im = *impl_;
    Resources r;
    std::lock_guard<std::mutex> lock(im.ports_mutex);
    for (uint16_t p : im.ports) {  // each once: --port-pair refuses a port in two pairs
        PortStats ps;
        ps.port = p;
        rte_eth_dev_info info{};
        if (rte_eth_dev_info_get(p, &info) == 0 && info.driver_name) ps.driver = info.driver_name;
        ps.rx_checksum_offload = port_flag(im.rx_csum_offload, p);
        ps.tx_checksum_offload = port_flag(im.csum_offload, p);
        rte_eth_stats st{};
        if (rte_eth_stats_get(p, &st) == 0) {
            ps.rx_packets = st.ipackets;
            ps.tx_packets = st.opackets;
            ps.rx_missed = st.imissed;
            ps.rx_nombuf = st.rx_nombuf;
            ps.rx_errors = st.ierrors;
            ps.tx_errors = st.oerrors;
        }
        r.ports.push_back(std::move(ps));
    }
    for (const rte_mempool* mp : {im.pool, im.jumbo, im.indirect}) {
        if (!mp) continue;
        // avail_count includes the mbufs parked in the lcores' caches.
        const unsigned avail = rte_mempool_avail_count(mp);
        r.pools.push_back({mp->name, mp->size, mp->size > avail ? mp->size - avail : 0});
    }
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
    if (impl_->indirect) rte_mempool_free(impl_->indirect);
    if (impl_->pool) rte_mempool_free(impl_->pool);
    if (impl_->jumbo) rte_mempool_free(impl_->jumbo);
}

std::unique_ptr<Dataplane> Dataplane::create(const pipeline::Config& config, std::string* error) {
    std::unique_ptr<Dataplane> dp(new Dataplane(config));
    Impl& im = *dp->impl_;
    const uint16_t avail = rte_eth_dev_count_avail();
    if (avail == 0) {
        *error = "no ports: bind NICs with dpdk-devbind.py (vfio-pci) or give virtual devices with --vdev";
        return nullptr;
    }
    for (const auto& pp : config.port_pairs) {
        for (uint16_t p : {pp.access, pp.core}) {
            if (!rte_eth_dev_is_valid_port(p)) {
                *error = "--port-pair " + std::to_string(pp.access) + ":" + std::to_string(pp.core) + ": port " +
                         std::to_string(p) + " does not exist (" + std::to_string(avail) + " port(s) found)";
                return nullptr;
            }
            im.ports.push_back(p);
        }
        im.paths.push_back({pp.access, pp.core, pipeline::Direction::access_to_core});
        if (im.core_of.size() <= pp.access) im.core_of.resize(pp.access + 1u, -1);
        im.core_of[pp.access] = pp.core;
        im.paths.push_back({pp.core, pp.access, pipeline::Direction::core_to_access});
    }
    if (avail % 2 != 0 && config.port_pairs.size() * 2 != avail)
        std::fprintf(stderr, "farend: warning: %u ports found, an odd number; ports outside --port-pair are unused\n",
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
    if (lcores.size() > max_q) {
        std::string idle;
        for (std::size_t i = max_q; i < lcores.size(); ++i) {
            idle.push_back(' ');
            idle.append(std::to_string(lcores[i]));
        }
        std::fprintf(stderr, "farend: warning: the ports have %u queue(s) each at most, so %u worker(s) run; lcore(s)%s stay idle\n",
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
    const unsigned nb_mbufs = config.mbufs != 0 ? config.mbufs : need;
    im.pool = rte_pktmbuf_pool_create("farend_mbufs", nb_mbufs, 256, 0, kDataRoom, static_cast<int>(rte_socket_id()));
    if (!im.pool) {
        *error = "cannot create the mbuf pool: " + std::to_string(nb_mbufs) + " mbufs of " +
                 std::to_string(kDataRoom + sizeof(rte_mbuf)) + " bytes (" +
                 std::to_string((uint64_t{nb_mbufs} * (kDataRoom + sizeof(rte_mbuf))) >> 20) +
                 " MiB) needed: " + rte_strerror(rte_errno) + " (give EAL more memory: -m, or hugepages)";
        return nullptr;
    }
    im.jumbo = rte_pktmbuf_pool_create("farend_jumbo", kJumboCount, 32, 0, kJumboRoom, static_cast<int>(rte_socket_id()));
    if (!im.jumbo) {
        *error = "cannot create the jumbo mbuf pool: " + std::to_string(kJumboCount) + " mbufs of 64 KiB (" +
                 std::to_string((uint64_t{kJumboCount} * (kJumboRoom + sizeof(rte_mbuf))) >> 20) + " MiB) needed: " +
                 rte_strerror(rte_errno) + " (give EAL more memory: -m, or hugepages)";
        return nullptr;
    }
    im.indirect = rte_pktmbuf_pool_create("farend_indirect", 4095, 64, 0, 0, static_cast<int>(rte_socket_id()));
    if (!im.indirect) {
        *error = std::string("cannot create the indirect mbuf pool for IP fragmentation: ") + rte_strerror(rte_errno);
        return nullptr;
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
            std::fprintf(stderr, "farend: port %u (%s) has no RSS: each of its %u queues is read by one worker as the "
                                 "device fills it\n", static_cast<unsigned>(p), info.driver_name, static_cast<unsigned>(nq));
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
            r = rte_eth_rx_queue_setup(p, q, rxd, rte_eth_dev_socket_id(p), nullptr, im.pool);
            if (r == 0) r = rte_eth_tx_queue_setup(p, q, txd, rte_eth_dev_socket_id(p), nullptr);
        }
        if (r == 0) r = rte_eth_dev_start(p);
        if (r != 0) {
            *error = "port " + std::to_string(p) + " (" + info.driver_name + "): cannot be set up: " + rte_strerror(-r);
            return nullptr;
        }
        rte_eth_promiscuous_enable(p);  // a bump in the wire forwards every frame; vdevs may refuse
    }

    const uint64_t frag_cycles = (rte_get_tsc_hz() + 999) / 1000 * kFragTimeoutMs;
    uint16_t max_port = 0;
    for (uint16_t p : im.ports) max_port = std::max(max_port, p);
    for (uint16_t q = 0; q < nq; ++q) {
        auto ws = std::make_unique<WorkerState>();
        ws->lcore = lcores[q];
        ws->queue = q;
        ws->worker = std::make_unique<pipeline::Worker>(dp->config_);
        ws->tx.assign(max_port + 1u, nullptr);
        for (uint16_t p : im.ports) {
            auto* b = static_cast<rte_eth_dev_tx_buffer*>(
                rte_zmalloc_socket("farend_tx", RTE_ETH_TX_BUFFER_SIZE(kBurst), 0, rte_eth_dev_socket_id(p)));
            if (!b || rte_eth_tx_buffer_init(b, kBurst) != 0 ||
                rte_eth_tx_buffer_set_err_callback(b, rte_eth_tx_buffer_count_callback, &ws->tx_dropped) != 0) {
                *error = "cannot allocate TX buffers";
                return nullptr;
            }
            ws->tx[p] = b;
        }
        const int socket = memory_socket(ws->lcore);
        ws->frag_table = rte_ip_frag_table_create(kFragBuckets, kFragBucketEntries, kFragMaxEntries, frag_cycles, socket);
        if (!ws->frag_table) {
            *error = "cannot create the IP reassembly table";
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

namespace {

struct LoopArgs {
    const std::vector<bool>* csum_offload;
    const std::vector<int32_t>* core_of;  // per port id: its pair's core port, -1 for core ports
    WorkerState* ws;
    const std::vector<Path>* paths;
    const pipeline::Config* config;
    rte_mempool* jumbo;
    rte_mempool* direct;
    rte_mempool* indirect;
    rte_rcu_qsbr* qsbr;
    std::atomic<unsigned>* remote = nullptr;  // a worker on another lcore than the main: counts itself out at the end
};

// Length of the Ethernet header and its VLAN tags, and the ethertype after them (0 and 0 when
// the frame ends inside them).
uint16_t l2_of(const rte_mbuf* m, uint16_t& ethertype) {
    uint16_t tags = 0;
    const uint32_t l2 = net::l2_header(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, ethertype, tags);
    if (l2 == 0) ethertype = 0;
    return static_cast<uint16_t>(l2);
}

// The usual frame: untagged IPv4 with neither MF nor an offset, told from its bytes 12-13
// (ethertype) and 20-21 (flags and offset) in one test, without the call to l2_header (~40
// instructions a packet). Such a frame needs no reassembly.
inline bool unfragmented_ipv4(const rte_mbuf* m) {
    if (m->data_len < 14 + sizeof(rte_ipv4_hdr)) return false;
    const auto* f = rte_pktmbuf_mtod(m, const uint8_t*);
    return ((f[12] ^ 0x08u) | f[13] | (f[20] & 0x3fu) | f[21]) == 0;
}

// Fragments go into the worker's table. Returns the frame to go on with: m itself when it is no
// fragment, the whole datagram (a chain of the fragments) when m completed one, nullptr when m
// is held until the rest arrives (or was dropped into the death row). Out of line: the usual
// frame does not come here (unfragmented_ipv4). Inlined, its early return of the usual frame
// joined the worker loop's path for the other direction, never taken in training, and GCC 12's
// profile-guided build (jump threading and dead-code removal after the inlining) left that join
// with a count of 0: the rest of the loop, flow table and transmit included, ran from .cold.
[[gnu::noinline]] rte_mbuf* reassemble(rte_mbuf* m, WorkerState& ws, uint64_t now, pipeline::Counters& c, bool& whole) {
    whole = false;
    uint16_t type = 0;
    const uint16_t l2 = l2_of(m, type);
    if (type == 0x0800 && m->data_len >= l2 + sizeof(rte_ipv4_hdr)) {
        auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, l2);
        if (!rte_ipv4_frag_pkt_is_fragmented(ip)) return m;
        c.add(pipeline::Counter::fragments);
        m->tx_offload = rte_mbuf_tx_offload(l2, (ip->version_ihl & 0xfu) * 4u, 0, 0, 0, 0, 0);  // l2_len, l3_len
        rte_mbuf* d = rte_ipv4_frag_reassemble_packet(ws.frag_table, &ws.death_row, m, now, ip);
        if (d) {
            // The library fixes length and offset; the header checksum is for us.
            auto* dip = rte_pktmbuf_mtod_offset(d, rte_ipv4_hdr*, d->l2_len);
            dip->hdr_checksum = 0;
            dip->hdr_checksum = rte_ipv4_cksum(dip);
            whole = true;
        }
        return d;
    }
    if (type == 0x86dd && m->data_len >= l2 + sizeof(rte_ipv6_hdr) + sizeof(rte_ipv6_fragment_ext)) {
        auto* ip6 = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, l2);
        rte_ipv6_fragment_ext* fh = rte_ipv6_frag_get_ipv6_fragment_header(ip6);
        if (!fh) return m;
        c.add(pipeline::Counter::fragments);
        m->tx_offload = rte_mbuf_tx_offload(l2, sizeof(rte_ipv6_hdr) + sizeof(rte_ipv6_fragment_ext), 0, 0, 0, 0, 0);
        rte_mbuf* d = rte_ipv6_frag_reassemble_packet(ws.frag_table, &ws.death_row, m, now, ip6, fh);
        whole = d != nullptr;
        return d;
    }
    return m;
}

// Sends m, cut into fragments of at most mtu bytes of IP datagram when it is larger (IPv4 with
// DF set is sent whole and counted). Returns the number of frames queued.
uint16_t send(rte_mbuf* m, uint16_t port, uint16_t queue, rte_eth_dev_tx_buffer* txb, uint16_t mtu,
              rte_mempool* direct, rte_mempool* indirect, pipeline::Counters& c) {
    // Every Ethernet header is at least 14 bytes: a frame of at most 14 + mtu fits whatever its tags.
    if (m->pkt_len <= 14u + mtu) {
        rte_eth_tx_buffer(port, queue, txb, m);
        return 1;
    }
    uint16_t type = 0;
    const uint16_t l2 = l2_of(m, type);
    const bool v4 = type == 0x0800, v6 = type == 0x86dd;
    if ((!v4 && !v6) || m->pkt_len <= l2 + mtu) {
        rte_eth_tx_buffer(port, queue, txb, m);
        return 1;
    }
    if (v4 && (rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, l2)->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG))) {
        c.add(pipeline::Counter::oversize_tx);
        rte_eth_tx_buffer(port, queue, txb, m);
        return 1;
    }
    uint8_t l2hdr[32];
    std::memcpy(l2hdr, rte_pktmbuf_mtod(m, const uint8_t*), l2);
    rte_pktmbuf_adj(m, l2);  // the fragmenters want the IP header first
    rte_mbuf* frags[kMaxFragmentsOut];
    const int32_t n = v4 ? rte_ipv4_fragment_packet(m, frags, kMaxFragmentsOut, mtu, direct, indirect)
                         : rte_ipv6_fragment_packet(m, frags, kMaxFragmentsOut, mtu, direct, indirect);
    rte_pktmbuf_free(m);
    if (n <= 0) {
        c.add(pipeline::Counter::drop_fragmentation);
        c.add(pipeline::Counter::dropped);
        return 0;
    }
    c.add(pipeline::Counter::refragmented);
    uint16_t sent = 0;
    for (int32_t i = 0; i < n; ++i) {
        char* h = rte_pktmbuf_prepend(frags[i], l2);
        if (!h) {
            rte_pktmbuf_free(frags[i]);
            c.add(pipeline::Counter::drop_fragmentation);
            c.add(pipeline::Counter::dropped);
            continue;
        }
        std::memcpy(h, l2hdr, l2);
        if (v4) {
            auto* ip = rte_pktmbuf_mtod_offset(frags[i], rte_ipv4_hdr*, l2);
            ip->hdr_checksum = 0;
            ip->hdr_checksum = rte_ipv4_cksum(ip);
        }
        rte_eth_tx_buffer(port, queue, txb, frags[i]);
        ++sent;
    }
    return sent;
}

// A copy of m in one jumbo mbuf (m is freed), or nullptr when none is free or it would not fit.
rte_mbuf* to_jumbo(rte_mbuf* m, rte_mempool* jumbo) {
    if (m->pkt_len > kJumboRoom - RTE_PKTMBUF_HEADROOM) return nullptr;
    rte_mbuf* j = rte_pktmbuf_alloc(jumbo);
    if (!j) return nullptr;
    char* dst = rte_pktmbuf_append(j, static_cast<uint16_t>(m->pkt_len));
    const void* src = rte_pktmbuf_read(m, 0, m->pkt_len, dst);
    if (src != dst) std::memcpy(dst, src, m->pkt_len);
    j->port = m->port;
    rte_pktmbuf_free(m);
    return j;
}

// Fragments the reassembly gave up on (more than RTE_LIBRTE_IP_FRAG_MAX_FRAG pieces, timed out,
// overlapping, or no room in the table): rte_ip_frag has left them as they arrived, so they go on
// to the core port unmodified (fragments_passed) for the receiver to reassemble or discard; a
// bump in the wire does not drop a datagram it cannot read. Only a half-assembled chain, or a
// fragment with no core port to go to, is freed (drop_fragments).
void pass_death_row(WorkerState& ws, const std::vector<int32_t>& core_of, pipeline::Counters& c) {
    for (uint32_t i = 0; i < ws.death_row.cnt; ++i) {
        rte_mbuf* m = ws.death_row.row[i];
        const int32_t out = m->port < core_of.size() ? core_of[m->port] : -1;
        // A chain is a datagram rte_ip_frag began to put together and gave up on (pieces that
        // overlap so that the lengths add up but leave a hole): its tails have lost their headers.
        if (out < 0 || m->nb_segs > 1) {
            rte_pktmbuf_free(m);
            c.add(pipeline::Counter::drop_fragments);
            c.add(pipeline::Counter::dropped);
            continue;
        }
        m->ol_flags &= ~(RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM);
        c.add(pipeline::Counter::fragments_passed);
        c.add(pipeline::Counter::tx_packets);
        c.add(pipeline::Counter::tx_bytes, m->pkt_len);
        rte_eth_tx_buffer(static_cast<uint16_t>(out), ws.queue, ws.tx[static_cast<uint16_t>(out)], m);
    }
    ws.death_row.cnt = 0;
}

// Datagrams that have waited past the timeout at `now` leave the table and their pieces go on
// (pass_death_row); the death row takes 32 datagrams' pieces at a time, so until none is left.
void expire_fragments(WorkerState& ws, uint64_t now, const std::vector<int32_t>& core_of, pipeline::Counters& c) {
    for (;;) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // experimental in DPDK 22.11, stable since
        rte_ip_frag_table_del_expired_entries(ws.frag_table, &ws.death_row, now);
#pragma GCC diagnostic pop
        if (ws.death_row.cnt == 0) return;
        pass_death_row(ws, core_of, c);
    }
}

// Frames a TX queue refused were counted as sent when buffered; the buffers' error callback has
// freed them and counted them in ws.tx_dropped: move them to the drop counters.
void account_tx_refused(WorkerState& ws, pipeline::Counters& c) {
    if (!ws.tx_dropped) return;
    c.v[static_cast<std::size_t>(pipeline::Counter::tx_packets)] -= ws.tx_dropped;
    c.add(pipeline::Counter::drop_tx_full, ws.tx_dropped);
    c.add(pipeline::Counter::dropped, ws.tx_dropped);
    ws.tx_dropped = 0;
}

// Puts keepalives in mbufs of the worker's pool and out of the flow's access port.
class KeepaliveSender final : public FlowTable::KeepaliveSink {
public:
    KeepaliveSender(WorkerState& ws, rte_mempool* pool, pipeline::KeepaliveMethod method, pipeline::Counters& c)
        : ws_(ws), pool_(pool), method_(method), c_(c) {}
    bool send(const flow::Entry& e) noexcept override {
        if (e.ingress_port >= ws_.tx.size() || !ws_.tx[e.ingress_port]) return false;
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        if (!m) {
            c_.add(pipeline::Counter::keepalive_no_mbuf);
            return false;
        }
        const uint32_t len = pipeline::build_keepalive(e, method_, seq_++, rte_pktmbuf_mtod(m, uint8_t*), rte_pktmbuf_tailroom(m));
        if (len == 0) {  // no peer address of the agent's family yet
            rte_pktmbuf_free(m);
            return false;
        }
        m->data_len = static_cast<uint16_t>(len);
        m->pkt_len = len;
        rte_eth_tx_buffer(e.ingress_port, ws_.queue, ws_.tx[e.ingress_port], m);
        c_.add(pipeline::Counter::keepalives_sent);
        c_.add(pipeline::Counter::tx_packets);
        c_.add(pipeline::Counter::tx_bytes, len);
        return true;
    }

private:
    WorkerState& ws_;
    rte_mempool* pool_;
    pipeline::KeepaliveMethod method_;
    pipeline::Counters& c_;
    uint32_t seq_ = 0;
};

int worker_loop(void* arg) {
    auto* a = static_cast<LoopArgs*>(arg);
    WorkerState& ws = *a->ws;
    pipeline::Worker& w = *ws.worker;
    pipeline::Counters& c = w.counters();
    const uint64_t hz = rte_get_tsc_hz();
    const uint64_t drain = hz * kTxDrainUs / 1000000u;
    const uint64_t idle = a->config->exit_when_idle > 0 ? static_cast<uint64_t>(a->config->exit_when_idle * static_cast<double>(hz)) : 0;
    uint64_t last_rx = rte_rdtsc(), last_drain = last_rx;
    rte_mbuf* pkts[kBurst];
    KeepaliveSender keepalives(ws, a->direct, a->config->keepalive_method, c);
    rte_rcu_qsbr_thread_register(a->qsbr, ws.queue);
    rte_rcu_qsbr_thread_online(a->qsbr, ws.queue);
    const bool keepalive_on = a->config->keepalive_interval > 0;
    while (!g_stop.load(std::memory_order_relaxed)) {
        const uint64_t start = rte_rdtsc();
        bool any = false;
        for (const Path& p : *a->paths) {
            const uint16_t n = rte_eth_rx_burst(p.in, ws.queue, pkts, kBurst);
            if (n == 0) continue;
            any = true;
            c.add(pipeline::Counter::rx_packets, n);
            rte_eth_dev_tx_buffer* txb = ws.tx[p.out];
            const bool offload = port_flag(*a->csum_offload, p.out);
            // Stage 1: whole frames in one segment (reassembly, linearisation).
            rte_mbuf* ms[kBurst];
            pipeline::Frame frames[kBurst];
            pipeline::Action actions[kBurst];
            uint16_t k = 0;
            for (uint16_t i = 0; i < n; ++i) {
                rte_mbuf* m = pkts[i];
                c.add(pipeline::Counter::rx_bytes, m->pkt_len);
                bool whole = false;  // put together from fragments
                if (p.dir == pipeline::Direction::access_to_core && !unfragmented_ipv4(m)) {
                    m = reassemble(m, ws, start, c, whole);
                    if (!m) continue;  // waits for its other fragments
                    if (whole) c.add(pipeline::Counter::reassembled);
                }
                if (m->nb_segs > 1) {
                    rte_mbuf* j = to_jumbo(m, a->jumbo);
                    if (!j) {
                        c.add(pipeline::Counter::drop_linearize);
                        c.add(pipeline::Counter::dropped);
                        rte_pktmbuf_free(m);
                        continue;
                    }
                    m = j;
                }
                ms[k] = m;
                frames[k] = pipeline::Frame{rte_pktmbuf_mtod(m, uint8_t*), m->data_len,
                                            static_cast<uint32_t>(m->data_len + rte_pktmbuf_tailroom(m)), true, 0};
                frames[k].offload = offload;
                // The port's word on the UDP checksum holds for the mbuf it filled, not for one
                // put together from fragments or copied (their flags are the first piece's).
                frames[k].udp_checksum_good =
                    !whole && m == pkts[i] && (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
                ++k;
            }
            // Stage 2: classify, then read and rewrite the SIP (pipeline::Worker).
            w.process_burst(frames, actions, k, p.dir);
            // Stage 3: frames that outgrew their mbuf, the flow table, transmit. The burst's flow
            // entries fetched first, all at once (FlowTable::prepare).
            uint32_t sigs[kBurst];
            for (uint16_t i = 0; i < k; ++i)
                if (frames[i].observed) sigs[i] = ws.flows->prepare(w.observation(i));
            for (uint16_t i = 0; i < k; ++i)
                if (frames[i].observed) ws.flows->prefetch(sigs[i]);
            for (uint16_t i = 0; i < k; ++i) {
                rte_mbuf* m = ms[i];
                pipeline::Frame& f = frames[i];
                pipeline::Action act = actions[i];
                std::size_t slot = i;
                const bool again = act == pipeline::Action::grow;  // processed again below
                if (again) {
                    // The rewrite needs more than this mbuf's tailroom: redo it in a jumbo mbuf.
                    rte_mbuf* j = f.needed <= kJumboRoom - RTE_PKTMBUF_HEADROOM ? to_jumbo(m, a->jumbo) : nullptr;
                    if (j) m = j;
                    f = pipeline::Frame{rte_pktmbuf_mtod(m, uint8_t*), m->data_len,
                                        static_cast<uint32_t>(m->data_len + rte_pktmbuf_tailroom(m)), false, 0};
                    f.offload = offload;
                    act = w.process(f, p.dir);  // without room it is counted and forwarded unmodified
                    slot = 0;
                }
                if (f.observed) {
                    flow::Observation& o = w.observation(slot);  // in place: no ~100-byte copy a packet
                    o.ingress_port = p.in;
                    // A frame processed again has its observation anew (not prepared): hashed anew.
                    if (again)
                        ws.flows->observe(o, start, c);
                    else
                        ws.flows->observe(o, sigs[i], start, c);
                }
                if (act == pipeline::Action::drop) {
                    rte_pktmbuf_free(m);
                    continue;
                }
                if (f.len != m->data_len) {  // resized by a rewrite (within the tailroom)
                    m->data_len = static_cast<uint16_t>(f.len);
                    m->pkt_len = f.len;
                }
                if (f.offloaded) {
                    m->ol_flags |= (f.offload_ipv6 ? RTE_MBUF_F_TX_IPV6 : (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM)) |
                                   (f.offload_udp ? RTE_MBUF_F_TX_UDP_CKSUM : 0);
                    m->tx_offload = rte_mbuf_tx_offload(f.offload_l2, f.offload_l3, 0, 0, 0, 0, 0);
                }
                c.add(pipeline::Counter::tx_bytes, m->pkt_len);
                c.add(pipeline::Counter::tx_packets, send(m, p.out, ws.queue, txb, a->config->mtu, a->direct, a->indirect, c));
            }
        }
        pass_death_row(ws, *a->core_of, c);
        const uint64_t now = rte_rdtsc();
        if (any) {
            last_rx = now;
            c.add(pipeline::Counter::busy_cycles, now - start);
        }
        if (now - last_drain > drain) {
            for (const Path& p : *a->paths) rte_eth_tx_buffer_flush(p.out, ws.queue, ws.tx[p.out]);
            last_drain = now;
        }
        account_tx_refused(ws, c);  // live, so telemetry's tx_packets and drop_tx_full stay true
        c.add(pipeline::Counter::loops);
        if ((c.get(pipeline::Counter::loops) & (kAgeEvery - 1)) == 0) {
            ws.flows->age(now, kFlowIdleSeconds * hz, kAgeBudget, c);
            // rte_ip_frag expires entries only when another fragment arrives: an idle worker would
            // hold never-completed datagrams (and their mbufs) for good.
            expire_fragments(ws, now, *a->core_of, c);
        }
        if (keepalive_on && (c.get(pipeline::Counter::loops) & (kKeepaliveEvery - 1)) == 0)
            ws.flows->keepalive(now, kKeepaliveBudget, keepalives, c);
        if (idle && now - last_rx > idle) g_stop.store(true);
        rte_rcu_qsbr_quiescent(a->qsbr, ws.queue);  // holds no rules pointer between loops
    }
    rte_rcu_qsbr_thread_offline(a->qsbr, ws.queue);
    rte_rcu_qsbr_thread_unregister(a->qsbr, ws.queue);
    // Fragments still waiting for the rest of their datagram go on as they came.
    expire_fragments(ws, rte_rdtsc() + 1000 * hz, *a->core_of, c);
    for (const Path& p : *a->paths) rte_eth_tx_buffer_flush(p.out, ws.queue, ws.tx[p.out]);
    account_tx_refused(ws, c);
    return 0;
}

// A worker launched on another lcore than the main one: its loop, then one fewer running.
int remote_worker_loop(void* arg) {
    auto* a = static_cast<LoopArgs*>(arg);
    const int rc = worker_loop(arg);
    a->remote->fetch_sub(1);
    return rc;
}

}  // namespace

int Dataplane::run() {
    Impl& im = *impl_;
    std::vector<LoopArgs> args;
    args.reserve(im.workers.size());
    for (auto& w : im.workers)
        args.push_back({&im.csum_offload, &im.core_of, w.get(), &im.paths, &config_, im.jumbo, im.pool, im.indirect, im.qsbr});
    // The control thread: rule reloads on SIGHUP, off the workers' lcores.
    std::thread control([this] {
        while (!g_stop.load()) {
            if (g_reload.exchange(false)) {
                std::string why;
                if (reload_rules(&why))
                    std::fprintf(stderr, "farend: rules reloaded: %zu rule(s)\n", rules_report().count);
                else
                    std::fprintf(stderr, "farend: rules NOT reloaded, the previous ones stay: %s\n", why.c_str());
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
            std::fprintf(stderr, "farend: cannot launch the worker on lcore %u\n", a.ws->lcore);
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
            out = w->worker->counters();
            return true;
        }
    return false;
}

}  // namespace farend::dataplane
