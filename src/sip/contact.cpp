#include "host.hpp"
#include "params.hpp"

#include <farend/sip/contact.hpp>

namespace farend::sip {

namespace {

// The contact-params after a contact's address, which ends at `last` (its '>', or its addr-spec's
// last byte, plus one), to the value's end or a ','; start is the contact's first byte. Returns
// the offset after them, or 0 when one is malformed.
[[gnu::always_inline]] inline uint32_t contact_params(std::string_view buf, uint32_t start, uint32_t last, uint32_t end,
                                                      Contact& c) noexcept {
    using detail::skip_lws;
    uint32_t p = skip_lws(buf, last, end);
    while (p < end && buf[p] == ';') {
        Param prm;
        const uint32_t q = detail::parse_generic_param(buf, p, end, prm);
        if (q == 0) return 0;
        if (c.param_count == 0) c.params.off = p;
        ++c.param_count;
        const std::string_view name = text(buf, prm.name);
        if (iequals_lit(name, "expires"))
            c.expires = prm;
        else if (name.size() == 1 && (name[0] == 'q' || name[0] == 'Q'))
            c.q = prm;
        last = q;
        c.params.len = q - c.params.off;
        p = skip_lws(buf, q, end);
    }
    c.value = Slice{start, last - start};
    return p;
}

// The usual contact of an agent, "<sip:" [userinfo "@"] host [":" port] ">" (the scheme in any
// case), its URI no longer than 31 bytes after "sip:", without parameters or headers. One 32-byte
// window gives the '>', the '@' and any white space or control byte; the host:port is the top
// Via's (known_hostport()), another IPv4 literal, or read by parse_hostport(), and must end at the
// '>'. Fills u exactly as parse_uri() does and returns the offset after the '>'; 0 when the
// contact is spelt any other way (u is then left half-filled: parse_one() reads it again the
// general way, every one of its ways resetting u). What it saves: parse_one()'s call and its tests
// of the contact's first byte, the search for the '>', parse_uri()'s call, scheme cases and
// parameter and header tests, and for a literal parse_hostport()'s call and reset: ~120
// instructions of a usual Contact's ~400 (perf/RESULTS.md, the thirty-eighth session). Held to
// the general path's result field by field by Contact.UsualContactReadAsTheGeneralPathDoes and
// fuzz_sip.
[[gnu::always_inline]] inline uint32_t usual_name_addr(std::string_view buf, uint32_t p, uint32_t end, Uri& u,
                                                       const HostPort* known) noexcept {
#if defined(__SSE2__)
    const char* const b = buf.data();
    const auto size = static_cast<uint32_t>(buf.size());
    constexpr uint32_t kLtSip = '<' | 's' << 8 | 'i' << 16 | uint32_t{'p'} << 24;  // letters folded below
    if (end - p < 7 || size - p < 5 + 32 || (load_u32(b + p) | 0x20202000u) != kLtSip || b[p + 4] != ':') return 0;
    const uint32_t s = p + 5;  // after "sip:"
    const Window32 w(b + s);
    const uint32_t gts = w.any('>');
    if (gts == 0) return 0;
    const uint32_t gt = s + static_cast<uint32_t>(__builtin_ctz(gts));
    if (gt >= end) return 0;
    const uint32_t in_uri = (gts & (0u - gts)) - 1;  // the bits below the '>'
    if (w.space_or_control() & in_uri) return 0;
    const uint32_t ats = w.any('@') & in_uri;
    const uint32_t h = ats ? s + static_cast<uint32_t>(__builtin_ctz(ats)) + 1 : s;  // the host's start
    u = Uri{};
    u.whole = Slice{p + 1, gt - p - 1};
    u.scheme = Slice{p + 1, 3};
    u.scheme_id = Scheme::sip;
    if (ats) u.user = Slice{s, h - 1 - s};
    uint32_t e = known ? detail::known_hostport(buf, h, gt, *known, u.host) : 0;
    if (e == 0) {
        // Another IPv4 literal (a response's Contact names its own agent, the top Via the switch)
        // with an optional ":port" up to the '>', read as parse_hostport() reads it, without its
        // call and reset; anything else by parse_hostport().
        e = detail::ipv4_hostport(b, size, h, gt, u.host);
        if (e != gt) e = parse_hostport(buf, h, gt, u.host, false);  // which resets u.host first
    }
    if (u.host.kind == HostKind::none || e != gt) return 0;  // a bad host, or parameters, headers
    u.params = Slice{gt, 0};
    u.valid = true;
    return gt + 1;
#else
    (void)buf, (void)p, (void)end, (void)u, (void)known;
    return 0;
#endif
}

// One contact-param at p; returns the offset after it, or 0 when malformed.
uint32_t parse_one(std::string_view buf, MaskView mv, uint32_t p, uint32_t end, Contact& c,
                   const HostPort* known) noexcept {
    using detail::skip_lws;
    const uint32_t start = p;
    uint32_t last = p;
    if (buf[p] == '*') {
        // "*" stands alone (RFC 3261 10.2.2); whatever follows it is not a contact.
        c.uri = Uri{};
        const uint32_t q = skip_lws(buf, p + 1, end);
        if (q != end) return 0;
        c.star = true;
        c.value = Slice{p, 1};
        return end;
    }
    if (buf[p] == '"') {
        // quoted-string display name, then LAQUOT
        const uint32_t close = detail::skip_quoted(buf, p, end);
        if (close == detail::kUnclosed) return c.uri = Uri{}, 0;  // RFC 4475 3.1.2.6 quotbal
        c.display = Slice{p, close - p};
        p = skip_lws(buf, close, end);
        if (p >= end || buf[p] != '<') return c.uri = Uri{}, 0;
    } else if (buf[p] != '<') {  // the usual name-addr, "<" first, goes straight on below
        // Either *(token LWS) "<" or an addr-spec, which ends at ';' ',' or the end.
        const uint32_t q = find_any<'<', ',', ';', '"'>(buf.data(), static_cast<uint32_t>(buf.size()), p, end);
        if (q < end && buf[q] == '<') {
            uint32_t de = q;
            while (de > p && chars::is_lws(buf[de - 1])) --de;
            // display-name = *(token LWS): tokens separated by white space only (RFC 4475 3.1.2.15 baddn)
            for (uint32_t i = p; i < de; ++i)
                if (!chars::is_token(static_cast<unsigned char>(buf[i])) && !chars::is_lws(buf[i]))
                    return c.uri = Uri{}, 0;
            if (de > p) c.display = Slice{p, de - p};
            p = q;
        } else {
            if (q < end && buf[q] == '"') return c.uri = Uri{}, 0;
            uint32_t ue = q;
            while (ue > p && chars::is_lws(buf[ue - 1])) --ue;
            parse_uri(buf, mv, Slice{p, ue - p}, c.uri, known);
            // RFC 3261 20.10: a URI with a '?' (or ',' or ';') must be in angle brackets
            // (RFC 4475 3.1.2.13 regbadct).
            if (!c.uri.valid || !c.uri.headers.empty()) return 0;
            last = ue;
            p = q;
        }
    }
    if (p < end && buf[p] == '<') {
        c.name_addr = true;
        const uint32_t gt = find_any<'>'>(buf.data(), static_cast<uint32_t>(buf.size()), p + 1, end);
        if (gt >= end) return c.uri = Uri{}, 0;
        parse_uri(buf, mv, Slice{p + 1, gt - p - 1}, c.uri, known);  // LWS inside <> is invalid (RFC 4475 3.1.2.14)
        if (!c.uri.valid) return 0;
        last = gt + 1;
        p = gt + 1;
    }
    return contact_params(buf, start, last, end, c);
}

// The contact-params of a Contact header value; Usual: each tried by usual_name_addr() first.
template <bool Usual>
[[gnu::always_inline]] inline std::size_t parse_contacts(std::string_view buf, MaskView mv, Slice value, Contact* out,
                                                         std::size_t cap, const HostPort* known) noexcept {
    std::size_t n = 0;
    uint32_t p = value.off;
    const uint32_t end = value.end();
    while (n < cap) {
        p = detail::skip_lws(buf, p, end);
        if (p < end && buf[p] == ',') {  // empty list element
            ++p;
            continue;
        }
        if (p >= end) break;
        Contact& c = out[n++];
        // Every field but the URI, which parse_one() resets or fills on each of its ways out
        // (one ~300-byte reset was a memset call a value, and the URI was built and copied).
        c.value = {};
        c.star = c.name_addr = false;
        c.display = c.params = {};
        c.expires = c.q = Param{};
        c.param_count = 0;
        uint32_t q;
        if (const uint32_t after = Usual ? usual_name_addr(buf, p, end, c.uri, known) : 0) {
            c.name_addr = true;
            q = contact_params(buf, p, after, end, c);
        } else {
            q = parse_one(buf, mv, p, end, c, known);
        }
        if (q == 0 || (q < end && buf[q] != ',')) {
            c.valid = false;
            c.value = Slice{p, end - p};
            break;
        }
        c.valid = true;
        p = q;
    }
    return n;
}

}  // namespace

// At a 64-byte boundary, and not inlined: its loops lie the same way whatever the code of its
// callers (see parse_sdp in sdp.cpp; inlined, this code moved by several percent with them).
[[gnu::noinline, gnu::aligned(64)]] std::size_t parse_contact_values(std::string_view buf, MaskView mv, Slice value,
                                                                     Contact* out, std::size_t cap,
                                                                     const HostPort* known) noexcept {
    return parse_contacts<true>(buf, mv, value, out, cap, known);
}

std::size_t detail::parse_contact_values_general(std::string_view buf, MaskView mv, Slice value, Contact* out,
                                                 std::size_t cap, const HostPort* known) noexcept {
    return parse_contacts<false>(buf, mv, value, out, cap, known);
}

}  // namespace farend::sip
