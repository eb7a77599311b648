// Host bytes and the host[:port] read before, shared by the URI and Contact parsers. Internal to
// the sip module.
#pragma once

#include <farend/base/bytes.hpp>
#include <farend/sip/chars.hpp>
#include <farend/sip/uri.hpp>

#include "quad.hpp"

#include <array>
#include <cstdint>
#include <string_view>

namespace farend::sip::detail {

// Byte classes for hosts, one table lookup per byte. kHost: allowed in a hostname or an IPv4
// literal (RFC 3261 hostname = labels of alphanum / '-'; '_' is accepted too, as it is common
// in the wild and harmless here). kDigitDot: a byte an IPv4 literal may hold.
enum : uint8_t { kHost = 1, kDigitDot = 2, kDot = 4 };
constexpr std::array<uint8_t, 256> make_host_table() {
    std::array<uint8_t, 256> t{};
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = kHost;
    for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = kHost;
    for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = kHost | kDigitDot;
    t['-'] = kHost;
    t['_'] = kHost;
    t['.'] = kHost | kDigitDot | kDot;
    return t;
}
inline constexpr auto kHostTable = make_host_table();

// Bytes after which a host or port read the same as before: not a host byte, a colon (a port
// would follow) or white space (a Via's colon may have some around it).
inline constexpr auto kEndsHostPort = [] {
    std::array<bool, 256> t{};
    for (std::size_t c = 0; c < 256; ++c)
        t[c] = !(kHostTable[c] & kHost) && c != ':' && !chars::is_lws(static_cast<char>(c));
    return t;
}();

// The IPv4 host[:port] k read before, at p: its offset after, with out filled, or 0 when the bytes
// at p are not the same host[:port] ending there (the caller then reads them). Only a text with
// no white space around its colon, followed by a byte that ends a host or port, reads the same.
[[gnu::always_inline]] inline uint32_t known_hostport(std::string_view buf, uint32_t p, uint32_t end,
                                                      const HostPort& k, HostPort& out) noexcept {
    if (k.kind != HostKind::ipv4 || k.bracketed || (k.has_port() && k.port.off != k.host.end() + 1)) return 0;
    const uint32_t len = k.whole().len;
    if (end - p < len || !same_bytes(buf.data() + p, buf.data() + k.host.off, len) ||
        (p + len < end && !kEndsHostPort[static_cast<unsigned char>(buf[p + len])]))
        return 0;
    out = k;
    out.host.off = p;
    if (k.has_port()) out.port.off = p + (k.port.off - k.host.off);
    return p + len;
}

// An IPv4 literal at h with an optional ":port" (1-5 digits, at most 65535; no white space around
// the colon), before end: the offset after it, with hp's host, ip, kind and port filled, or 0
// when h starts no dotted quad or its port is bad. What may follow is the caller's to test (a
// Via's ';' or ',', a Contact's '>'), and it must be a byte that ends a port: a digit there
// means a longer port than was read. hp may be partly written when it returns 0. The Via's and
// the Contact's fast paths read their usual IPv4 sent-by or host this way, without a call of
// parse_hostport() and its reset.
[[gnu::always_inline]] inline uint32_t ipv4_hostport(const char* b, uint32_t size, uint32_t h, uint32_t end,
                                                     HostPort& hp) noexcept {
    uint8_t quad[4];
    const uint32_t qe = dotted_quad(b, size, h, end, quad);
    if (qe == 0) return 0;
    uint32_t q = qe;
    if (q < end && b[q] == ':') {
        uint32_t port = 5060, digits = 4;
        const uint32_t d = q + 1;
        // The usual port, SIP's own 5060, by one compare (~40 instructions fewer than the
        // digits' read); any other by digit_run(). A digit after "5060" ends no port: the
        // callers' test of the byte after (see above) sends such a text the general way.
        if (end - d < 4 || load_u32(b + d) != load_u32("5060")) {
            digits = digit_run(b, size, d, end, port);
            if (digits == 0 || digits > 5 || port > 65535) return 0;
        }
        hp.port = Slice{d, digits};
        hp.port_num = static_cast<uint16_t>(port);
        q = d + digits;
    }
    hp.host = Slice{h, qe - h};
    hp.ip.set_v4(quad);
    hp.kind = HostKind::ipv4;
    return q;
}

}  // namespace farend::sip::detail
