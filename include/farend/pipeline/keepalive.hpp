// NAT keepalives: the frame farend sends to a NATed agent's public address so its NAT binding
// stays open, as if from the switch (the flow's peer address and SIP port), out of the access
// port it came in on, with the MACs and VLAN of its frames reversed. DPDK-free: the dataplane
// puts the bytes in an mbuf.
#pragma once

#include <farend/flow/flow.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace farend::pipeline {

enum class KeepaliveMethod : uint8_t {
    options,  // a SIP OPTIONS request; the agent's answer is consumed and proves the flow alive
    crlf,     // "\r\n\r\n" (RFC 5626's ping; agents ignore it)
    null4,    // four zero bytes (Kamailio nathelper's UDP ping)
};

[[nodiscard]] std::optional<KeepaliveMethod> parse_keepalive_method(std::string_view s) noexcept;
[[nodiscard]] std::string_view keepalive_method_name(KeepaliveMethod m) noexcept;

// Every OPTIONS keepalive's top Via branch starts with this; responses whose top Via does are
// answers to farend and are not forwarded to the switch.
inline constexpr std::string_view kKeepaliveBranch = "z9hG4bK-farend-ka-";

// Answers to options keepalives that may go missing in a row before the flow is dropped.
inline constexpr uint32_t kKeepaliveMaxUnanswered = 3;

// Writes the keepalive frame for flow e into out[0, cap): Ethernet (802.1Q tag when e.vlan()) +
// IPv4/IPv6 + UDP with checksums. seq numbers it (IP id, branch, Call-ID). Returns the frame
// length; 0 when it does not fit or the flow has no peer of its family.
[[nodiscard]] uint32_t build_keepalive(const flow::Entry& e, KeepaliveMethod m, uint32_t seq, uint8_t* out,
                                       uint32_t cap) noexcept;

}  // namespace farend::pipeline
