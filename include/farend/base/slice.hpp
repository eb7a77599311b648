// Byte ranges inside one message buffer, kept as offsets so they survive in-place edits that
// only move bytes after them, and so that a parse result is 8 bytes per field, not 16.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace farend {

struct Slice {
    uint32_t off = 0;
    uint32_t len = 0;

    [[nodiscard]] constexpr uint32_t end() const noexcept { return off + len; }
    [[nodiscard]] constexpr bool empty() const noexcept { return len == 0; }
    friend constexpr bool operator==(Slice, Slice) noexcept = default;
};

[[nodiscard]] constexpr Slice make_slice(size_t begin, size_t end) noexcept {
    return Slice{static_cast<uint32_t>(begin), static_cast<uint32_t>(end - begin)};
}

// The text of a slice of a buffer.
[[nodiscard]] inline std::string_view text(std::string_view buf, Slice s) noexcept {
    return buf.substr(s.off, s.len);
}

// ASCII case-insensitive equality; SIP tokens and header names compare this way (RFC 3261 7.3.1).
[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

[[nodiscard]] constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

[[nodiscard]] constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Calls f(item) for each item of an option list separated by commas and/or spaces ("a,b c");
// stops early and returns false when f does. Empty items are skipped.
template <class F>
constexpr bool for_each_item(std::string_view list, F&& f) {
    std::size_t i = 0;
    while (i < list.size()) {
        while (i < list.size() && (list[i] == ',' || list[i] == ' ' || list[i] == '\t')) ++i;
        std::size_t j = i;
        while (j < list.size() && list[j] != ',' && list[j] != ' ' && list[j] != '\t') ++j;
        if (j > i && !f(list.substr(i, j - i))) return false;
        i = j;
    }
    return true;
}

}  // namespace farend
