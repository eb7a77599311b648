// A flow: what farend knows about one observed source (address, port, VLAN) on the access side.
// Soft state: rewrite decisions never depend on it (boxes behind ECMP share nothing); it feeds
// telemetry, NAT keepalives and alias re-targeting. DPDK-free: the table that holds
// these (rte_hash, lock-free readers) lives in the dataplane.
#pragma once

#include <farend/base/ip_addr.hpp>
#include <farend/nat/detect.hpp>

#include <array>
#include <cstdint>

namespace farend::flow {

// 24 bytes, no padding holes, so it can be hashed as bytes.
struct Key {
    std::array<uint8_t, 16> addr{};
    uint16_t port = 0;
    uint16_t vlan = 0;  // outer VLAN id, 0 when untagged
    uint8_t family = 0; // 4 or 6
    uint8_t pad[3] = {0, 0, 0};

    [[nodiscard]] static Key of(const IpAddr& ip, uint16_t port, uint16_t vlan) noexcept {
        Key k;
        k.addr = ip.bytes();
        k.port = port;
        k.vlan = vlan;
        k.family = static_cast<uint8_t>(ip.family());
        return k;
    }
};
static_assert(sizeof(Key) == 24);

// What one SIP message from the source tells about it.
struct Observation {
    IpAddr src, dst;
    uint16_t src_port = 0, dst_port = 0, vlan = 0, ingress_port = 0;
    std::array<uint8_t, 6> src_mac{}, dst_mac{};
    nat::TestMask fired = 0;  // NAT tests that fired
    bool rewritten = false;
    bool is_register = false;
    IpAddr agent;             // the address the agent wrote (top Via host, else a Contact host), if any
    uint32_t bytes = 0;
    bool keepalive_answer = false;  // a response to one of farend's OPTIONS keepalives (consumed)
};

struct Entry {
    Key key;
    IpAddr public_addr;       // observed source
    uint16_t public_port = 0;
    IpAddr private_addr;      // what the agent says it is (Via/Contact), when a literal
    IpAddr peer;              // where it sent to (the switch)
    uint16_t peer_port = 0;
    uint16_t vlan = 0;
    uint16_t ingress_port = 0;
    std::array<uint8_t, 6> src_mac{}, dst_mac{};
    uint64_t first_seen = 0, last_seen = 0, last_register = 0;  // TSC; last_seen: a SIP message
    uint64_t packets = 0, bytes = 0, rewritten = 0;
    nat::TestMask last_verdict = 0;
    bool nated = false;       // a NAT test fired on the last message
    bool nat_seen = false;    // a NAT test fired on some message (keepalives go to these)
    // NAT keepalives: when the next is due, the last sent and answered (TSC), how many pings went
    // unanswered since the source last showed life (any message or answer).
    uint64_t next_ping = 0, last_ping = 0, last_answer = 0;
    uint64_t pings = 0, answers = 0;
    uint32_t unanswered = 0;

    // The last sign of life: a message or an answer to a keepalive.
    [[nodiscard]] uint64_t last_alive() const noexcept { return last_answer > last_seen ? last_answer : last_seen; }

    void start(const Observation& o, uint64_t now) noexcept;
    void update(const Observation& o, uint64_t now) noexcept;
};

}  // namespace farend::flow
