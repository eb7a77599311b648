// The worker lcores' side of the dataplane: what each worker owns, and its polling loop
// (worker_loop.cpp: receive, reassemble, pipeline::Worker, flow table, transmit). Internal to the
// dataplane module: dataplane.cpp sets the workers up and launches worker_loop on their lcores.
#pragma once

#include <farend/base/cacheline.hpp>
#include <farend/dataplane/flow_table.hpp>
#include <farend/pipeline/worker.hpp>

#include <rte_ethdev.h>
#include <rte_ip_frag.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace farend::dataplane {

inline constexpr uint16_t kBurst = 32;
static_assert(kBurst <= pipeline::Worker::kMaxBurst);
// Jumbo buffers: a frame that arrives in several segments, or whose rewrite outgrows its mbuf,
// is copied into one of these (the largest data room an mbuf can have).
inline constexpr uint16_t kJumboRoom = 65535;

struct Path {  // one direction of one port pair
    uint16_t in, out;
    pipeline::Direction dir;
};

struct alignas(kCacheLine) WorkerState {
    unsigned lcore = 0;
    uint16_t queue = 0;  // this worker's RX and TX queue on every port
    std::size_t pools = 0;  // its socket's set of mbuf pools (dataplane.cpp)
    std::unique_ptr<pipeline::Worker> worker;
    std::vector<rte_eth_dev_tx_buffer*> tx;  // per output port id
    uint64_t tx_dropped = 0;                 // counted by the TX buffer error callback
    rte_ip_frag_tbl* frag_table = nullptr;
    rte_ip_frag_death_row death_row{};
    std::unique_ptr<FlowTable> flows;
};

// A flag per port id (the checksum offloads), read for any id: false past the last one set.
inline bool port_flag(const std::vector<bool>& flags, uint16_t p) noexcept { return p < flags.size() && flags[p]; }

// What worker_loop() is given: its worker, and what it shares with the others.
struct LoopArgs {
    const std::vector<bool>* csum_offload;
    const std::vector<int32_t>* peer_of;  // per port id: the other port of its pair, -1 for no pair's
    WorkerState* ws;
    const std::vector<Path>* paths;
    const pipeline::Config* config;
    rte_mempool* jumbo;
    rte_mempool* direct;
    rte_mempool* indirect;
    rte_rcu_qsbr* qsbr;
    std::atomic<unsigned>* remote = nullptr;  // a worker on another lcore than the main: counts itself out at the end
};

// One worker's loop until g_stop; on the main lcore, or on its own (remote_worker_loop: the same,
// then one fewer in LoopArgs::remote).
int worker_loop(void* arg);
int remote_worker_loop(void* arg);

}  // namespace farend::dataplane
