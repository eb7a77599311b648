// Generic header parameters, shared by the Via and Contact parsers:
//   *( SEMI generic-param ), SEMI = SWS ";" SWS, generic-param = token [ EQUAL gen-value ],
//   EQUAL = SWS "=" SWS, gen-value = token / host / quoted-string.
#pragma once

#include <farend/sip/chars.hpp>
#include <farend/sip/uri.hpp>

#include <string_view>

namespace farend::sip::detail {

[[nodiscard]] inline uint32_t skip_lws(std::string_view buf, uint32_t p, uint32_t end) noexcept {
    while (p < end && chars::is_lws(buf[p])) ++p;
    return p;
}

inline constexpr uint32_t kUnclosed = ~uint32_t{0};

// Offset one past the closing quote of the quoted-string at p (buf[p] == '"'), or kUnclosed.
// quoted-pair ("\" any byte) is skipped over.
[[nodiscard]] inline uint32_t skip_quoted(std::string_view buf, uint32_t p, uint32_t end) noexcept {
    for (++p; p < end; ++p) {
        if (buf[p] == '"') return p + 1;
        if (buf[p] == '\\') ++p;
    }
    return kUnclosed;
}

// Parses one ";name[=value]" at p (buf[p] == ';'); returns the offset after it or 0 on error.
[[nodiscard]] inline uint32_t parse_generic_param(std::string_view buf, uint32_t p, uint32_t end, Param& out) noexcept {
    out = Param{};
    const uint32_t s = p;
    p = skip_lws(buf, p + 1, end);
    const uint32_t ns = p;
    while (p < end && chars::is_token(static_cast<unsigned char>(buf[p]))) ++p;
    if (p == ns) return 0;
    out.name = make_slice(ns, p);
    uint32_t after = p;
    uint32_t q = skip_lws(buf, p, end);
    if (q < end && buf[q] == '=') {
        q = skip_lws(buf, q + 1, end);
        if (q < end && buf[q] == '"') {
            const uint32_t close = skip_quoted(buf, q, end);
            if (close == kUnclosed) return 0;
            out.value = make_slice(q + 1, close - 1);
            after = close;
        } else {
            // token / host (an IPv6 reference keeps its brackets and colons)
            const uint32_t vs = q;
            while (q < end && (chars::is_token(static_cast<unsigned char>(buf[q])) || buf[q] == ':' || buf[q] == '[' ||
                               buf[q] == ']'))
                ++q;
            if (q == vs) return 0;
            out.value = make_slice(vs, q);
            after = q;
        }
        out.has_value = true;
    }
    out.whole = make_slice(s, after);
    out.present = true;
    return after;
}

}  // namespace farend::sip::detail
