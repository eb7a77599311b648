#include "params.hpp"

#include <farend/sip/contact.hpp>

namespace farend::sip {

namespace {

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
    p = skip_lws(buf, p, end);
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

}  // namespace

// At a 64-byte boundary, and not inlined: its loops lie the same way whatever the code of its
// callers (see parse_sdp in sdp.cpp; inlined, this code moved by several percent with them).
[[gnu::noinline, gnu::aligned(64)]] std::size_t parse_contact_values(std::string_view buf, MaskView mv, Slice value,
                                                                     Contact* out, std::size_t cap,
                                                                     const HostPort* known) noexcept {
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
        const uint32_t q = parse_one(buf, mv, p, end, c, known);
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

}  // namespace farend::sip
