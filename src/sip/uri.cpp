#include <farend/sip/chars.hpp>
#include <farend/sip/uri.hpp>

#include <algorithm>

namespace farend::sip {

namespace {

// Bytes allowed in a hostname or an IPv4 literal (RFC 3261 hostname = labels of alphanum / '-').
// '_' is accepted too: it is common in the wild and harmless here.
constexpr bool is_host_char(char c) noexcept {
    return chars::is_alpha(c) || chars::is_digit(c) || c == '-' || c == '.' || c == '_';
}

bool all_digits(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (!chars::is_digit(c)) return false;
    return true;
}

// RFC 3261: port = 1*DIGIT; anything over 65535 cannot be a UDP port.
bool to_port(std::string_view s, uint16_t& out) noexcept {
    if (!all_digits(s) || s.size() > 5) return false;
    uint32_t v = 0;
    for (char c : s) v = v * 10 + static_cast<uint32_t>(c - '0');
    if (v > 65535) return false;
    out = static_cast<uint16_t>(v);
    return true;
}

constexpr bool is_hex_or_colon_or_dot(char c) noexcept {
    return chars::is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

}  // namespace

uint32_t parse_hostport(std::string_view buf, uint32_t p, uint32_t end, HostPort& out,
                        bool allow_lws_around_colon) noexcept {
    out = HostPort{};
    const uint32_t start = p;
    if (p < end && buf[p] == '[') {
        const std::size_t found = buf.substr(0, end).find(']', p);
        if (found == std::string_view::npos) return p;
        const uint32_t close = static_cast<uint32_t>(found);
        auto ip = IpAddr::parse_v6(buf.substr(p + 1, close - p - 1));
        if (!ip) return p;
        out.host = make_slice(p, close + 1);
        out.ip = *ip;
        out.kind = HostKind::ipv6;
        out.bracketed = true;
        p = close + 1;
    } else {
        uint32_t q = p;
        while (q < end && is_host_char(buf[q])) ++q;
        // An unbracketed IPv6 address (invalid per RFC 5118 4.2, yet sent by some agents):
        // take the longest run of hex digits, ':' and '.', and read it as an address alone,
        // or as address ":" port when only that parses.
        if (q < end && buf[q] == ':' && buf.substr(p, q - p).find('.') == std::string_view::npos) {
            uint32_t r = p;
            while (r < end && is_hex_or_colon_or_dot(buf[r])) ++r;
            const std::string_view run = buf.substr(p, r - p);
            if (run.find(':') != run.rfind(':')) {
                if (auto ip = IpAddr::parse_v6(run)) {
                    out.host = make_slice(p, r);
                    out.ip = *ip;
                    out.kind = HostKind::ipv6;
                    return r;
                }
                const std::size_t last = run.rfind(':');
                auto ip = IpAddr::parse_v6(run.substr(0, last));
                uint16_t port = 0;
                if (ip && to_port(run.substr(last + 1), port)) {
                    out.host = make_slice(p, p + last);
                    out.port = make_slice(p + last + 1, r);
                    out.port_num = port;
                    out.ip = *ip;
                    out.kind = HostKind::ipv6;
                    return r;
                }
                return start;
            }
        }
        if (q == p) return start;
        out.host = make_slice(p, q);
        const std::string_view h = buf.substr(p, q - p);
        if (auto ip = IpAddr::parse_v4(h)) {
            out.ip = *ip;
            out.kind = HostKind::ipv4;
        } else {
            // A name; a dotted string of digits that is no address (999.1.1.1) is neither.
            bool all_num = true;
            for (char c : h) all_num = all_num && (chars::is_digit(c) || c == '.');
            if (all_num || h.front() == '-' || h.front() == '.') return start;
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
        out.port = make_slice(d, e);
        out.port_num = port;
        p = e;
    }
    return p;
}

namespace {

// URI parameters: *( ";" pname [ "=" pvalue ] ) up to '?' or end; no whitespace anywhere.
bool parse_uri_params(std::string_view buf, uint32_t p, uint32_t end, Uri& u) noexcept {
    while (p < end && buf[p] == ';') {
        Param prm;
        const uint32_t s = p++;
        const uint32_t ns = p;
        while (p < end && buf[p] != ';' && buf[p] != '=' && buf[p] != '?') ++p;
        prm.name = make_slice(ns, p);
        if (p < end && buf[p] == '=') {
            const uint32_t vs = ++p;
            while (p < end && buf[p] != ';' && buf[p] != '?') ++p;
            prm.value = make_slice(vs, p);
            prm.has_value = true;
        }
        prm.whole = make_slice(s, p);
        prm.present = true;
        ++u.param_count;
        const std::string_view name = text(buf, prm.name);
        if (iequals(name, "maddr"))
            u.maddr = prm;
        else if (iequals(name, "transport"))
            u.transport = prm;
        else if (iequals(name, "alias"))
            u.alias = prm;
        else if (iequals(name, "lr"))
            u.lr = prm;
    }
    return p == end || buf[p] == '?';
}

}  // namespace

Uri parse_uri(std::string_view buf, Slice s) noexcept {
    Uri u;
    u.whole = s;
    const uint32_t end = s.end();
    uint32_t p = s.off;
    while (p < end && (chars::is_alpha(buf[p]) || chars::is_digit(buf[p]) || buf[p] == '+' || buf[p] == '-' ||
                       buf[p] == '.'))
        ++p;
    if (p == s.off || p >= end || buf[p] != ':' || !chars::is_alpha(buf[s.off])) return u;
    u.scheme = make_slice(s.off, p);
    const std::string_view scheme = text(buf, u.scheme);
    u.scheme_id = iequals(scheme, "sip")    ? Scheme::sip
                  : iequals(scheme, "sips") ? Scheme::sips
                  : iequals(scheme, "tel")  ? Scheme::tel
                                            : Scheme::other;
    ++p;
    for (uint32_t i = p; i < end; ++i)
        if (static_cast<unsigned char>(buf[i]) <= 0x20 || static_cast<unsigned char>(buf[i]) >= 0x7f) return u;
    if (u.scheme_id == Scheme::tel) {
        // tel:number;params (RFC 3966): the number is the "user"
        uint32_t q = p;
        while (q < end && buf[q] != ';') ++q;
        u.user = make_slice(p, q);
        u.valid = q > p && parse_uri_params(buf, q, end, u);
        return u;
    }
    if (u.scheme_id != Scheme::sip && u.scheme_id != Scheme::sips) {
        u.valid = p < end;
        return u;
    }
    // userinfo ends at the only '@' a valid SIP URI can hold unescaped.
    const std::size_t at = buf.substr(0, end).find('@', p);
    if (at != std::string_view::npos) {
        u.user = make_slice(p, at);
        p = static_cast<uint32_t>(at) + 1;
    }
    const uint32_t h = parse_hostport(buf, p, end, u.host, false);
    if (u.host.kind == HostKind::none) return u;
    p = h;
    const uint32_t q = static_cast<uint32_t>(std::min<std::size_t>(buf.substr(0, end).find('?', p), end));
    u.params = make_slice(p, q);
    if (!parse_uri_params(buf, p, end, u)) return u;
    if (q < end) u.headers = make_slice(q, end);
    u.valid = true;
    return u;
}

}  // namespace farend::sip
