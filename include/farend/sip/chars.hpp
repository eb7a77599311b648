// Character classes of the SIP grammar (RFC 3261 25.1), as constexpr tables.
#pragma once

#include <array>
#include <cstdint>

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
}  // namespace detail

inline constexpr auto kToken = detail::make_token();

[[nodiscard]] constexpr bool is_token(unsigned char c) noexcept { return kToken[c]; }
[[nodiscard]] constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t'; }
// Linear white space inside a header value: folding leaves CR LF in the value.
[[nodiscard]] constexpr bool is_lws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
[[nodiscard]] constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
[[nodiscard]] constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace farend::sip::chars
