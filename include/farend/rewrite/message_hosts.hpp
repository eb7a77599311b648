// The hosts of a message a domain rule may match (Request-URI, To, From), found without a full
// parse: rules only compare hosts with domain names. Inline, so that the rule set (module rules)
// reads them without a call each; the slow path for unusual URIs stays in processor.cpp.
#pragma once

#include <farend/base/bytes.hpp>
#include <farend/sip/mask_view.hpp>
#include <farend/sip/message.hpp>

#include <cstdint>
#include <string_view>

namespace farend::rewrite {

namespace detail {

inline constexpr uint32_t kSipColon = 's' | 'i' << 8 | 'p' << 16 | uint32_t{':'} << 24;  // little-endian

// Where the scheme of a URI whose first colon is `colon` starts (sip: or sips:, not before `first`).
inline uint32_t scheme_start(std::string_view msg, uint32_t first, uint32_t colon) noexcept {
    return colon >= first + 4 && (msg[colon - 1] | 0x20) == 's' ? colon - 4 : colon - 3;
}

// How a URI ends: a Request-URI is the whole slice; in a To/From value, a name-addr's URI ends at
// '>', an addr-spec's at ';', ',' or white space (it has none of those of its own: RFC 3261 20.10).
enum class UriEnd : uint8_t { slice, angle, addr_spec };

// host_after_scheme() for any URI (processor.cpp): its end, '@' and the host's end found by walking
// the masks.
[[gnu::cold]] std::string_view host_after_scheme_general(std::string_view msg, sip::MaskView mv, uint32_t p,
                                                        uint32_t limit, UriEnd kind) noexcept;

// The host of a URI whose scheme (sip: or sips:, checked by the caller) ends at p - 1, inside
// [p, limit): past "userinfo@" when there is one (the user part may hold ';', '?' and ',', RFC 3261
// 25.1 user-unreserved, never '@'), up to ':', ';' or '?'. Empty when none.
[[gnu::always_inline]] inline std::string_view host_after_scheme(std::string_view msg, sip::MaskView mv, uint32_t p,
                                                                 uint32_t limit, UriEnd kind) noexcept {
    const char* base = msg.data();
    const auto size = static_cast<uint32_t>(msg.size());
#if defined(__SSE2__)
    // Most URIs end within 32 bytes of their colon: every delimiter from two 16-byte compares per
    // byte value, then bit arithmetic (no loop, no call). Longer ones, IPv6 references and URIs
    // near the end of the datagram take the general path below.
    if (size >= 32 && p <= size - 32) {
        const Window32 w(base + p);
        const uint32_t room = limit - p;  // p <= limit
        uint32_t ends = 0;
        if (kind == UriEnd::angle) ends = w.any('>');
        else if (kind == UriEnd::addr_spec) ends = w.any(';', ',', ' ', '\t', '\r', '\n');
        // The value's end inside the window ends the URI; bytes past it are another line's.
        if (room < 32) ends = (ends | uint32_t{1} << room) & ((uint32_t{2} << room) - 1);
        if (ends) {
            const uint32_t ue = static_cast<uint32_t>(__builtin_ctz(ends));
            const uint32_t in_uri = (ends & (0u - ends)) - 1;  // the bits below the URI's end
            const uint32_t at = w.any('@') & in_uri;
            const uint32_t h = at ? static_cast<uint32_t>(__builtin_ctz(at)) + 1 : 0;  // <= ue <= 31
            if (h >= ue || base[p + h] != '[') {
                const uint32_t stop = w.any(':', ';', '?') & in_uri & (~uint32_t{0} << h);
                const uint32_t he = stop ? static_cast<uint32_t>(__builtin_ctz(stop)) : ue;
                return std::string_view(base + p + h, he - h);
            }
        }
    }
#endif
    return host_after_scheme_general(msg, mv, p, limit, kind);
}

// The host of a sip:/sips: URI whose scheme starts at s, its colon at `colon`, inside
// [.., limit). Empty for other schemes (tel:, urn:, ...).
inline std::string_view uri_host(std::string_view msg, sip::MaskView mv, uint32_t s, uint32_t colon, uint32_t limit,
                          UriEnd kind) noexcept {
    // "sip" in any case: the four bytes at s end at or before the colon.
    if (((load_u32(msg.data() + s) | 0x202020u) & 0xffffffu) != (kSipColon & 0xffffffu)) return {};
    return host_after_scheme(msg, mv, colon + 1, limit, kind);
}

// The host of a Request-URI (the slice is the whole URI). Rules only compare hosts with domain
// names, so this and header_host() find them without a full parse.
inline std::string_view ruri_host(std::string_view msg, sip::MaskView mv, Slice uri) noexcept {
    if (uri.len >= 4 && (load_u32(msg.data() + uri.off) | 0x202020u) == kSipColon)  // the usual scheme, any case
        return host_after_scheme(msg, mv, uri.off + 4, uri.end(), UriEnd::slice);
    const uint32_t colon = find_byte(msg.data(), static_cast<uint32_t>(msg.size()), uri.off, uri.end(), ':');
    if (colon >= uri.end() || colon < uri.off + 3) return {};
    return uri_host(msg, mv, scheme_start(msg, uri.off, colon), colon, uri.end(), UriEnd::slice);
}

// Past a To/From value's quoted display name (it may hold anything, \" included) and the usual
// single space after it; the value's start when it has none, its end when the name is never
// closed (never past it: the callers search from here to the end).
[[gnu::always_inline]] inline uint32_t past_display_name(std::string_view msg, sip::MaskView mv, Slice v) noexcept {
    uint32_t i = v.off;
    const uint32_t end = v.end();
    if (i < end && msg[i] == '"') {
        // The usual name is short and has no escaped quote: its closing quote from one 32-byte
        // window, without the quote masks (which would be scanned for this value alone).
        uint32_t q = end;
#if defined(__SSE2__)
        const auto size = static_cast<uint32_t>(msg.size());
        if (size >= 32 && i + 1 <= size - 32) {
            const uint32_t quotes = Window32(msg.data() + i + 1).any('"');
            if (quotes) q = i + 1 + static_cast<uint32_t>(__builtin_ctz(quotes));
        }
#endif
        if (q < end && msg[q - 1] != '\\') {
            i = q;
        } else {
            mv.ensure(i, end);
            do i = mv.next(simd::kQuote, i + 1, end);
            while (i < end && msg[i - 1] == '\\');
            if (i == end) return end;  // never closed
        }
        ++i;
        if (i < end && msg[i] == ' ') ++i;
    }
    return i;
}

// Whether the value has the usual name-addr "<sip:" (in any case: one 4-byte compare with the
// letters folded, then ':') at i.
[[gnu::always_inline]] inline bool lt_sip_at(std::string_view msg, uint32_t i, uint32_t end) noexcept {
    constexpr uint32_t kLtSip = '<' | 's' << 8 | 'i' << 16 | uint32_t{'p'} << 24;
    return i + 5 <= end && (load_u32(msg.data() + i) | 0x20202000u) == kLtSip && msg[i + 4] == ':';
}

// The host of the URI of a To/From value, name-addr or addr-spec; a quoted display name is
// skipped. Empty when none.
[[gnu::always_inline]] inline std::string_view header_host(std::string_view msg, sip::MaskView mv,
                                                           const sip::MessageIndex& idx, sip::HeaderId id) noexcept {
    const sip::Header* hd = idx.find(id);
    if (!hd) return {};
    const Slice v = hd->value;
    const uint32_t i = past_display_name(msg, mv, v);
    const uint32_t end = v.end();
    if (lt_sip_at(msg, i, end)) return host_after_scheme(msg, mv, i + 5, end, UriEnd::angle);
    // The scheme's colon is the first one: display names outside quotes are tokens (no ':').
    const uint32_t colon = find_byte(msg.data(), static_cast<uint32_t>(msg.size()), i, end, ':');
    if (colon >= end || colon < v.off + 3) return {};
    const uint32_t s = scheme_start(msg, v.off, colon);
    return uri_host(msg, mv, s, colon, end, s > v.off && msg[s - 1] == '<' ? UriEnd::angle : UriEnd::addr_spec);
}

// header_host() when it is `known`, found with fewer steps than reading it: the usual To or From,
// "<sip:user@known>", ends in the host another header gave. Empty when that is not certain
// (header_host() then reads it), else the host inside the header, the very view header_host()
// returns. `known` is a host this reader found: no ':', ';' or '?' in it unless it is an IPv6
// reference (left to header_host()).
//
// In "<sip:" URI ">", header_host()'s host starts past the URI's first '@' (at its start when
// there is none) and ends at the first ':', ';' or '?' after that, else at the first '>'. So the
// host is `known` when the URI, up to its first '>', ends in `known`, and that tail starts right
// after the URI's first '@' or, with no '@' in the URI, at its start: then no stop byte follows
// the host's start. One 32-byte window gives the first '>' and '@' (a longer URI or one near the
// datagram's end is left to header_host()); the stop bytes are not searched for.
[[gnu::always_inline]] inline std::string_view header_host_if(std::string_view msg, sip::MaskView mv,
                                                              const sip::MessageIndex& idx, sip::HeaderId id,
                                                              std::string_view known) noexcept {
#if defined(__SSE2__)
    const auto len = static_cast<uint32_t>(known.size());
    if (len == 0 || known[0] == '[') return {};
    const sip::Header* hd = idx.find(id);
    if (!hd) return {};
    const Slice v = hd->value;
    const uint32_t i = past_display_name(msg, mv, v);
    const uint32_t end = v.end();
    if (!lt_sip_at(msg, i, end)) return {};
    const uint32_t p = i + 5;
    const char* base = msg.data();
    const auto size = static_cast<uint32_t>(msg.size());
    if (size < 32 || p > size - 32) return {};
    const Window32 w(base + p);
    const uint32_t gts = w.any('>');
    if (gts == 0) return {};
    const uint32_t gt = p + static_cast<uint32_t>(__builtin_ctz(gts));  // the URI's end
    if (gt >= end || gt - p < len) return {};
    const uint32_t q = gt - len;  // where the tail starts
    if (!same_bytes(base + q, known.data(), len)) return {};
    const uint32_t ats = w.any('@') & ((gts & (0u - gts)) - 1);  // the URI's '@'s
    const uint32_t h = ats ? p + static_cast<uint32_t>(__builtin_ctz(ats)) + 1 : p;  // the host's start
    if (h != q) return {};
    return std::string_view(base + q, len);
#else
    (void)msg, (void)mv, (void)idx, (void)id, (void)known;
    return {};
#endif
}

}  // namespace detail

// The hosts of a message a rule may match by domain: its Request-URI's, To's and From's, each
// read only when asked (each costs a search of its line), so that a source whose rules do not
// look at domains pays nothing for them.
class MessageHosts {
public:
    MessageHosts(std::string_view msg, const sip::MaskView& mv, const sip::MessageIndex& idx) noexcept
        : msg_(msg), mv_(mv), idx_(&idx) {}
    // The host of the Request-URI, To's URI or From's URI (sip: and sips:); empty when there is
    // none (a response has no Request-URI) or it has another scheme (tel:, ...).
    [[nodiscard]] std::string_view request_uri() const noexcept {
        return idx_->start.is_request ? detail::ruri_host(msg_, mv_, idx_->start.uri) : std::string_view{};
    }
    [[nodiscard]] std::string_view to() const noexcept { return detail::header_host(msg_, mv_, *idx_, sip::HeaderId::to); }
    [[nodiscard]] std::string_view from() const noexcept {
        return detail::header_host(msg_, mv_, *idx_, sip::HeaderId::from);
    }
    // to() or from() when it is `known` (a host this reader gave), as the very view those give;
    // empty when that is not certain without reading the header in full (see header_host_if()).
    // It skips a full read's search for the host's end (~25 of its ~70 instructions): the usual
    // To repeats the Request-URI's host, the usual From To's.
    [[nodiscard]] std::string_view to_if(std::string_view known) const noexcept {
        return detail::header_host_if(msg_, mv_, *idx_, sip::HeaderId::to, known);
    }
    [[nodiscard]] std::string_view from_if(std::string_view known) const noexcept {
        return detail::header_host_if(msg_, mv_, *idx_, sip::HeaderId::from, known);
    }
    // Whether From's host is `to`, the host to() gave, known without reading From: From's value
    // repeats To's byte for byte through the byte after that host, and the host follows an '@'.
    // Both are then read alike up to there (the URI's scheme, its first '@' and the host's end
    // all lie in those bytes); without the '@', an '@' further on in From would make the bytes
    // before it a user part and its host another one. The usual From is To's URI and a tag: a
    // compare of a few words instead of a second search (rules with many domains read all three
    // hosts of every message).
    [[nodiscard]] bool from_repeats_to(std::string_view to) const noexcept {
        const sip::Header* t = idx_->find(sip::HeaderId::to);
        const sip::Header* f = idx_->find(sip::HeaderId::from);
        if (!t || !f || to.empty()) return false;
        const char* tv = msg_.data() + t->value.off;
        const auto upto = static_cast<uint32_t>(to.data() + to.size() - tv) + 1;  // to lies inside To's value
        if (upto > t->value.len || upto > f->value.len || to.data()[-1] != '@') return false;
        return same_bytes(tv, msg_.data() + f->value.off, upto);
    }

private:
    std::string_view msg_;
    sip::MaskView mv_;  // a copy (two words): the caller's may be a temporary
    const sip::MessageIndex* idx_;
};

}  // namespace farend::rewrite
