// IPv4/IPv6 addresses as 16 bytes plus a family, compared in binary; text in and out.
// Parsing is strict (RFC 3986 IPv4address / RFC 4291 IPv6 text forms); nothing here resolves names.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace farend {

class IpAddr {
public:
    enum class Family : uint8_t { none = 0, v4 = 4, v6 = 6 };

    constexpr IpAddr() noexcept = default;

    // Inline: every received frame builds two (its source and destination).
    [[nodiscard]] static IpAddr v4_bytes(std::span<const uint8_t, 4> b) noexcept {
        IpAddr a;
        a.family_ = Family::v4;
        std::memcpy(a.bytes_.data(), b.data(), 4);
        return a;
    }
    // The same, written in place: the parsers fill an address inside a larger struct, and
    // `x.ip = v4_bytes(...)` built it on the stack first (a 4-byte store beside a 16-byte zero,
    // read back as one 16-byte load: a store-forwarding stall) and then copied it.
    void set_v4(std::span<const uint8_t, 4> b) noexcept {
        uint64_t lo = 0;  // in memory: the four bytes, then four zeros (either byte order)
        std::memcpy(&lo, b.data(), 4);
        const uint64_t hi = 0;
        std::memcpy(bytes_.data(), &lo, 8);
        std::memcpy(bytes_.data() + 8, &hi, 8);
        family_ = Family::v4;
    }
    // The same as one 16-byte store of a register (movd zero-extends): for an address that is
    // read back soon as a whole (the frame's source and destination). Two 8-byte stores read back
    // by one 16-byte load are not forwarded; a 4-byte store beside a 16-byte zero neither.
    void set_v4_whole(std::span<const uint8_t, 4> b) noexcept {
#if defined(__SSE2__)
        uint32_t w;
        std::memcpy(&w, b.data(), 4);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(bytes_.data()), _mm_cvtsi32_si128(static_cast<int>(w)));
        family_ = Family::v4;
#else
        set_v4(b);
#endif
    }
    [[nodiscard]] static IpAddr v6_bytes(std::span<const uint8_t, 16> b) noexcept {
        IpAddr a;
        a.family_ = Family::v6;
        std::memcpy(a.bytes_.data(), b.data(), 16);
        return a;
    }

    // "192.0.2.1": four decimal octets of 1-3 digits, each <= 255.
    [[nodiscard]] static std::optional<IpAddr> parse_v4(std::string_view s) noexcept;
    // "2001:db8::1", "::ffff:192.0.2.1" (no brackets, no zone id).
    [[nodiscard]] static std::optional<IpAddr> parse_v6(std::string_view s) noexcept;
    // Either form; "[v6]" is accepted too.
    [[nodiscard]] static std::optional<IpAddr> parse(std::string_view s) noexcept;

    [[nodiscard]] constexpr Family family() const noexcept { return family_; }
    [[nodiscard]] constexpr bool is_v4() const noexcept { return family_ == Family::v4; }
    [[nodiscard]] constexpr bool is_v6() const noexcept { return family_ == Family::v6; }
    [[nodiscard]] constexpr bool valid() const noexcept { return family_ != Family::none; }
    // IPv4 in bytes 0..3, IPv6 in 0..15, network order.
    [[nodiscard]] constexpr const std::array<uint8_t, 16>& bytes() const noexcept { return bytes_; }
    [[nodiscard]] uint32_t v4_host_order() const noexcept {
        return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) | uint32_t{bytes_[3]};
    }
    // 0.0.0.0 or :: (a valid address of all zeros).
    [[nodiscard]] bool is_unspecified() const noexcept {
        if (!valid()) return false;
        for (uint8_t b : bytes_)
            if (b) return false;
        return true;
    }

    // Canonical text: dotted quad, or RFC 5952 for IPv6 (lower case, longest zero run as ::,
    // IPv4-mapped as ::ffff:a.b.c.d). Returns the length of the text (at most 45); out must have
    // room for kMaxText bytes (an IPv4 text may leave a scratch byte after its end).
    static constexpr std::size_t kMaxText = 46;
    std::size_t format(char* out) const noexcept;
    [[nodiscard]] std::string to_string() const;

    // All 16 bytes and the family, as two words (the defaulted == called memcmp for the array).
    friend constexpr bool operator==(const IpAddr& a, const IpAddr& b) noexcept {
        const auto x = std::bit_cast<std::array<uint64_t, 2>>(a.bytes_);
        const auto y = std::bit_cast<std::array<uint64_t, 2>>(b.bytes_);
        return a.family_ == b.family_ && ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
    }

private:
    alignas(8) std::array<uint8_t, 16> bytes_{};
    Family family_ = Family::none;
};

// An address prefix such as 10.0.0.0/8 or fc00::/7.
struct Cidr {
    IpAddr net;
    uint8_t len = 0;

    // "10.0.0.0/8", "fe80::/10"; a bare address is a host prefix. Host bits must be zero.
    [[nodiscard]] static std::optional<Cidr> parse(std::string_view s) noexcept;
    [[nodiscard]] bool contains(const IpAddr& ip) const noexcept;
    [[nodiscard]] std::string to_string() const;
};

}  // namespace farend
