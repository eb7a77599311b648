#include <farend/base/cacheline.hpp>
#include <farend/dataplane/dataplane.hpp>
#include <farend/pipeline/worker.hpp>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include <cstdio>
#include <cstring>

static_assert(RTE_CACHE_LINE_SIZE == farend::kCacheLine, "per-lcore blocks assume 64-byte cache lines");

namespace farend::dataplane {

std::atomic<bool> g_stop{false};

namespace {

constexpr uint16_t kBurst = 32;
constexpr uint16_t kRxDesc = 1024;
constexpr uint16_t kTxDesc = 1024;
// Data room: a 1500-byte frame keeps ~2.5 KiB of tailroom to grow into when rewritten.
constexpr uint16_t kDataRoom = 4096 + RTE_PKTMBUF_HEADROOM;
constexpr uint64_t kTxDrainUs = 100;
// Jumbo buffers: a frame that arrives in several segments, or whose rewrite outgrows its mbuf,
// is copied into one of these (the largest data room an mbuf can have).
constexpr uint16_t kJumboRoom = 65535;
constexpr unsigned kJumboCount = 255;

struct Path {  // one direction of one port pair
    uint16_t in, out;
    pipeline::Direction dir;
};

struct alignas(kCacheLine) WorkerState {
    unsigned lcore = 0;
    std::unique_ptr<pipeline::Worker> worker;
    std::vector<rte_eth_dev_tx_buffer*> tx;  // per output port id
    uint64_t tx_dropped = 0;                 // counted by the TX buffer error callback
};

}  // namespace

struct Dataplane::Impl {
    rte_mempool* pool = nullptr;
    rte_mempool* jumbo = nullptr;
    std::vector<uint16_t> ports;
    std::vector<Path> paths;
    std::vector<std::unique_ptr<WorkerState>> workers;
    int rc = 0;
};

Dataplane::Dataplane(const pipeline::Config& config) : config_(config), impl_(std::make_unique<Impl>()) {}

Dataplane::~Dataplane() {
    for (uint16_t p : impl_->ports) {
        rte_eth_dev_stop(p);
        rte_eth_dev_close(p);
    }
    for (auto& w : impl_->workers)
        for (auto* b : w->tx) rte_free(b);
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
        im.paths.push_back({pp.core, pp.access, pipeline::Direction::core_to_access});
    }
    if (avail % 2 != 0 && config.port_pairs.size() * 2 != avail)
        std::fprintf(stderr, "farend: warning: %u ports found, an odd number; ports outside --port-pair are unused\n",
                     static_cast<unsigned>(avail));

    // Workers: every worker lcore; with none (-l N), the main lcore does the work. One queue per
    // port per worker is the design; this version runs one worker (RSS across workers to come).
    unsigned lcore = rte_get_next_lcore(-1, 1, 0);
    if (lcore >= RTE_MAX_LCORE) lcore = rte_get_main_lcore();
    if (rte_lcore_count() > 2)
        std::fprintf(stderr, "farend: warning: %u lcores given; this version uses one worker (lcore %u)\n",
                     rte_lcore_count(), lcore);

    const unsigned nb_mbufs = static_cast<unsigned>(im.ports.size()) * (kRxDesc + kTxDesc + 2u * kBurst) + 1024u;
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
    for (uint16_t p : im.ports) {
        rte_eth_conf conf{};
        rte_eth_dev_info info{};
        if (rte_eth_dev_info_get(p, &info) != 0) {
            *error = "port " + std::to_string(p) + ": cannot read device info";
            return nullptr;
        }
        int r = rte_eth_dev_configure(p, 1, 1, &conf);
        uint16_t rxd = kRxDesc, txd = kTxDesc;
        if (r == 0) r = rte_eth_dev_adjust_nb_rx_tx_desc(p, &rxd, &txd);
        if (r == 0) r = rte_eth_rx_queue_setup(p, 0, rxd, rte_eth_dev_socket_id(p), nullptr, im.pool);
        if (r == 0) r = rte_eth_tx_queue_setup(p, 0, txd, rte_eth_dev_socket_id(p), nullptr);
        if (r == 0) r = rte_eth_dev_start(p);
        if (r != 0) {
            *error = "port " + std::to_string(p) + " (" + info.driver_name + "): cannot be set up: " + rte_strerror(-r);
            return nullptr;
        }
        rte_eth_promiscuous_enable(p);  // a bump in the wire forwards every frame; vdevs may refuse
    }

