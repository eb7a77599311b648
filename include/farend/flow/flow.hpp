// A flow: what farend knows about one observed source (address, port, VLAN) on the access side.
// Soft state: rewrite decisions never depend on it (boxes behind ECMP share nothing); it feeds
// telemetry, NAT keepalives and alias re-targeting. DPDK-free: the table that holds
// these (rte_hash, lock-free readers) lives in the dataplane.
#pragma once

#include <farend/base/ip_addr.hpp>
#include <farend/nat/detect.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

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
    // The address of() was given back.
    [[nodiscard]] IpAddr ip() const noexcept {
        switch (static_cast<IpAddr::Family>(family)) {
            case IpAddr::Family::v4:
                return IpAddr::v4_bytes(std::span<const uint8_t, 4>(addr.data(), 4));
            case IpAddr::Family::v6:
                return IpAddr::v6_bytes(addr);
            default:
                return IpAddr{};
        }
    }
};
static_assert(sizeof(Key) == 24);

// What one SIP message from the source tells about it.
struct Observation {
    IpAddr src, dst;
    uint16_t src_port = 0, dst_port = 0, vlan = 0, ingress_port = 0;
    std::array<uint8_t, 12> macs{};  // the frame's first 12 bytes: its destination MAC, then its source
    nat::TestMask fired = 0;  // NAT tests that fired
    bool rewritten = false;
    bool is_register = false;
    IpAddr agent;             // the address the agent wrote (top Via host, else a Contact host), if any
    uint32_t bytes = 0;
    bool keepalive_answer = false;  // a response to one of farend's OPTIONS keepalives (consumed)
};

// 192 bytes, 64-byte aligned, in three cache lines by use: line 0 holds the key and what every
// message changes, line 1 what a message says of both ends, line 2 what only a REGISTER, a
// keepalive or telemetry touches. So a message's update reads and writes two lines (three for a
// REGISTER or a keepalive's answer), which FlowTable::prefetch() fetches ahead. The source's
// address, port and VLAN are the key's (no copies).
struct alignas(64) Entry {
    // Line 0.
    Key key;
    uint64_t last_seen = 0;   // TSC of the last SIP message
    uint64_t packets = 0, bytes = 0, rewritten = 0;
    nat::TestMask last_verdict = 0;
    bool nated = false;       // a NAT test fired on the last message
    bool nat_seen = false;    // a NAT test fired on some message (keepalives go to these)
    uint32_t unanswered = 0;  // NAT keepalives unanswered since the source last showed life
    // Line 1.
    IpAddr private_addr;      // what the agent says it is (Via/Contact), when a literal
    IpAddr peer;              // where it sent to (the switch)
    uint16_t peer_port = 0;
    uint16_t ingress_port = 0;
    std::array<uint8_t, 12> macs{};  // the last message's, as in its frame: destination MAC, then source
    // Line 2. TSC; NAT keepalives: when the next is due, the last sent and answered, how many.
    uint64_t last_register = 0, first_seen = 0;
    uint64_t next_ping = 0, last_ping = 0, last_answer = 0;
    uint64_t pings = 0, answers = 0;

    // The observed source (the key's).
    [[nodiscard]] IpAddr public_addr() const noexcept { return key.ip(); }
    [[nodiscard]] uint16_t public_port() const noexcept { return key.port; }
    [[nodiscard]] uint16_t vlan() const noexcept { return key.vlan; }
    // The MACs of the last message's frame: from the agent's side (its router), to the switch's.
    [[nodiscard]] std::array<uint8_t, 6> src_mac() const noexcept { return {macs[6], macs[7], macs[8], macs[9], macs[10], macs[11]}; }
    [[nodiscard]] std::array<uint8_t, 6> dst_mac() const noexcept { return {macs[0], macs[1], macs[2], macs[3], macs[4], macs[5]}; }
    // The last sign of life: a message or an answer to a keepalive.
    [[nodiscard]] uint64_t last_alive() const noexcept { return last_answer > last_seen ? last_answer : last_seen; }

    void start(const Observation& o, uint64_t now) noexcept;
    void update(const Observation& o, uint64_t now) noexcept;
    // Whether update(o) writes line 2 as well (a REGISTER's time, a keepalive answer's).
    [[nodiscard]] static bool updates_line_2(const Observation& o) noexcept { return o.is_register || o.keepalive_answer; }
};
static_assert(sizeof(Entry) == 192 && offsetof(Entry, private_addr) == 64 && offsetof(Entry, last_register) == 128,
              "Entry's lines: what every message changes, what it says of both ends, the rest");

}  // namespace farend::flow
