// Via header values (RFC 3261 20.42, 25.1): every via-parm of every Via header, with the
// sent-by host and port and the parameters NAT traversal reads and writes (RFC 3581 rport).
#pragma once

#include <farend/sip/message.hpp>
#include <farend/sip/uri.hpp>

#include <cstddef>
#include <string_view>

namespace farend::sip {

struct Via {
    Slice value;        // the whole via-parm, first to last non-LWS byte
    Slice protocol;     // "SIP"
    Slice version;      // "2.0"
    Slice transport;    // "UDP", "TCP", "TLS", "SCTP", "WS", "WSS", ...
    HostPort sent_by;
    Slice params;       // from the first ';' to the end of the last parameter (empty when none)
    Param branch, received, rport, maddr, ttl;
    uint8_t param_count = 0;
    bool valid = false;

    // The port the sender listens on when sent-by has none (RFC 3261 18.2.2): 5061 for TLS.
    [[nodiscard]] uint16_t effective_port(std::string_view buf) const noexcept {
        if (sent_by.has_port()) return sent_by.port_num;
        const std::string_view t = text(buf, transport);
        return (iequals(t, "TLS") || iequals(t, "WSS")) ? 5061 : 5060;
    }
};

// Parses the comma-separated via-parms of one Via header value into out[0..cap). Returns how
// many it filled. mv are the class masks of buf (not read: a Via's bytes are searched in place;
// the parameter keeps the value parsers' one signature). Parsing stops at the first bad via-parm,
// which is returned with valid=false.
std::size_t parse_via_values(std::string_view buf, MaskView mv, Slice value, Via* out, std::size_t cap) noexcept;

// The topmost via-parm of the message (first value of the first Via header); false if none.
bool top_via(std::string_view buf, MaskView mv, const MessageIndex& index, Via& out) noexcept;

namespace detail {
// parse_via_values without its fast path for the usual via-parm (every via-parm read the general
// way): for the tests that hold the two to the same result.
std::size_t parse_via_values_general(std::string_view buf, Slice value, Via* out, std::size_t cap) noexcept;
}  // namespace detail

}  // namespace farend::sip
