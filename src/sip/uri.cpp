#include "host.hpp"
#include "params.hpp"
#include "quad.hpp"

#include <farend/base/bytes.hpp>
#include <farend/sip/chars.hpp>
#include <farend/sip/uri.hpp>

#include <array>
#include <cstring>

namespace farend::sip {

namespace {

using detail::kDigitDot;
using detail::kDot;
using detail::kHost;
using detail::kHostTable;
using detail::known_hostport;

constexpr bool is_hex(char c) noexcept {
    return chars::is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The usual host, a dotted quad (quad.hpp) that ends where a host name must: "1.2.3.4a" goes the
// general way, which decides it.
uint32_t host_quad(const char* b, uint32_t size, uint32_t p, uint32_t end, uint8_t (&out)[4]) noexcept {
    const uint32_t q = detail::dotted_quad(b, size, p, end, out);
    if (q == 0 || (q < end && (kHostTable[static_cast<unsigned char>(b[q])] & kHost))) return 0;
    return q;
}

// One pass over the bytes [p, end) of a URI in buf[0, size): the first '@' and the first '?'
// (end when there is none), and whether any byte is white space, a control byte, DEL or not
// ASCII (then at/qmark mean nothing). SSE2, 32 bytes a step (two loads whose three masks are
// joined into 32-bit words, cut at end once) while 32 bytes of buf remain, then byte by byte:
// reads only buf. A usual Contact URI ("sip:2000@192.168.1.10:5060") is one step and one bad-byte
// test, where 16-byte steps took two, each with its own tests (~70 instructions).
struct UriMarks {
    uint32_t at, qmark;
    bool bad;
};
inline UriMarks uri_marks(const char* b, uint32_t size, uint32_t p, uint32_t end) noexcept {
    UriMarks r{end, end, false};
    uint32_t i = p;
#if defined(__SSE2__)
    const __m128i at = _mm_set1_epi8('@'), qm = _mm_set1_epi8('?');
    const auto mask32 = [](__m128i lo, __m128i hi) {
        return static_cast<uint32_t>(_mm_movemask_epi8(lo)) | static_cast<uint32_t>(_mm_movemask_epi8(hi)) << 16;
    };
    for (; i < end && size - i >= 32; i += 32) {
        const __m128i v0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
        const __m128i v1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i + 16));
        // Bytes past end are cut off here (the usual URI ends inside its first step).
        const uint32_t live = end - i >= 32 ? ~uint32_t{0} : (uint32_t{1} << (end - i)) - 1;
        if (mask32(chars::space_or_control16(v0), chars::space_or_control16(v1)) & live) {
            r.bad = true;
            return r;
        }
        const uint32_t a = mask32(_mm_cmpeq_epi8(v0, at), _mm_cmpeq_epi8(v1, at)) & live;
        const uint32_t q = mask32(_mm_cmpeq_epi8(v0, qm), _mm_cmpeq_epi8(v1, qm)) & live;
        // Most SIP URIs have a user part: the '@' is usually found, the '?' hardly ever.
        if (a && r.at == end) r.at = i + static_cast<uint32_t>(__builtin_ctz(a));
        if (q && r.qmark == end) [[unlikely]]
            r.qmark = i + static_cast<uint32_t>(__builtin_ctz(q));
    }
#endif
    for (; i < end; ++i) {
        const unsigned char c = static_cast<unsigned char>(b[i]);
        if (c - 0x21u > 0x7eu - 0x21u) {
            r.bad = true;
            return r;
        }
        if (c == '@' && r.at == end) r.at = i;
        if (c == '?' && r.qmark == end) r.qmark = i;
    }
    return r;
}

// RFC 3261: port = 1*DIGIT; anything over 65535 cannot be a UDP port.
bool to_port(std::string_view s, uint16_t& out) noexcept {
    if (s.empty() || s.size() > 5) return false;
    uint32_t v = 0;
    for (char c : s) {
        if (!chars::is_digit(c)) return false;
        v = v * 10 + static_cast<uint32_t>(c - '0');
    }
    if (v > 65535) return false;
    out = static_cast<uint16_t>(v);
    return true;
}

// [ COLON port ] after a host that ends at p; in Via sent-by COLON = SWS ":" SWS. port = 1*DIGIT,
// at most 65535. Returns the offset after the port, or start (with out.kind none) on a bad port.
[[gnu::always_inline]] inline uint32_t port_after(std::string_view buf, uint32_t p, uint32_t end, HostPort& out, uint32_t start,
                    bool allow_lws_around_colon) noexcept {
    uint32_t c = p;
    if (allow_lws_around_colon)
        while (c < end && chars::is_lws(buf[c])) ++c;
    if (c < end && buf[c] == ':') {
        uint32_t d = c + 1;
        if (allow_lws_around_colon)
            while (d < end && chars::is_lws(buf[d])) ++d;
        uint32_t port = 0;
        const uint32_t digits = digit_run(buf.data(), static_cast<uint32_t>(buf.size()), d, end, port);
        const uint32_t e = d + digits;
        if (digits == 0 || digits > 5 || port > 65535) {
            out.kind = HostKind::none;
            return start;
        }
        out.port = Slice{d, e - d};
        out.port_num = static_cast<uint16_t>(port);
        p = e;
    }
    return p;
}

}  // namespace