    auto ws = std::make_unique<WorkerState>();
    ws->lcore = lcore;
    ws->worker = std::make_unique<pipeline::Worker>(dp->config_);
    uint16_t max_port = 0;
    for (uint16_t p : im.ports) max_port = std::max(max_port, p);
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
    im.workers.push_back(std::move(ws));
    return dp;
}

namespace {

struct LoopArgs {
    WorkerState* ws;
    const std::vector<Path>* paths;
    const pipeline::Config* config;
    rte_mempool* jumbo;
};

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
    while (!g_stop.load(std::memory_order_relaxed)) {
        const uint64_t start = rte_rdtsc();
        bool any = false;
        for (const Path& p : *a->paths) {
            const uint16_t n = rte_eth_rx_burst(p.in, 0, pkts, kBurst);
            if (n == 0) continue;
            any = true;
            c.add(pipeline::Counter::rx_packets, n);
            rte_eth_dev_tx_buffer* txb = ws.tx[p.out];
            for (uint16_t i = 0; i < n; ++i) {
                rte_mbuf* m = pkts[i];
                c.add(pipeline::Counter::rx_bytes, m->pkt_len);
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
                pipeline::Frame f{rte_pktmbuf_mtod(m, uint8_t*), m->data_len,
                                  static_cast<uint32_t>(m->data_len + rte_pktmbuf_tailroom(m)), true, 0};
                pipeline::Action act = w.process(f, p.dir);
                if (act == pipeline::Action::grow) {
                    // The rewrite needs more than this mbuf's tailroom: redo it in a jumbo mbuf.
                    rte_mbuf* j = f.needed <= kJumboRoom - RTE_PKTMBUF_HEADROOM ? to_jumbo(m, a->jumbo) : nullptr;
                    if (j) m = j;
                    f = pipeline::Frame{rte_pktmbuf_mtod(m, uint8_t*), m->data_len,
                                        static_cast<uint32_t>(m->data_len + rte_pktmbuf_tailroom(m)), false, 0};
                    act = w.process(f, p.dir);  // without room it is counted and forwarded unmodified
                }
                if (act == pipeline::Action::drop) {
                    rte_pktmbuf_free(m);
                    continue;
                }
                if (f.len != m->data_len) {  // resized by a rewrite (within the tailroom)
                    m->data_len = static_cast<uint16_t>(f.len);
                    m->pkt_len = f.len;
                }
                c.add(pipeline::Counter::tx_bytes, m->pkt_len);
                c.add(pipeline::Counter::tx_packets);
                rte_eth_tx_buffer(p.out, 0, txb, m);
            }
        }
        const uint64_t now = rte_rdtsc();
        if (any) {
            last_rx = now;
            c.add(pipeline::Counter::busy_cycles, now - start);
        }
        if (now - last_drain > drain) {
            for (const Path& p : *a->paths) rte_eth_tx_buffer_flush(p.out, 0, ws.tx[p.out]);
            last_drain = now;
        }
        c.add(pipeline::Counter::loops);
        if (idle && now - last_rx > idle) g_stop.store(true);
    }
    for (const Path& p : *a->paths) rte_eth_tx_buffer_flush(p.out, 0, ws.tx[p.out]);
    // Frames the TX queues refused were counted as sent; move them to the drop counters.
    c.v[static_cast<std::size_t>(pipeline::Counter::tx_packets)] -= ws.tx_dropped;
    c.add(pipeline::Counter::drop_tx_full, ws.tx_dropped);
    c.add(pipeline::Counter::dropped, ws.tx_dropped);
    ws.tx_dropped = 0;
    return 0;
}

}  // namespace

int Dataplane::run() {
    Impl& im = *impl_;
    std::vector<LoopArgs> args;
    args.reserve(im.workers.size());
    for (auto& w : im.workers) args.push_back({w.get(), &im.paths, &config_, im.jumbo});
    const unsigned main = rte_get_main_lcore();
    int rc = 0;
    for (auto& a : args)
        if (a.ws->lcore != main && rte_eal_remote_launch(worker_loop, &a, a.ws->lcore) != 0) {
            std::fprintf(stderr, "farend: cannot launch the worker on lcore %u\n", a.ws->lcore);
            g_stop.store(true);
            rc = 1;
        }
    for (auto& a : args)
        if (a.ws->lcore == main) worker_loop(&a);
    rte_eal_mp_wait_lcore();
    return rc;
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

bool Dataplane::lcore_counters(unsigned lcore, pipeline::Counters& out) const {
    for (const auto& w : impl_->workers)
        if (w->lcore == lcore) {
            out = w->worker->counters();
            return true;
        }
    return false;
}

}  // namespace farend::dataplane
