// The reverse path of alias mode: a request from the switch whose Request-URI carries the
// ";alias=ip~port~proto" parameter that farend (or Kamailio's add_contact_alias) appended to the
// agent's Contact. The parameter names where the agent really is; farend takes it out of the
// Request-URI and sends the datagram there.
#pragma once

#include <farend/base/ip_addr.hpp>
#include <farend/base/slice.hpp>
#include <farend/sip/message.hpp>

#include <cstdint>
#include <string_view>

namespace farend::rewrite {

enum class AliasStatus : uint8_t {
    none,   // not a request, or its Request-URI is no sip/sips URI with an alias parameter
    found,  // target and param are set
    bad,    // an alias parameter that does not read as ip~port~1 (UDP): left alone
};

struct AliasTarget {
    IpAddr ip;
    uint16_t port = 0;
    Slice param;  // ";alias=..." in the message, ';' included
};

// "192.0.2.1~5060~1", "[2001:db8::1]~5060~1" (Kamailio's form), also without brackets. The
// protocol must be 1 (UDP) or absent; the port 1-65535.
[[nodiscard]] bool parse_alias_value(std::string_view value, IpAddr& ip, uint16_t& port) noexcept;

// Looks at the Request-URI of a complete parsed message.
[[nodiscard]] AliasStatus find_ruri_alias(std::string_view buf, sip::MaskView mv, const sip::MessageIndex& index,
                                          AliasTarget& out) noexcept;

}  // namespace farend::rewrite
