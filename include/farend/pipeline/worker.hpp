// One worker's packet logic, without DPDK: a frame in, forward or drop out, counters updated.
// The dataplane hands it each received frame (linear, with its tailroom as room to grow).
#pragma once

#include <farend/flow/flow.hpp>
#include <farend/net/frame.hpp>
#include <farend/pipeline/config.hpp>
#include <farend/pipeline/counters.hpp>
#include <farend/rewrite/processor.hpp>

#include <array>
#include <atomic>
#include <bitset>
#include <cstring>
#include <memory>

namespace farend::pipeline {

enum class Direction : uint8_t { access_to_core, core_to_access };
// grow: the rewrite does not fit the buffer; hand the frame again in one of at least
// Frame::needed bytes (nothing was counted for this attempt).
enum class Action : uint8_t { forward, drop, grow };

// In: data, len, capacity, may_grow, offload, udp_checksum_good. The Worker writes observed and
// offloaded for every frame it is given, needed with Action::grow and the offload_* fields with
// offloaded: a caller may hand a Frame again with its inputs set anew, its outputs as they were.
struct Frame {
    uint8_t* data = nullptr;
    uint32_t len = 0;         // frame length; updated when a rewrite resizes it
    uint32_t capacity = 0;    // bytes the frame may grow to in its buffer
    bool may_grow = false;    // the caller can move the frame to a larger buffer (Action::grow)
    uint32_t needed = 0;      // with Action::grow: the capacity that would do
    bool observed = false;    // out: a SIP message was read; Worker::observation() says what of
    bool offload = false;     // in: the output port computes IPv4 and UDP checksums on transmit
    bool udp_checksum_good = false;  // in: the input port found the UDP checksum right (RX offload)
    // out, when a rewrite left checksums to the port: header lengths and what to ask of it
    bool offloaded = false, offload_ipv6 = false, offload_udp = false;
    uint16_t offload_l2 = 0, offload_l3 = 0;
};

// Who has been seen on the access side (the flow tables, any worker's): alias re-targeting sends
// a request only to an address that one of them knows.
class FlowDirectory {
public:
    virtual ~FlowDirectory() = default;
    [[nodiscard]] virtual bool known(const flow::Key& key) const noexcept = 0;
};

// The kind of a SIP message for the order in which a burst's messages are read: its first four
// bytes ("REGI", "INVI", "SIP/", "ACK ", ...) hashed to one of kKindClasses classes. REGISTER,
// INVITE, responses, ACK, BYE and OPTIONS each have a class of their own.
inline constexpr unsigned kKindClasses = 8;
[[nodiscard]] inline uint8_t kind_class(const uint8_t* payload, uint32_t len) noexcept {
    uint32_t w = 0;
    if (len >= 4) std::memcpy(&w, payload, 4);
    return static_cast<uint8_t>((w * 0x9e3779b1u) >> 29);
}

class Worker {
public:
    explicit Worker(const Config& config, const simd::Kernel& kernel = simd::active());

    static constexpr uint16_t kMaxBurst = 64;

    // One burst, stage by stage (VPP-style: each stage over the whole burst keeps its code and
    // data warm): classify every frame (L2-L4, SIP port), then read, test and rewrite the SIP
    // candidates, then fix the rewritten frames' lengths and checksums. actions[i] is frames[i]'s
    // verdict. n <= kMaxBurst.
    // ~150-700 ns per SIP candidate (the parse dominates), ~20 ns for anything else.
    void process_burst(Frame* frames, Action* actions, uint16_t n, Direction direction) noexcept;
    // A burst of one.
    Action process(Frame& frame, Direction direction) noexcept;

    // Whether SIP requests from the core side are read (alias mode, or a rule that sets it): the
    // dataplane then reassembles that side's fragments too.
    [[nodiscard]] bool reads_core_side() const noexcept;

    // Alias mode's reverse path needs to know the access side's sources; without a directory
    // every alias counts as unknown and is left alone.
    void set_flow_directory(const FlowDirectory* d) noexcept { directory_ = d; }
    // Rules: *rules is read once per burst (the dataplane swaps it on reload, RCU); null = none.
    // index is this worker's row in the rules' hit counters.
    void set_rules(const std::atomic<rewrite::PolicySource*>* rules, unsigned index) noexcept {
        rules_ = rules;
        index_ = index;
    }

    // What frame i of the last burst told about its source, when it has Frame::observed set
    // (for the flow table).
    [[nodiscard]] const flow::Observation& observation(std::size_t i = 0) const noexcept { return observations_[i]; }
    // The same, for the dataplane to add what only it knows (the ingress port) in place.
    [[nodiscard]] flow::Observation& observation(std::size_t i = 0) noexcept { return observations_[i]; }

