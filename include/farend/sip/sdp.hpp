// The SDP lines that carry addresses (RFC 4566 5.2 o=, 5.7 c=, 5.14 m=; RFC 3605 a=rtcp:).
// Every address is reported with its offsets so that a rewrite can replace it in place.
#pragma once

#include <farend/base/ip_addr.hpp>
#include <farend/base/slice.hpp>
#include <farend/sip/mask_view.hpp>
#include <farend/sip/uri.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace farend::sip {

enum class SdpAddrKind : uint8_t { origin, connection, rtcp };

struct SdpAddress {
    SdpAddrKind kind = SdpAddrKind::connection;
    int16_t media = -1;   // index of the m= section it belongs to; -1 at session level
    Slice line;           // the whole line without its line end
    Slice addrtype;       // "IP4" / "IP6"
    Slice addr;           // the address only (no "/ttl/count" suffix)
    IpAddr ip;            // valid when addr is a literal of the family addrtype names
};

struct SdpMedia {
    Slice line;
    Slice media;   // "audio"
    Slice port;    // "49170"
    uint16_t port_num = 0;
};

struct Sdp {
    static constexpr std::size_t kMaxAddrs = 32;
    static constexpr std::size_t kMaxMedia = 16;
    uint8_t addr_count = 0;
    uint8_t media_count = 0;
    bool truncated = false;        // more addresses than this holds: the rest were not read
    bool media_truncated = false;  // more m= lines than this holds (their addresses are read)
    bool malformed = false;   // an o=/c=/m=/a=rtcp line that does not follow its grammar
    SdpAddress addrs[kMaxAddrs];
    SdpMedia media[kMaxMedia];
};

// Reads the SDP in buf[body]; mv are the class masks of buf. Lines may end in CRLF or bare LF.
// `known`, when given, is an IPv4 host read before in buf (the agent's, from its Contact or Via):
// an address field of the same bytes is that address, copied rather than read again (an SDP
// usually names the address its agent's headers name).
void parse_sdp(std::string_view buf, MaskView mv, Slice body, Sdp& out, const HostPort* known = nullptr) noexcept;

// An SDP whose table overflowed (prev.truncated; prev read from body): reads the addresses after
// prev's last into next, a table's worth (next may be prev). False, next untouched, when nothing
// is left to read. Readers that need every address call each_sdp_rest().
bool parse_sdp_on(std::string_view buf, MaskView mv, Slice body, const Sdp& prev, Sdp& next) noexcept;

// each(table) for every table of addresses of an SDP past its first (first, read from body), in
// order, until the body ends: nothing when first was not truncated. One table on the stack.
template <class Fn>
void each_sdp_rest(std::string_view buf, MaskView mv, Slice body, const Sdp& first, Fn&& each) noexcept {
    Sdp rest;
    for (const Sdp* s = &first; s->truncated && parse_sdp_on(buf, mv, body, *s, rest); s = &rest)
        each(static_cast<const Sdp&>(rest));
}

// The same for a buffer that was not scanned (tests, tools): scans it first. Allocates.
void parse_sdp(std::string_view buf, Slice body, Sdp& out);

}  // namespace farend::sip