// At a 64-byte boundary: its loops lie the same way whatever the code before it (see parse_sdp
// in sdp.cpp).
[[gnu::aligned(64)]] uint32_t parse_hostport(std::string_view buf, uint32_t p, uint32_t end, HostPort& out,
                                             bool allow_lws_around_colon) noexcept {
    out = HostPort{};
    const uint32_t start = p;
    uint8_t quad[4];
    if (p < end && chars::is_digit(buf[p])) {
        if (const uint32_t q = host_quad(buf.data(), static_cast<uint32_t>(buf.size()), p, end, quad)) {
            out.host = Slice{p, q - p};
            out.ip.set_v4(quad);
            out.kind = HostKind::ipv4;
            return port_after(buf, q, end, out, start, allow_lws_around_colon);
        }
    }
    if (p < end && buf[p] == '[') {
        const void* close_p = std::memchr(buf.data() + p, ']', end - p);
        if (!close_p) return p;
        const uint32_t close = static_cast<uint32_t>(static_cast<const char*>(close_p) - buf.data());
        auto ip = IpAddr::parse_v6(buf.substr(p + 1, close - p - 1));
        if (!ip) return p;
        out.host = Slice{p, close + 1 - p};
        out.ip = *ip;
        out.kind = HostKind::ipv6;
        out.bracketed = true;
        p = close + 1;
    } else {
        uint32_t q = p;
        uint8_t all = kHost | kDigitDot, any = 0;
        for (uint8_t cls; q < end && ((cls = kHostTable[static_cast<unsigned char>(buf[q])]) & kHost); ++q) {
            all &= cls;
            any |= cls;
        }
        const bool dot = any & kDot;
        const bool digits_dots = all & kDigitDot;
        // An unbracketed IPv6 address (invalid per RFC 5118 4.2, yet sent by some agents):
        // take the longest run of hex digits, ':' and '.', and read it as an address alone,
        // or as address ":" port when only that parses.
        if (q < end && buf[q] == ':' && !dot) {
            uint32_t r = p;
            uint32_t colons = 0;
            for (; r < end && (is_hex(buf[r]) || buf[r] == ':' || buf[r] == '.'); ++r) colons += buf[r] == ':';
            if (colons >= 2) {
                const std::string_view run = buf.substr(p, r - p);
                if (auto ip = IpAddr::parse_v6(run)) {
                    out.host = Slice{p, r - p};
                    out.ip = *ip;
                    out.kind = HostKind::ipv6;
                    return r;
                }
                const std::size_t last = run.rfind(':');
                auto ip = IpAddr::parse_v6(run.substr(0, last));
                uint16_t port = 0;
                if (ip && to_port(run.substr(last + 1), port)) {
                    out.host = Slice{p, static_cast<uint32_t>(last)};
                    out.port = Slice{p + static_cast<uint32_t>(last) + 1, r - p - static_cast<uint32_t>(last) - 1};
                    out.port_num = port;
                    out.ip = *ip;
                    out.kind = HostKind::ipv6;
                    return r;
                }
                return start;
            }
        }
        if (q == p) return start;
        out.host = Slice{p, q - p};
        const std::string_view h = buf.substr(p, q - p);
        if (digits_dots) {
            // Only an IPv4 literal may be all digits and dots (999.1.1.1 is neither).
            auto ip = IpAddr::parse_v4(h);
            if (!ip) return start;
            out.ip = *ip;
            out.kind = HostKind::ipv4;
        } else {
            if (h.front() == '-' || h.front() == '.') return start;
            out.kind = HostKind::name;
        }
        p = q;
    }
    return port_after(buf, p, end, out, start, allow_lws_around_colon);
}

