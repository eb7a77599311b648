#include <farend/dataplane/flow_table.hpp>

#include "numa.hpp"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <type_traits>

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

namespace farend::dataplane {

namespace {

// A flow key as the three 8-byte words it is in memory (flow::Key: the address, then port,
// VLAN, family and three zero bytes), built in registers: the look-up hashes and compares them
// without storing the key first (a key stored field by field and read back as words stalls on
// store forwarding).
static_assert(sizeof(flow::Entry) == 3 * RTE_CACHE_LINE_SIZE && alignof(flow::Entry) == RTE_CACHE_LINE_SIZE,
              "FlowTable::prefetch() fetches an entry's lines by offset");
static_assert(sizeof(flow::Key) == 24 && offsetof(flow::Key, port) == 16 && offsetof(flow::Key, vlan) == 18 &&
                  offsetof(flow::Key, family) == 20,
              "KeyWords mirrors flow::Key's layout");
struct KeyWords {
    uint64_t w[3];
    static KeyWords of(const IpAddr& ip, uint16_t port, uint16_t vlan) noexcept {
        KeyWords k;
        std::memcpy(k.w, ip.bytes().data(), 16);
        k.w[2] = uint64_t{port} | uint64_t{vlan} << 16 | uint64_t{static_cast<uint8_t>(ip.family())} << 32;
        return k;
    }
    [[nodiscard]] bool equals(const flow::Key& key) const noexcept {
        uint64_t x[3];
        std::memcpy(x, &key, sizeof x);
        return ((x[0] ^ w[0]) | (x[1] ^ w[1]) | (x[2] ^ w[2])) == 0;
    }
    [[nodiscard]] flow::Key key() const noexcept {
        flow::Key k;
        std::memcpy(&k, w, sizeof k);
        return k;
    }
};

// A flow key's hash: CRC32-C over its three 8-byte words, what rte_hash_crc() gives for 24 bytes
// without its length loop and tail, computed in line by the caller (rte_hash_lookup() would
// call it through a pointer, and then rte_hash_crc's length dispatch: ~45 instructions a packet
// where this is 3). The dataplane is built for SSE4.2 (-march=corei7).
inline uint32_t key_crc(const KeyWords& k, uint32_t init) noexcept {
#if defined(__SSE4_2__)
    return static_cast<uint32_t>(_mm_crc32_u64(_mm_crc32_u64(_mm_crc32_u64(init, k.w[0]), k.w[1]), k.w[2]));
#else
    return rte_hash_crc(k.w, sizeof k.w, init);
#endif
}
inline uint32_t key_crc(const flow::Key& key, uint32_t init) noexcept {
    KeyWords k;
    std::memcpy(k.w, &key, sizeof k.w);
    return key_crc(k, init);
}

// The same as the table's hash function (rte_hash_hash(), and rte_hash's own use of it).
uint32_t key_hash(const void* key, uint32_t /*len: always sizeof(flow::Key)*/, uint32_t init) {
    return key_crc(*static_cast<const flow::Key*>(key), init);
}

// rte_hash compares 24-byte keys with memcmp() (it has vector compares for multiples of 16
// only): three words instead, on its slow path (a miss of the hint below).
int key_cmp(const void* a, const void* b, size_t /*len: always sizeof(flow::Key)*/) {
    KeyWords k;
    std::memcpy(k.w, a, sizeof k.w);
    return k.equals(*static_cast<const flow::Key*>(b)) ? 0 : 1;
}

}  // namespace

// What the table says when DPDK's memory cannot hold it, after what failed.
constexpr const char* kMoreMemory = "give EAL more (-m, --socket-mem, hugepages) or lower --flow-capacity";

std::unique_ptr<FlowTable> FlowTable::create(const std::string& name, uint32_t capacity, int socket,
                                             std::string* error) {
    std::unique_ptr<FlowTable> t(new FlowTable());
    rte_hash_parameters p{};
    p.name = name.c_str();
    p.entries = capacity;
    p.key_len = sizeof(flow::Key);
    p.hash_func = key_hash;
    p.hash_func_init_val = 0;
    p.socket_id = socket;
    // Lock-free readers; the one writer frees a key's slot itself right after deleting it. The
    // extendable bucket table lets every one of the `capacity` slots be used (without it, a
    // cuckoo path can fail while slots are still free).
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    t->hash_ = rte_hash_create(&p);
    if (!t->hash_) {
        // rte_hash says little (its errno is often not ENOMEM when memory ran out): the usual
        // cause, and what to do, follow what it said.
        *error = "cannot create the flow table's hash of " + std::to_string(capacity) + " flows on " + socket_name(socket) +
                 ": " + rte_strerror(rte_errno) + " (rte_hash's tables take ~60 bytes a flow, beside farend's ~210): " +
                 kMoreMemory;
        return nullptr;
    }
    rte_hash_set_cmp_func(t->hash_, key_cmp);
    // Slots are rte_hash's key positions, 0 .. max_key_id (which may exceed the keys it holds).
    t->slots_ = static_cast<uint32_t>(rte_hash_max_key_id(t->hash_)) + 1;
    t->capacity_ = capacity;
    // The hint: a power of two >= 4 x the slots. Sources whose hashes share a hint take turns
    // in it, and each turn misses it for rte_hash's own look-up: with about one hint a slot, 37%
    // of 60,000 sources shared one with another (1 - e^(-60,000 / 131,072)); with four, 11%.
    // 4 bytes a hint: 2 MiB a worker at the default 65,536 flows, beside 12 MiB of entries.
    uint32_t hints = 1;
    while (hints < uint64_t{t->slots_} * 4) hints <<= 1;
    // In DPDK's memory on the worker's socket, each entry, flag and hint value-constructed (all
    // zeros: empty) in one pass, not zeroed by the allocator first.
    static_assert(std::is_trivially_destructible_v<flow::Entry>, "~FlowTable frees the entries without destroying them");
    const std::size_t entry_bytes = sizeof(flow::Entry) * t->slots_, valid_bytes = sizeof(std::atomic<uint8_t>) * t->slots_,
                      hint_bytes = sizeof(uint32_t) * hints;
    t->entries_ = static_cast<flow::Entry*>(rte_malloc_socket("farend_flow_entries", entry_bytes, RTE_CACHE_LINE_SIZE, socket));
    t->valid_ = static_cast<std::atomic<uint8_t>*>(rte_malloc_socket("farend_flow_valid", valid_bytes, RTE_CACHE_LINE_SIZE, socket));
    t->hint_ = static_cast<uint32_t*>(rte_malloc_socket("farend_flow_hints", hint_bytes, RTE_CACHE_LINE_SIZE, socket));
    if (!t->entries_ || !t->valid_ || !t->hint_) {
        const std::size_t bytes = entry_bytes + valid_bytes + hint_bytes;
        *error = "cannot allocate the flow table of " + std::to_string(capacity) + " flows (" +
                 std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB a worker beside rte_hash's tables) in DPDK's memory " +
                 "on " + socket_name(socket) +
                 ": " + kMoreMemory;
        return nullptr;  // the destructor frees what was allocated, and the hash
    }
    std::uninitialized_value_construct_n(t->entries_, t->slots_);
    std::uninitialized_value_construct_n(t->valid_, t->slots_);
    std::uninitialized_value_construct_n(t->hint_, hints);
    t->hint_mask_ = hints - 1;
    return t;
}

FlowTable::~FlowTable() {
    if (hash_) rte_hash_free(hash_);
    rte_free(entries_);  // trivially destructible, as are the flags and hints
    rte_free(valid_);
    rte_free(hint_);
}

uint32_t FlowTable::prepare(const flow::Observation& o) const noexcept {
    const uint32_t sig = key_crc(KeyWords::of(o.src, o.src_port, o.vlan), 0);
    rte_prefetch0(&hint_[sig & hint_mask_]);
    return sig;
}

void FlowTable::prefetch(const flow::Observation& o, uint32_t sig) const noexcept {
    const uint32_t hint = hint_[sig & hint_mask_];
    if (hint == 0) return;
    const uint32_t i = hint - 1;
    rte_prefetch0(&valid_[i]);
    // The entry's lines (64-byte aligned: rte_malloc's alignment, and Entry's size a multiple).
    const char* e = reinterpret_cast<const char*>(&entries_[i]);
    rte_prefetch0(e);
    rte_prefetch0(e + 64);
    if (flow::Entry::updates_line_2(o)) rte_prefetch0(e + 128);
}

void FlowTable::observe(const flow::Observation& o, uint64_t now, pipeline::Counters& c) noexcept {
    observe(o, key_crc(KeyWords::of(o.src, o.src_port, o.vlan), 0), now, c);
}

void FlowTable::observe(const flow::Observation& o, uint32_t sig, uint64_t now, pipeline::Counters& c) noexcept {
    const KeyWords kw = KeyWords::of(o.src, o.src_port, o.vlan);
    // The hint: the slot this hash last led to. It is right when that slot is still in use and
    // holds this key (a slot freed, or taken by another source, fails one of the two tests).
    uint32_t& hint = hint_[sig & hint_mask_];
    if (hint != 0) {
        const uint32_t i = hint - 1;
        if (valid_[i].load(std::memory_order_relaxed) && kw.equals(entries_[i].key)) {
            entries_[i].update(o, now);
            return;
        }
    }
    const flow::Key key = kw.key();
    const int32_t found = rte_hash_lookup_with_hash(hash_, &key, sig);
    if (found >= 0 && static_cast<uint32_t>(found) < slots_) {
        entries_[static_cast<uint32_t>(found)].update(o, now);
        hint = static_cast<uint32_t>(found) + 1;
        return;
    }
    int32_t pos = rte_hash_add_key_with_hash(hash_, &key, sig);
    if (pos < 0 && evict(c)) pos = rte_hash_add_key_with_hash(hash_, &key, sig);
    if (pos < 0 || static_cast<uint32_t>(pos) >= slots_) {
        c.add(pipeline::Counter::flow_table_full);
        return;
    }
    flow::Entry& e = entries_[static_cast<uint32_t>(pos)];
    e.start(o, now);
    if (ka_.interval) {
        e.next_ping = now + (ka_.interval >> 16) * (sig & 0xffffu);  // sig: rte_hash_hash(hash_, &key)
    }
    valid_[static_cast<uint32_t>(pos)].store(1, std::memory_order_release);
    size_.fetch_add(1, std::memory_order_relaxed);
    hint = static_cast<uint32_t>(pos) + 1;
    c.add(pipeline::Counter::flows_created);
}

uint32_t FlowTable::step(uint32_t& cursor) const noexcept {
    const uint32_t i = cursor;
    cursor = cursor + 1 == slots_ ? 0 : cursor + 1;
    return i;
}

void FlowTable::age(uint64_t now, uint64_t max_idle, uint32_t budget, pipeline::Counters& c) noexcept {
    for (uint32_t n = 0; n < budget && slots_; ++n) {
        const uint32_t i = step(cursor_);
        if (!valid_[i].load(std::memory_order_relaxed)) continue;
        if (now - entries_[i].last_alive() <= max_idle) continue;
        remove(i);
        c.add(pipeline::Counter::flows_aged);
    }
}

bool FlowTable::evict(pipeline::Counters& c) noexcept {
    // The least recently alive of kEvictSample slots, walking on from where the last eviction
    // stopped: an approximation of LRU that costs a few cache lines, not a pass over the table.
    uint32_t victim = UINT32_MAX;
    uint64_t oldest = UINT64_MAX;
    for (uint32_t n = 0; n < kEvictSample && slots_; ++n) {
        const uint32_t i = step(evict_cursor_);
        if (!valid_[i].load(std::memory_order_relaxed)) continue;
        if (entries_[i].last_alive() < oldest) {
            oldest = entries_[i].last_alive();
            victim = i;
        }
    }
    if (victim == UINT32_MAX) return false;
    remove(victim);
    c.add(pipeline::Counter::flows_evicted);
    return true;
}

void FlowTable::remove(uint32_t i) noexcept {
    valid_[i].store(0, std::memory_order_release);
    const int32_t pos = rte_hash_del_key(hash_, &entries_[i].key);
    if (pos >= 0) rte_hash_free_key_with_position(hash_, pos);
    size_.fetch_sub(1, std::memory_order_relaxed);
}

void FlowTable::keepalive(uint64_t now, uint32_t budget, KeepaliveSink& sink, pipeline::Counters& c) noexcept {
    if (!ka_.interval) return;
    for (uint32_t n = 0; n < budget && slots_; ++n) {
        const uint32_t i = step(ka_cursor_);
        if (!valid_[i].load(std::memory_order_relaxed)) continue;
        flow::Entry& e = entries_[i];
        if (!e.nat_seen || now < e.next_ping) continue;
        const bool wanted = now - e.last_seen <= ka_.active || (e.last_register && now - e.last_register <= ka_.registered);
        if (wanted && ka_.max_unanswered && e.unanswered >= ka_.max_unanswered) {
            remove(i);  // its NAT binding, or the agent, is gone
            c.add(pipeline::Counter::keepalive_timeouts);
            continue;
        }
        if (wanted && sink.send(e)) {
            e.last_ping = now;
            ++e.pings;
            ++e.unanswered;
        }
        e.next_ping += ka_.interval;
        if (e.next_ping <= now) e.next_ping = now + ka_.interval;  // late (busy worker): no catch-up burst
    }
}

bool FlowTable::contains(const flow::Key& key) const noexcept {
    const int32_t pos = rte_hash_lookup_with_hash(hash_, &key, key_crc(key, 0));
    return pos >= 0 && static_cast<uint32_t>(pos) < slots_ && valid_[static_cast<uint32_t>(pos)].load(std::memory_order_acquire);
}

std::vector<flow::Entry> FlowTable::snapshot(std::size_t n) const {
    std::vector<flow::Entry> out;
    for (uint32_t i = 0; i < slots_; ++i)
        if (valid_[i].load(std::memory_order_acquire)) out.push_back(entries_[i]);
    std::sort(out.begin(), out.end(), [](const flow::Entry& a, const flow::Entry& b) { return a.last_seen > b.last_seen; });
    if (out.size() > n) out.resize(n);
    return out;
}

}  // namespace farend::dataplane
