#include "params.hpp"

#include <farend/sip/chars.hpp>
#include <farend/sip/uri.hpp>

#include <array>
#include <cstring>
#include <vector>

namespace farend::sip {

namespace {

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
constexpr auto kHostTable = make_host_table();

constexpr bool is_hex(char c) noexcept {
    return chars::is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
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

}  // namespace

uint32_t parse_hostport(std::string_view buf, uint32_t p, uint32_t end, HostPort& out,
                        bool allow_lws_around_colon) noexcept {
    out = HostPort{};
    const uint32_t start = p;
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
    // [ COLON port ]; in Via sent-by COLON = SWS ":" SWS.
    uint32_t c = p;
    if (allow_lws_around_colon)
        while (c < end && chars::is_lws(buf[c])) ++c;
    if (c < end && buf[c] == ':') {
        uint32_t d = c + 1;
        if (allow_lws_around_colon)
            while (d < end && chars::is_lws(buf[d])) ++d;
        uint32_t e = d;
        while (e < end && chars::is_digit(buf[e])) ++e;
        uint16_t port = 0;
        if (!to_port(buf.substr(d, e - d), port)) {
            out.kind = HostKind::none;
            return start;
        }
        out.port = Slice{d, e - d};
        out.port_num = port;
        p = e;
    }
    return p;
}

namespace {

// URI parameters: *( ";" pname [ "=" pvalue ] ) up to '?' (at q) or end; no white space.
bool parse_uri_params(std::string_view buf, MaskView mv, uint32_t p, uint32_t q, Uri& u) noexcept {
    while (p < q && buf[p] == ';') {
        Param prm;
        const uint32_t s = p++;
        const uint32_t pe = mv.next(simd::kSemi, p, q);
        const void* eq = std::memchr(buf.data() + p, '=', pe - p);
        const uint32_t ne = eq ? static_cast<uint32_t>(static_cast<const char*>(eq) - buf.data()) : pe;
        prm.name = Slice{p, ne - p};
        if (ne < pe) {
            prm.value = Slice{ne + 1, pe - ne - 1};
            prm.has_value = true;
        }
        prm.whole = Slice{s, pe - s};
        prm.present = true;
        ++u.param_count;
        const std::string_view name = text(buf, prm.name);
        Param* known = nullptr;
        switch (name.size()) {
            case 2:
                if (iequals(name, "lr")) known = &u.lr;
                break;
            case 5:
                if (iequals(name, "maddr"))
                    known = &u.maddr;
                else if (iequals(name, "alias"))
                    known = &u.alias;
                break;
            case 9:
                if (iequals(name, "transport")) known = &u.transport;
                break;
            default:
                break;
        }
        if (known) {
            if (known->present) u.duplicate_param = true;
            *known = prm;
        }
        p = pe;
    }
    return p == q;
}

}  // namespace

Uri parse_uri(std::string_view buf, MaskView mv, Slice s) noexcept {
    Uri u;
    u.whole = s;
    const uint32_t end = s.end();
    uint32_t p = s.off;
    while (p < end && (chars::is_alpha(buf[p]) || chars::is_digit(buf[p]) || buf[p] == '+' || buf[p] == '-' ||
                       buf[p] == '.'))
        ++p;
    if (p == s.off || p >= end || buf[p] != ':' || !chars::is_alpha(buf[s.off])) return u;
    u.scheme = Slice{s.off, p - s.off};
    const std::string_view scheme = text(buf, u.scheme);
    u.scheme_id = iequals(scheme, "sip")    ? Scheme::sip
                  : iequals(scheme, "sips") ? Scheme::sips
                  : iequals(scheme, "tel")  ? Scheme::tel
                                            : Scheme::other;
    ++p;
    if (chars::has_space_or_control(buf.data() + p, end - p)) return u;
    if (u.scheme_id == Scheme::tel) {
        // tel:number;params (RFC 3966): the number is the "user"
        const uint32_t q = mv.next(simd::kSemi, p, end);
        u.user = Slice{p, q - p};
        u.valid = q > p && parse_uri_params(buf, mv, q, end, u);
        return u;
    }
    if (u.scheme_id != Scheme::sip && u.scheme_id != Scheme::sips) {
        u.valid = p < end;
        return u;
    }
    // userinfo ends at the only '@' a valid SIP URI can hold unescaped.
    if (const void* at = std::memchr(buf.data() + p, '@', end - p)) {
        const uint32_t a = static_cast<uint32_t>(static_cast<const char*>(at) - buf.data());
        u.user = Slice{p, a - p};
        p = a + 1;
    }
    const uint32_t h = parse_hostport(buf, p, end, u.host, false);
    if (u.host.kind == HostKind::none) return u;
    p = h;
    const void* qm = std::memchr(buf.data() + p, '?', end - p);
    const uint32_t q = qm ? static_cast<uint32_t>(static_cast<const char*>(qm) - buf.data()) : end;
    u.params = Slice{p, q - p};
    if (!parse_uri_params(buf, mv, p, q, u)) return u;
    if (q < end) u.headers = Slice{q, end - q};
    u.valid = true;
    return u;
}

Uri parse_uri(std::string_view buf, Slice s) {
    std::vector<simd::BlockMasks> masks(simd::blocks_for(buf.size()));
    simd::scan_scalar(reinterpret_cast<const uint8_t*>(buf.data()), buf.size(), masks.data());
    return parse_uri(buf, MaskView{masks.data(), static_cast<uint32_t>(buf.size())}, s);
}

}  // namespace farend::sip
