// Character classes of the SIP grammar (RFC 3261 25.1), as constexpr tables.
#pragma once

#include <farend/base/bytes.hpp>

#include <array>
#include <cstdint>
#include <cstring>

#include <emmintrin.h>

namespace farend::sip::chars {

namespace detail {
constexpr std::array<bool, 256> make_token() {
    std::array<bool, 256> t{};
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
    for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
    for (char c : {'-', '.', '!', '%', '*', '_', '+', '`', '\'', '~'}) t[static_cast<unsigned char>(c)] = true;
    return t;
}
constexpr std::array<uint8_t, 256> make_ws() {
    std::array<uint8_t, 256> t{};
    t[' '] = t['\t'] = 1;
    return t;
}
}  // namespace detail

inline constexpr auto kToken = detail::make_token();
// 1 for SP and HTAB: is_ws() of several bytes OR-ed together, tested with one branch.
inline constexpr auto kWsByte = detail::make_ws();

[[nodiscard]] constexpr bool is_token(unsigned char c) noexcept { return kToken[c]; }
[[nodiscard]] constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t'; }
// Linear white space inside a header value: folding leaves CR LF in the value.
// One compare and one bit test (GCC made the four compares four branches).
[[nodiscard]] constexpr bool is_lws(char c) noexcept {
    constexpr uint64_t kLws = (uint64_t{1} << ' ') | (uint64_t{1} << '\t') | (uint64_t{1} << '\r') | (uint64_t{1} << '\n');
    const auto u = static_cast<unsigned char>(c);
    return u <= ' ' && ((kLws >> u) & 1) != 0;
}
[[nodiscard]] constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
[[nodiscard]] constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// base/bytes.hpp's 16-byte mask of the bytes below 0x21 or above 0x7e: the Request-URI's check
// below and a URI's marks (uri.cpp).
using ::farend::space_or_control16;

// Any byte below 0x21 (space, control) or above 0x7e (DEL, non-ASCII) in p[0..n); reads only
// p[0..n). From 16 bytes on, 16 at a time (space_or_control16), the last 16 overlapping those
// already seen: a Request-URI of ~30 bytes in two steps, ~20 instructions fewer than the
// eight-byte words below. Shorter runs: eight bytes at a time (SWAR).
[[nodiscard]] inline bool has_space_or_control(const char* p, std::size_t n) noexcept {
    if (n >= 16) {
        const auto bad = [](const char* q) {
            return _mm_movemask_epi8(space_or_control16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)))) != 0;
        };
        std::size_t i = 0;
        for (; n - i > 16; i += 16)
            if (bad(p + i)) return true;
        return bad(p + n - 16);
    }
    constexpr uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    // byte < 0x21: (x - 0x21) borrows into its high bit where x had none; byte > 0x7e: the high
    // bit is set, or adding 1 (0x7f + 1) sets it.
    auto bad = [](uint64_t x) { return (((x - ones * 0x21) & ~x) | x | (x + ones)) & highs; };
    if (n >= 8) {  // the first 8 bytes and the last 8, overlapping: no loop
        uint64_t x, y;
        std::memcpy(&x, p, 8);
        std::memcpy(&y, p + n - 8, 8);
        return (bad(x) | bad(y)) != 0;
    }
    for (std::size_t i = 0; i < n; ++i)
        if (static_cast<unsigned char>(p[i]) - 0x21u > 0x7eu - 0x21u) return true;
    return false;
}

}  // namespace farend::sip::chars
