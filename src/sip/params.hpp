// Generic header parameters, shared by the Via and Contact parsers:
//   *( SEMI generic-param ), SEMI = SWS ";" SWS, generic-param = token [ EQUAL gen-value ],
//   EQUAL = SWS "=" SWS, gen-value = token / host / quoted-string.
// Values are read up to the next structural byte, found 32 bytes a step with SSE2 compares
// (find_any), so a 40-byte branch costs two steps, not 40 byte tests; their characters are not
// checked one by one (farend rewrites only values it parses itself: host, port, received, rport,
// alias). No class masks: the values are short, and scanning their blocks for the value classes
// cost more than the search (see perf/RESULTS.md).
#pragma once

#include <farend/base/bytes.hpp>
#include <farend/sip/chars.hpp>
#include <farend/sip/mask_view.hpp>
#include <farend/sip/uri.hpp>

#include <string_view>

namespace farend::sip::detail {

// The end of a token value at q: the first ';' ',' white space, CR, LF, '"', '<' or '>' in
// [q, end), or end.
[[nodiscard, gnu::always_inline]] inline uint32_t find_value_end(std::string_view buf, uint32_t q,
                                                                 uint32_t end) noexcept {
    const auto size = static_cast<uint32_t>(buf.size());
    return find_any<';', ',', ' ', '\t', '\r', '\n', '"', '<', '>'>(buf.data(), size, q, end);
}

[[nodiscard]] inline uint32_t skip_lws(std::string_view buf, uint32_t p, uint32_t end) noexcept {
    while (p < end && chars::is_lws(buf[p])) ++p;
    return p;
}

inline constexpr uint32_t kUnclosed = ~uint32_t{0};

// Offset one past the closing quote of the quoted-string at p (buf[p] == '"'), or kUnclosed.
// quoted-pair ("\" any byte) is skipped over: a quote preceded by an odd run of backslashes is
// escaped.
[[nodiscard]] inline uint32_t skip_quoted(std::string_view buf, uint32_t p, uint32_t end) noexcept {
    const auto size = static_cast<uint32_t>(buf.size());
    for (uint32_t q = find_any<'"'>(buf.data(), size, p + 1, end); q < end;
         q = find_any<'"'>(buf.data(), size, q + 1, end)) {
        uint32_t bs = 0;
        while (q - bs > p + 1 && buf[q - bs - 1] == '\\') ++bs;
        if (bs % 2 == 0) return q + 1;
    }
    return kUnclosed;
}

// The rest of a parameter whose name [ns, ne) is read: [ EQUAL gen-value ]. s is its ';'.
// Returns the offset after it or 0 on error. always_inline: a call (seven arguments, one on the
// stack, and the Param copied back) cost ~35 instructions a parameter (-68 a REGISTER).
[[nodiscard, gnu::always_inline]] inline uint32_t param_after_name(std::string_view buf, uint32_t s, uint32_t ns,
                                                                   uint32_t ne, uint32_t end, Param& out) noexcept {
    out = Param{};
    out.name = Slice{ns, ne - ns};
    uint32_t after = ne;
    uint32_t q = ne;
    if (q < end && buf[q] != '=' && chars::is_lws(buf[q])) q = skip_lws(buf, q, end);
    if (q < end && buf[q] == '=') {
        q = skip_lws(buf, q + 1, end);
        if (q < end && buf[q] == '"') {
            const uint32_t close = skip_quoted(buf, q, end);
            if (close == kUnclosed) return 0;
            out.value = Slice{q + 1, close - q - 2};
            after = close;
        } else {
            const uint32_t ve = find_value_end(buf, q, end);
            if (ve == q) return 0;
            out.value = Slice{q, ve - q};
            after = ve;
        }
        out.has_value = true;
    }
    out.whole = Slice{s, after - s};
    out.present = true;
    return after;
}

// Parses one ";name[=value]" at p (buf[p] == ';'); returns the offset after it or 0 on error.
[[nodiscard]] inline uint32_t parse_generic_param(std::string_view buf, uint32_t p, uint32_t end, Param& out) noexcept {
    const uint32_t s = p;
    p = skip_lws(buf, p + 1, end);
    const uint32_t ns = p;
    while (p < end && chars::is_token(static_cast<unsigned char>(buf[p]))) ++p;
    if (p == ns) return 0;
    return param_after_name(buf, s, ns, p, end, out);
}

}  // namespace farend::sip::detail
