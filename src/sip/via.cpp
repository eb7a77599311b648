#include "host.hpp"
#include "params.hpp"

#include <farend/sip/via.hpp>

#include <cstring>

namespace farend::sip {

namespace {

uint32_t token_end(std::string_view buf, uint32_t p, uint32_t end) noexcept {
    while (p < end && chars::is_token(static_cast<unsigned char>(buf[p]))) ++p;
    return p;
}

// What branch_or_rport() returns when the parameter at p is neither.
constexpr uint32_t kOtherParam = ~uint32_t{0};

// The usual parameters, ";branch=" and ";rport" with no white space after the ';' (buf[p] is the
// ';'), told by a word compare or two (iequals_lit): no byte-wise read of the name, no name
// switch. They give what the general path gives: the name ends at the '=' or at a byte that is no
// token. Returns the offset after the parameter, 0 when it is malformed (its slot cleared), or
// kOtherParam for any other parameter (nothing read).
//
// These two are read straight into their slots: read into a local and copied, the copy's wide
// loads overlapped the field-by-field stores just made to the local, and waited for them
// (store-to-load forwarding fails on a partial overlap): ~2.7% of the dataplane's time sat on
// those two copies.
[[gnu::always_inline]] inline uint32_t branch_or_rport(std::string_view buf, uint32_t p, uint32_t end, Via& v) noexcept {
    const char* const b = buf.data();
    if (end - p >= 8 && iequals_lit({b + p, 8}, ";branch=")) {
        const uint32_t q = detail::param_after_name(buf, p, p + 1, p + 7, end, v.branch);
        if (q == 0) v.branch = Param{};
        return q;
    }
    if (end - p >= 6 && iequals_lit({b + p, 6}, ";rport") &&
        (end - p == 6 || !chars::is_token(static_cast<unsigned char>(b[p + 6])))) {
        const uint32_t q = detail::param_after_name(buf, p, p + 1, p + 6, end, v.rport);
        if (q == 0) v.rport = Param{};
        return q;
    }
    return kOtherParam;
}

// via-parm = sent-protocol LWS sent-by *( SEMI via-params ); returns the offset after it, or
// 0 when it is malformed.
uint32_t parse_one(std::string_view buf, uint32_t p, uint32_t end, Via& v) noexcept {
    using detail::skip_lws;
    const uint32_t start = p;
    // sent-protocol = protocol-name SLASH protocol-version SLASH transport, SLASH = SWS "/" SWS
    if (end - p > 8 && std::memcmp(buf.data() + p, "SIP/2.0/", 8) == 0) {  // the usual spelling
        v.protocol = Slice{p, 3};
        v.version = Slice{p + 4, 3};
        // The usual transport, "UDP" before the LWS, by one word compare ("UDP " or "UDP\t": the
        // token ends where the byte loop would end it); any other by the byte loop.
        uint32_t e;
        if (const uint32_t w = end - p >= 12 ? load_u32(buf.data() + p + 8) : 0;
            w == load_u32("UDP ") || w == load_u32("UDP\t"))
            e = p + 11;
        else
            e = token_end(buf, p + 8, end);
        if (e == p + 8) return 0;
        v.transport = Slice{p + 8, e - p - 8};
        p = e;
    } else {
        Slice* parts[3] = {&v.protocol, &v.version, &v.transport};
        for (int i = 0; i < 3; ++i) {
            if (i > 0) {
                p = skip_lws(buf, p, end);
                if (p >= end || buf[p] != '/') return 0;
                p = skip_lws(buf, p + 1, end);
            }
            const uint32_t e = token_end(buf, p, end);
            if (e == p) return 0;
            *parts[i] = make_slice(p, e);
            p = e;
        }
    }
    const uint32_t h = skip_lws(buf, p, end);
    if (h == p) return 0;  // LWS is required between sent-protocol and sent-by
    p = parse_hostport(buf, h, end, v.sent_by, true);
    if (v.sent_by.kind == HostKind::none) return 0;
    uint32_t last = p;
    p = skip_lws(buf, p, end);
    while (p < end && buf[p] == ';') {
        uint32_t q = branch_or_rport(buf, p, end, v);
        if (q == 0) return 0;
        if (q == kOtherParam) {
            Param prm;
            q = detail::parse_generic_param(buf, p, end, prm);
            if (q == 0) return 0;
            const std::string_view name = text(buf, prm.name);
            switch (name.size()) {
                case 3:
                    if (iequals_lit(name, "ttl")) v.ttl = prm;
                    break;
                case 5:
                    if (iequals_lit(name, "rport"))
                        v.rport = prm;
                    else if (iequals_lit(name, "maddr"))
                        v.maddr = prm;
                    break;
                case 6:
                    if (iequals_lit(name, "branch")) v.branch = prm;
                    break;
                case 8:
                    if (iequals_lit(name, "received")) v.received = prm;
                    break;
                default:
                    break;
            }
        }
        if (v.param_count == 0) v.params.off = p;
        ++v.param_count;
        last = q;
        v.params.len = q - v.params.off;
        p = skip_lws(buf, q, end);
    }
    v.value = make_slice(start, last);
    return p;
}

// The usual via-parm of an agent, read in one pass: "SIP/2.0/UDP " and an IPv4 literal with an
// optional ":port" (no white space around the colon), then only ";branch=<value>" and
// ";rport[=<value>]" parameters (no white space anywhere), up to the value's end or a ','. Fills
// v (cleared by the caller) exactly as parse_one() does and returns the offset after it (the
// value's end or its ','); 0 when the via-parm is spelt any other way, and parse_one() then reads
// it from a cleared v again. What it saves: parse_one's call of parse_hostport (seven arguments,
// one on the stack), that function's cases and white-space loops, the general parameter path.
[[gnu::always_inline]] inline uint32_t parse_usual(std::string_view buf, uint32_t p, uint32_t end, Via& v) noexcept {
    const char* const b = buf.data();
    const auto size = static_cast<uint32_t>(buf.size());
    // "SIP/2.0/UDP " and at least "1.2.3.4" after it; an 8-byte and a 4-byte compare.
    if (end - p < 19 || load_u64(b + p) != load_u64("SIP/2.0/") || load_u32(b + p + 8) != load_u32("UDP "))
        return 0;
    uint32_t q = detail::ipv4_hostport(b, size, p + 12, end, v.sent_by);
    // What ends a host or a port here: the value's end, a ';' or a ','. Anything else (white
    // space, a host byte after the literal: "1.2.3.4a" is a host name) is parse_one's to read.
    if (q == 0 || (q < end && b[q] != ';' && b[q] != ',')) return 0;
    uint32_t last = q, params_off = q;
    unsigned count = 0;
    while (q < end && b[q] == ';') {
        // Another parameter (kOtherParam): parse_one reads them all.
        const uint32_t r = branch_or_rport(buf, q, end, v);
        if (r == 0 || r == kOtherParam || (r < end && b[r] != ';' && b[r] != ',')) return 0;
        if (count == 0) params_off = q;
        ++count;
        last = r;
        q = r;
    }
    v.protocol = Slice{p, 3};
    v.version = Slice{p + 4, 3};
    v.transport = Slice{p + 8, 3};
    if (count != 0) {
        v.params = Slice{params_off, last - params_off};
        v.param_count = static_cast<uint8_t>(count);
    }
    v.value = make_slice(p, last);
    return q;
}

// The via-parms of a Via header value; Usual: each tried by parse_usual() first.
template <bool Usual>
[[gnu::always_inline]] inline std::size_t parse_vias(std::string_view buf, Slice value, Via* out, std::size_t cap) noexcept {
    std::size_t n = 0;
    uint32_t p = value.off;
    const uint32_t end = value.end();
    while (n < cap) {
        p = detail::skip_lws(buf, p, end);
        // Empty list elements (", ,") are tolerated, as RFC 7230 7 asks of list parsers.
        if (p < end && buf[p] == ',') {
            ++p;
            continue;
        }
        if (p >= end) break;
        Via& v = out[n++];
        v = Via{};
        uint32_t q = Usual ? parse_usual(buf, p, end, v) : 0;
        if (q == 0) [[unlikely]] {
            if (Usual) v = Via{};  // parse_usual may have filled some of it
            q = parse_one(buf, p, end, v);
        }
        if (q == 0 || (q < end && buf[q] != ',')) {
            v.valid = false;
            v.value = make_slice(p, end);
            break;
        }
        v.valid = true;
        p = q;
    }
    return n;
}

}  // namespace

// At a 64-byte boundary, and not inlined: its loops lie the same way whatever the code of its
// callers (see parse_sdp in sdp.cpp; inlined, this code moved by several percent with them).
[[gnu::noinline, gnu::aligned(64)]] std::size_t parse_via_values(std::string_view buf, MaskView, Slice value, Via* out,
                                                                 std::size_t cap) noexcept {
    return parse_vias<true>(buf, value, out, cap);
}

std::size_t detail::parse_via_values_general(std::string_view buf, Slice value, Via* out, std::size_t cap) noexcept {
    return parse_vias<false>(buf, value, out, cap);
}

bool top_via(std::string_view buf, MaskView mv, const MessageIndex& index, Via& out) noexcept {
    const Header* h = index.find(HeaderId::via);
    return h && parse_via_values(buf, mv, h->value, &out, 1) == 1;
}

}  // namespace farend::sip
