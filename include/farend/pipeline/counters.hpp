// The counters of one worker: one table of names and descriptions (what a non-zero value
// means), one cache-aligned block of plain uint64 per worker, written by that worker only and
// summed by readers (telemetry, the exit report). Names are the telemetry keys.
#pragma once

#include <farend/base/cacheline.hpp>
#include <farend/nat/detect.hpp>
#include <farend/sip/message.hpp>

#include <array>
#include <cstdint>
#include <string_view>

namespace farend::pipeline {

#define FAREND_COUNTERS(X)                                                                                       \
    X(rx_packets, "rx_packets", "frames received on any port")                                                   \
    X(tx_packets, "tx_packets", "frames sent on any port")                                                       \
    X(rx_bytes, "rx_bytes", "bytes of frames received")                                                          \
    X(tx_bytes, "tx_bytes", "bytes of frames sent")                                                              \
    X(sip_messages, "sip_messages", "UDP datagrams to (access->core) a SIP port, read as SIP")                   \
    X(nat_detected, "nat_detected", "SIP messages where an enabled NAT test fired")                              \
    X(rewritten, "rewritten", "SIP messages changed by the rewrites")                                            \
    X(passed_unmodified, "passed_unmodified", "frames forwarded byte-identical (non-SIP, not NATed, malformed pass)") \
    X(nat_unchanged, "nat_unchanged", "NATed messages that already said what the rewrites would write")          \
    X(malformed, "malformed", "SIP candidates that did not parse (see malformed_*)")                             \
    X(dropped, "dropped", "frames not forwarded (see drop_*)")                                                   \
    X(core_to_access, "core_to_access", "frames forwarded from a core port to its access port")                  \
    X(alias_retargeted, "alias_retargeted", "core->access requests sent to the address in their Request-URI's alias (parameter removed)") \
    X(alias_unknown, "alias_unknown", "core->access requests whose alias names no source seen on the access side: left alone") \
    X(alias_bad, "alias_bad", "core->access requests whose alias is not ip~port~1 (UDP) or not of the packet's IP family: left alone") \
    X(not_udp, "not_udp", "frames forwarded as they are: not IP/UDP")                                            \
    X(fragments, "fragments", "IP fragments received on an access port, or a core port in alias mode (reassembled before processing)") \
    X(reassembled, "reassembled", "IP datagrams put back together from fragments")                              \
    X(fragments_passed, "fragments_passed", "IP fragments forwarded as they came, not reassembled: more than 8 pieces, timed out (2 s), overlapping, the table full, or an IPv6 fragment header after other extension headers") \
    X(refragmented, "refragmented", "datagrams larger than the MTU sent as IP fragments")                       \
    X(bad_frames, "bad_frames", "frames whose IP/UDP headers are inconsistent, forwarded as they are")           \
    X(bad_checksum, "bad_checksum", "SIP candidates whose IPv4 header or UDP checksum is wrong (damaged on the way): forwarded as they are, never rewritten") \
    X(rewrite_no_room, "rewrite_no_room", "NATed messages forwarded unmodified: the rewrite did not fit the buffer") \
    X(rewrite_plan_error, "rewrite_plan_error", "NATed messages forwarded unmodified: overlapping edits (a bug)") \
    X(rewrite_too_many_edits, "rewrite_too_many_edits", "NATed messages forwarded unmodified: more edits than a plan holds (1,024; some 1,000 SDP addresses)") \
    X(contacts_skipped, "contacts_skipped", "NATed messages whose Contact was left alone: a value did not parse, named maddr or alias twice, or there were more than 16") \
    X(sdp_skipped, "sdp_skipped", "NATed messages whose SDP was left alone: more than 8 SDP bodies, a multipart body that did not split or nests more than 3 deep, or an encoded body") \
    X(oversize_tx, "oversize_tx", "frames larger than the MTU sent whole: IPv4 with don't-fragment set, or an IP length not the frame's (cut short on the way)") \
    X(rule_matched, "rule_matched", "SIP messages a rule decided (see /farend/rules for each rule's hits)")     \
    X(rule_forced, "rule_forced", "SIP messages rewritten although no NAT test fired: a rule with action force") \
    X(rule_never, "rule_never", "SIP messages forwarded untouched: a rule with action never")                  \
    X(drop_rule, "drop_rule", "SIP messages dropped by a rule with action drop")                               \
    X(drop_malformed, "drop_malformed", "malformed SIP dropped (--malformed drop)")                              \
    X(drop_tx_full, "drop_tx_full", "frames the TX queue did not take, freed")                                   \
    X(drop_linearize, "drop_linearize", "multi-segment frames that could not be linearised, freed")              \
    X(drop_fragments, "drop_fragments", "fragments the reassembly gave up on half-assembled (overlapping pieces) or from a port in no pair, freed") \
    X(drop_fragmentation, "drop_fragmentation", "datagrams or fragments lost while cutting to the MTU")         \
    X(flows_created, "flows_created", "new observed sources put in the flow table")                          \
    X(flows_aged, "flows_aged", "flows removed after 600 s without a SIP message")                             \
    X(flows_evicted, "flows_evicted", "flows removed to make room for a new source: the flow table was full (--flow-capacity)") \
    X(flow_table_full, "flow_table_full", "SIP from a new source not tracked: no flow could be evicted (still forwarded)") \
    X(keepalives_sent, "keepalives_sent", "NAT keepalives sent to NATed agents (--keepalive-interval)")          \
    X(keepalive_answers, "keepalive_answers", "answers to OPTIONS keepalives, consumed (not forwarded to the switch)") \
    X(keepalive_timeouts, "keepalive_timeouts", "flows dropped after 3 OPTIONS keepalives in a row went unanswered") \
    X(keepalive_no_mbuf, "keepalive_no_mbuf", "keepalives not sent: the mbuf pool was empty (sent at the next interval)") \
    X(busy_cycles, "busy_cycles", "TSC cycles spent in loop iterations that received frames")                   \
    X(loops, "loops", "poll loop iterations")

enum class Counter : uint16_t {
#define FAREND_X(id, name, desc) id,
    FAREND_COUNTERS(FAREND_X)
#undef FAREND_X
        count
};
inline constexpr std::size_t kCounterCount = static_cast<std::size_t>(Counter::count);
// After the fixed counters: one per NAT test, one per malformed reason.
inline constexpr std::size_t kNatBase = kCounterCount;
inline constexpr std::size_t kMalformedBase = kNatBase + nat::kTestCount;
inline constexpr std::size_t kAllCounters = kMalformedBase + sip::kParseErrorCount;

// The number of sets of NAT tests (nat::TestMask values): Counters::verdicts has a counter each.
inline constexpr std::size_t kVerdictCount = std::size_t{1} << nat::kTestCount;
static_assert(nat::kAllTests == kVerdictCount - 1, "a verdict's mask indexes Counters::verdicts");

struct alignas(kCacheLine) Counters {
    std::array<uint64_t, kAllCounters> v{};
    // NATed messages by the set of tests that fired: one increment a message, where a counter a
    // test took a loop over the mask's bits (~20 instructions a NATed message). The per-test
    // counters v[kNatBase + t] are made from these by settle(): a worker never writes them.
    std::array<uint64_t, kVerdictCount> verdicts{};
    void add(Counter c, uint64_t n = 1) noexcept { v[static_cast<std::size_t>(c)] += n; }
    void verdict(nat::TestMask fired) noexcept { ++verdicts[fired & nat::kAllTests]; }
    void malformed(sip::ParseError e) noexcept { ++v[kMalformedBase + static_cast<std::size_t>(e)]; }
    [[nodiscard]] uint64_t get(Counter c) const noexcept { return v[static_cast<std::size_t>(c)]; }
    // Each test's counter (v[kNatBase + t]): the verdicts it is part of, summed. Readers of a
    // worker's counters (telemetry, the final report) settle their copy first.
    void settle() noexcept {
        for (std::size_t t = 0; t < nat::kTestCount; ++t) {
            uint64_t n = 0;
            for (std::size_t m = 0; m < kVerdictCount; ++m)
                if (m >> t & 1) n += verdicts[m];
            v[kNatBase + t] = n;
        }
    }
    [[nodiscard]] Counters settled() const noexcept {
        Counters c = *this;
        c.settle();
        return c;
    }
    Counters& operator+=(const Counters& o) noexcept {
        for (std::size_t i = 0; i < kAllCounters; ++i) v[i] += o.v[i];
        for (std::size_t m = 0; m < kVerdictCount; ++m) verdicts[m] += o.verdicts[m];
        return *this;
    }
};

// Name and description of counter index i (0 .. kAllCounters-1): "nat_contact_private",
// "malformed_bad_start_line", ...
[[nodiscard]] std::string_view counter_name(std::size_t i) noexcept;
// False for the one slot that only keeps indices aligned (malformed reason "none", never counted):
// reports and telemetry leave it out.
[[nodiscard]] constexpr bool counter_reported(std::size_t i) noexcept {
    return i != kMalformedBase + static_cast<std::size_t>(sip::ParseError::none);
}
[[nodiscard]] std::string_view counter_description(std::size_t i) noexcept;

}  // namespace farend::pipeline
