// One worker's flow table: rte_hash (lock-free readers) from flow::Key to a slot in an entry
// array. The worker is the only writer; telemetry copies entries out of the array, reading a
// per-slot valid flag, without taking a lock. Bounded: when full, a new source takes the slot of
// the least recently alive of 8 entries looked at (counted as flows_evicted); the packets of every
// source are forwarded and processed whether it is tracked or not. Idle entries age out.
#pragma once

#include <farend/flow/flow.hpp>
#include <farend/pipeline/counters.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

struct rte_hash;

namespace farend::dataplane {

class FlowTable {
public:
    static std::unique_ptr<FlowTable> create(const std::string& name, uint32_t capacity, int socket, std::string* error);

    // NAT keepalives (pipeline::build_keepalive puts the bytes together; the dataplane sends).
    struct KeepaliveSink {
        virtual ~KeepaliveSink() = default;
        // Sends one keepalive for e; false when it could not (it is tried again an interval later).
        virtual bool send(const flow::Entry& e) noexcept = 0;
    };
    struct KeepalivePolicy {
        uint64_t interval = 0;         // TSC cycles between two pings of one flow; 0 = off
        uint64_t active = 0;           // pinged while a message came within this...
        uint64_t registered = 0;       // ...or a REGISTER within this
        uint32_t max_unanswered = 0;   // drop the flow after this many unanswered pings; 0 = never
    };
    void set_keepalive(const KeepalivePolicy& p) noexcept { ka_ = p; }
    ~FlowTable();
    FlowTable(const FlowTable&) = delete;
    FlowTable& operator=(const FlowTable&) = delete;

    // Writer side (the owning worker).
    void observe(const flow::Observation& o, uint64_t now, pipeline::Counters& c) noexcept;
    // The same, for a burst: prepare() each observation (its key's hash, returned, and the hint's
    // cache line fetched), then prefetch() each hash (the entry the hint names fetched: by then
    // the hint has arrived), then observe() each with its hash. A source's entry, last touched
    // thousands of packets ago when a worker serves many sources, is then read from memory for
    // the whole burst at once instead of one packet at a time, each waiting on two misses.
    // prefetch() fetches the entry's two lines every message updates, and its third when the
    // observation's update writes it too (flow::Entry::updates_line_2).
    [[nodiscard]] uint32_t prepare(const flow::Observation& o) const noexcept;
    void prefetch(const flow::Observation& o, uint32_t sig) const noexcept;
    void observe(const flow::Observation& o, uint32_t sig, uint64_t now, pipeline::Counters& c) noexcept;
    // Looks at `budget` slots from where the last call stopped and pings the NATed flows that are
    // due. Each flow's first ping is at a phase of the interval its key hashes to, so the pings
    // of many flows spread over the interval even when they all registered at once.
    void keepalive(uint64_t now, uint32_t budget, KeepaliveSink& sink, pipeline::Counters& c) noexcept;
    // Looks at `budget` slots from where the last call stopped; drops entries idle > max_idle.
    void age(uint64_t now, uint64_t max_idle, uint32_t budget, pipeline::Counters& c) noexcept;

    // Reader side (any thread): copies of the valid entries, most recently seen first, at most n.
    [[nodiscard]] std::vector<flow::Entry> snapshot(std::size_t n) const;
    [[nodiscard]] bool contains(const flow::Key& key) const noexcept;
    [[nodiscard]] uint32_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
    [[nodiscard]] uint32_t capacity() const noexcept { return capacity_; }  // flows it holds at most

private:
    FlowTable() = default;
    rte_hash* hash_ = nullptr;
    uint32_t capacity_ = 0;  // keys the hash holds (as asked)
    uint32_t slots_ = 0;     // entries_ and valid_: one per key position rte_hash may return
    // The arrays are in DPDK's memory on the worker's socket (rte_malloc_socket), as rte_hash's
    // own tables: NUMA-local, and on EAL's hugepages when it has them (a source's entry and hint
    // then cost no TLB walk however many sources there are).
    flow::Entry* entries_ = nullptr;
    std::atomic<uint8_t>* valid_ = nullptr;
    // In front of rte_hash (~100 instructions and a memcmp a look-up): by the key's hash, the
    // slot + 1 it last led to (0: none), checked against that slot's key and valid flag before
    // use. The writer's alone; a power of two >= 4 x slots_ of them (create()).
    uint32_t* hint_ = nullptr;
    uint32_t hint_mask_ = 0;
    std::atomic<uint32_t> size_{0};
    uint32_t cursor_ = 0;
    uint32_t ka_cursor_ = 0;
    KeepalivePolicy ka_;

    static constexpr uint32_t kEvictSample = 8;
    uint32_t evict_cursor_ = 0;

    // The slot at cursor, and cursor moved on to the next (round the table): the walks of
    // age, keepalive and evict each keep one.
    uint32_t step(uint32_t& cursor) const noexcept;
    void remove(uint32_t slot) noexcept;
    bool evict(pipeline::Counters& c) noexcept;
};

}  // namespace farend::dataplane
