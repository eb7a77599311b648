// One worker's packet logic, without DPDK: a frame in, forward or drop out, counters updated.
// The dataplane hands it each received frame (linear, with its tailroom as room to grow).
#pragma once

#include <farend/flow/flow.hpp>
#include <farend/net/frame.hpp>
#include <farend/pipeline/config.hpp>
#include <farend/pipeline/counters.hpp>
#include <farend/rewrite/processor.hpp>

#include <bitset>
#include <memory>

namespace farend::pipeline {

enum class Direction : uint8_t { access_to_core, core_to_access };
// grow: the rewrite does not fit the buffer; hand the frame again in one of at least
// Frame::needed bytes (nothing was counted for this attempt).
enum class Action : uint8_t { forward, drop, grow };

struct Frame {
    uint8_t* data = nullptr;
    uint32_t len = 0;         // frame length; updated when a rewrite resizes it
    uint32_t capacity = 0;    // bytes the frame may grow to in its buffer
    bool may_grow = false;    // the caller can move the frame to a larger buffer (Action::grow)
    uint32_t needed = 0;      // with Action::grow: the capacity that would do
    bool observed = false;    // out: a SIP message was read; Worker::observation() says what of
    bool offload = false;     // in: the output port computes IPv4 and UDP checksums on transmit
    // out, when a rewrite left checksums to the port: header lengths and what to ask of it
    bool offloaded = false, offload_ipv6 = false, offload_udp = false;
    uint16_t offload_l2 = 0, offload_l3 = 0;
};

class Worker {
public:
    explicit Worker(const Config& config, const simd::Kernel& kernel = simd::active());

    // ~150-700 ns for a SIP candidate (parse dominates), ~20 ns for anything else.
    Action process(Frame& frame, Direction direction) noexcept;

    // What the last frame with Frame::observed set told about its source (for the flow table).
    [[nodiscard]] const flow::Observation& observation() const noexcept { return observation_; }

    [[nodiscard]] Counters& counters() noexcept { return *counters_; }
    [[nodiscard]] const Counters& counters() const noexcept { return *counters_; }

private:
    const Config& config_;
    std::bitset<65536> sip_ports_;
    rewrite::Processor processor_;
    std::unique_ptr<Counters> counters_;
    flow::Observation observation_;

    void observe(const Frame& f, const net::FrameView& v, const rewrite::Result& r) noexcept;
};

}  // namespace farend::pipeline