namespace {

// URI parameters: *( ";" pname [ "=" pvalue ] ) up to '?' (at q) or end; no white space.
bool parse_uri_params(std::string_view buf, uint32_t p, uint32_t q, Uri& u) noexcept {
    while (p < q && buf[p] == ';') {
        const uint32_t s = p++;
        const uint32_t pe = find_any<';'>(buf.data(), static_cast<uint32_t>(buf.size()), p, q);
        const uint32_t ne = find_byte(buf.data(), static_cast<uint32_t>(buf.size()), p, pe, '=');
        ++u.param_count;
        // The slot of a parameter farend reads, by its name; the others are only counted.
        const std::string_view name{buf.data() + p, ne - p};
        Param* known = nullptr;
        switch (name.size()) {
            case 2:
                if (iequals_lit(name, "lr")) known = &u.lr;
                break;
            case 5:
                if (iequals_lit(name, "maddr"))
                    known = &u.maddr;
                else if (iequals_lit(name, "alias"))
                    known = &u.alias;
                break;
            case 9:
                if (iequals_lit(name, "transport")) known = &u.transport;
                break;
            default:
                break;
        }
        if (known) {
            if (known->present) u.duplicate_param = true;
            Param& prm = *known;
            prm = Param{};
            prm.name = Slice{p, ne - p};
            if (ne < pe) {
                prm.value = Slice{ne + 1, pe - ne - 1};
                prm.has_value = true;
            }
            prm.whole = Slice{s, pe - s};
            prm.present = true;
        }
        p = pe;
    }
    return p == q;
}

}  // namespace

Uri parse_uri(std::string_view buf, MaskView mv, Slice s) noexcept {
    Uri u;
    parse_uri(buf, mv, s, u);
    return u;
}

void parse_uri(std::string_view buf, MaskView, Slice s, Uri& u, const HostPort* known) noexcept {
    u = Uri{};
    u.whole = s;
    const uint32_t end = s.end();
    uint32_t p = s.off;
    if (end - p > 4 && iequals_lit({buf.data() + p, 4}, "sip:")) {  // the usual scheme
        u.scheme = Slice{p, 3};
        u.scheme_id = Scheme::sip;
        p += 3;
    } else {
        while (p < end && (chars::is_alpha(buf[p]) || chars::is_digit(buf[p]) || buf[p] == '+' || buf[p] == '-' ||
                           buf[p] == '.'))
            ++p;
        if (p == s.off || p >= end || buf[p] != ':' || !chars::is_alpha(buf[s.off])) return;
        u.scheme = Slice{s.off, p - s.off};
        const std::string_view scheme = text(buf, u.scheme);
        u.scheme_id = iequals(scheme, "sip")    ? Scheme::sip
                      : iequals(scheme, "sips") ? Scheme::sips
                      : iequals(scheme, "tel")  ? Scheme::tel
                                                : Scheme::other;
    }
    ++p;
    const UriMarks marks = uri_marks(buf.data(), static_cast<uint32_t>(buf.size()), p, end);
    if (marks.bad) return;
    if (u.scheme_id == Scheme::tel) {
        // tel:number;params (RFC 3966): the number is the "user"
        const uint32_t q = find_any<';'>(buf.data(), static_cast<uint32_t>(buf.size()), p, end);
        u.user = Slice{p, q - p};
        u.valid = q > p && parse_uri_params(buf, q, end, u);
        return;
    }
    if (u.scheme_id != Scheme::sip && u.scheme_id != Scheme::sips) {
        u.valid = p < end;
        return;
    }
    // userinfo ends at the only '@' a valid SIP URI can hold unescaped.
    if (marks.at < end) {
        u.user = Slice{p, marks.at - p};
        p = marks.at + 1;
    }
    // The Via's host:port again (a Contact behind a NAT) is taken here, without the call.
    uint32_t h = known ? known_hostport(buf, p, end, *known, u.host) : 0;
    if (h == 0) {
        h = parse_hostport(buf, p, end, u.host, false);
        if (u.host.kind == HostKind::none) return;
    }
    p = h;
    // The first '?' after the host: one in the user part (user-unreserved) does not count.
    const uint32_t q =
        marks.qmark >= p ? marks.qmark : find_byte(buf.data(), static_cast<uint32_t>(buf.size()), p, end, '?');
    u.params = Slice{p, q - p};
    if (p != q && !parse_uri_params(buf, p, q, u)) return;
    if (q < end) u.headers = Slice{q, end - q};
    u.valid = true;
}

Uri parse_uri(std::string_view buf, Slice s) {
    return parse_uri(buf, MaskView{}, s);  // the masks are not read
}

}  // namespace farend::sip