    [[nodiscard]] Counters& counters() noexcept { return *counters_; }
    [[nodiscard]] const Counters& counters() const noexcept { return *counters_; }

private:
    const Config& config_;
    std::bitset<65536> sip_ports_;
    rewrite::Processor processor_;
    std::unique_ptr<Counters> counters_;
    std::array<flow::Observation, kMaxBurst> observations_{};
    // Each burst's frame views: kept here rather than on the stack, where the array (4 KiB) was
    // zeroed on every burst; parse_frame() resets each view it fills.
    std::array<net::FrameView, kMaxBurst> views_{};
    // Each candidate's UDP checksum, when it is left for the parser's scan to finish (damaged()).
    std::array<rewrite::UdpChecksum, kMaxBurst> checksums_{};
    // The frames of the burst rewritten by handle_sip(), a bit a slot, and each one's new payload
    // size: process_burst() finishes them (finish(): lengths, checksums) once the burst's last
    // candidate is read, when the stores of their rewrites have long reached the cache.
    uint64_t to_finish_ = 0;
    std::array<uint32_t, kMaxBurst> finish_size_{};
    static_assert(kMaxBurst <= 64, "to_finish_ has a bit a slot");
    const FlowDirectory* directory_ = nullptr;
    const std::atomic<rewrite::PolicySource*>* rules_ = nullptr;
    rewrite::PolicySource* burst_rules_ = nullptr;  // *rules_ for the burst being processed
    unsigned index_ = 0;
    bool reverse_alias_ = false;  // core->access SIP requests are read for an alias
    bool keepalive_answers_ = false;  // OPTIONS keepalives are sent: their answers are consumed
    bool verify_checksums_ = true;    // --checksums verify

    // The same, with the rules given (the burst's).
    [[nodiscard]] bool reads_core_side(const rewrite::PolicySource* rules) const noexcept;
    // Stage 1: true when the frame is a SIP candidate (then v is filled, and checksum says what
    // of its UDP checksum is left for the parse to check: never on the core side, whose
    // candidates are checked whole); else its verdict is set.
    bool classify(Frame& f, Direction dir, net::FrameView& v, rewrite::UdpChecksum& checksum, Action& action) noexcept;
    // True, and counted (damaged_counted()), when a candidate came damaged: its IPv4 header or UDP
    // checksum wrong (the UDP one by the port's word, or summed here). It is not read: a rewrite
    // would sum its checksums anew over the damaged bytes and vouch for them, where its receiver
    // would have discarded it. Never with --checksums ignore. This one sums it all (the core
    // side's, rarely read); the access side's checks the IPv4 header and leaves in `payload` the
    // UDP checksum's share for the scan of handle_sip() to finish.
    [[nodiscard]] bool damaged(const Frame& f, const net::FrameView& v) noexcept;
    [[nodiscard]] bool damaged(const Frame& f, const net::FrameView& v, rewrite::UdpChecksum& payload) noexcept;
    // Counts a damaged candidate (bad_checksum, passed_unmodified); true.
    bool damaged_counted() noexcept;
    // Stage 2: one SIP candidate. A frame it rewrites is noted (to_finish_); stage 3 fixes its
    // lengths and checksums.
    Action handle_sip(Frame& f, const net::FrameView& v, std::size_t slot) noexcept;
    // Stage 2's order: the burst's SIP candidates (indices into frames) grouped by the kind of
    // their message (kind_class), so that messages of one kind are read one after another and
    // the branches that follow a message's kind are predicted from the one before. The verdicts,
    // outputs and observations stay each frame's own: only the order of the reading changes.
    void order_by_kind(const Frame* frames, uint16_t* sip, uint16_t n) const noexcept;
    // An answer to one of farend's OPTIONS keepalives: counted, noted for the flow, consumed.
    bool keepalive_answer(Frame& f, const net::FrameView& v, std::size_t slot) noexcept;
    // Stage 2 on the core side: alias re-targeting.
    Action handle_reverse(Frame& f, const net::FrameView& v) noexcept;
    // After the UDP payload became `size` bytes: lengths and checksums (or the port's offload).
    // header_verified: classify() found the IPv4 header's checksum right, and only lengths changed
    // in it since (net::fix_after_resize adjusts the checksum then).
    void finish(Frame& f, const net::FrameView& v, uint32_t size, bool header_verified) const noexcept;
    void observe(const Frame& f, const net::FrameView& v, const rewrite::Result& r, std::size_t slot) noexcept;
};

}  // namespace farend::pipeline
