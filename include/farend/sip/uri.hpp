// Host/port, parameters and SIP URIs (RFC 3261 19.1, 25.1; IPv6 references per RFC 5118).
#pragma once

#include <farend/base/ip_addr.hpp>
#include <farend/base/slice.hpp>
#include <farend/sip/mask_view.hpp>

#include <cstdint>
#include <string_view>

namespace farend::sip {

enum class HostKind : uint8_t { none, ipv4, ipv6, name };

struct HostPort {
    Slice host;              // as written; an IPv6 reference includes its brackets
    Slice port;              // digits only; empty when absent
    IpAddr ip;               // valid for ipv4/ipv6 hosts
    uint16_t port_num = 0;   // 0 when absent
    HostKind kind = HostKind::none;
    bool bracketed = false;  // IPv6 written as [..]; false for the ambiguous unbracketed form
    [[nodiscard]] bool has_port() const noexcept { return !port.empty(); }
    [[nodiscard]] Slice whole() const noexcept { return has_port() ? make_slice(host.off, port.end()) : host; }
};

// One ";name[=value]" parameter. `whole` runs from the ';' to the end of the value (or name).
struct Param {
    Slice whole;
    Slice name;
    Slice value;  // without quotes for a quoted value
    bool present = false;
    bool has_value = false;
};

enum class Scheme : uint8_t { none, sip, sips, tel, other };

struct Uri {
    Slice whole;
    Slice scheme;
    Scheme scheme_id = Scheme::none;
    Slice user;      // userinfo before '@' (user[:password]); empty when there is none
    HostPort host;   // sip and sips only
    Slice params;    // from the first ';' after hostport up to '?' or the end
    Slice headers;   // from '?' to the end
    Param maddr, transport, alias, lr;
    uint8_t param_count = 0;
    bool duplicate_param = false;  // maddr, transport, alias or lr given twice: ambiguous
    bool valid = false;

    // The port a SIP URI without one means (RFC 3261 19.1.2): 5061 for sips, else 5060.
    [[nodiscard]] uint16_t effective_port() const noexcept {
        if (host.has_port()) return host.port_num;
        return scheme_id == Scheme::sips ? 5061 : 5060;
    }
};

// Host [":" port] starting at p, ending at the first byte in `stops` (or LWS) after the host.
// Returns the offset after what it consumed; out.kind stays none on a malformed host or port.
uint32_t parse_hostport(std::string_view buf, uint32_t p, uint32_t end, HostPort& out,
                        bool allow_lws_around_colon) noexcept;

// A URI that fills exactly [s.off, s.end()) of buf, whose class masks are mv (not read: the URI's
// bytes are searched in place); sip/sips get their parts, other schemes only scheme and whole.
// valid is false when a sip/sips URI does not parse, or when the URI holds white space or a
// control byte.
[[nodiscard]] Uri parse_uri(std::string_view buf, MaskView mv, Slice s) noexcept;
// The same into out (reset first): no ~200-byte copy where the Uri lives inside a larger struct.
// `known`, when given, is an IPv4 host[:port] read before in the same buffer (extract_parts()
// passes the top Via's sent-by to the Contact's URI: behind a NAT both name the agent's private
// address). The same bytes as the URI's host, with no white space around its colon and followed
// by a byte that cannot continue a host or port, read the same: they are copied from it, not read
// again.
void parse_uri(std::string_view buf, MaskView mv, Slice s, Uri& out, const HostPort* known = nullptr) noexcept;

// The same for a buffer that was not scanned (tests, tools).
[[nodiscard]] Uri parse_uri(std::string_view buf, Slice s);

}  // namespace farend::sip
