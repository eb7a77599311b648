#include <farend/net/checksum.hpp>
#include <farend/simd/checksum.hpp>

namespace farend::net {

uint16_t fold(uint64_t sum) noexcept {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    // The words were summed in little-endian order; swapping the folded sum gives the big-endian
    // sum (RFC 1071 2.(B): the sum is byte-order independent up to this swap).
    const auto s = static_cast<uint16_t>(sum);
    return static_cast<uint16_t>((s >> 8) | (s << 8));
}

namespace {

// Headers and addresses (a few dozen bytes) are summed inline by the scalar kernel: the vector
// one would only run its scalar tail on them, after a dispatch and a call.
constexpr std::size_t kShort = 64;

// The kernel for the active backend, chosen once.
simd::SumFn long_sum() noexcept {
    static const simd::SumFn f = simd::ones_sum();
    return f;
}

}  // namespace

uint16_t ones_sum(const uint8_t* data, std::size_t len) noexcept {
    return fold(len <= kShort ? simd::ones_sum_scalar(data, len) : long_sum()(data, len));
}

namespace {
uint16_t finish(uint64_t be_sum) noexcept {  // sum of host-order (big-endian read) words
    while (be_sum >> 16) be_sum = (be_sum & 0xffff) + (be_sum >> 16);
    return static_cast<uint16_t>(be_sum);
}
}  // namespace

uint16_t ipv4_header_checksum(const uint8_t* h, std::size_t ihl) noexcept {
    // The sum with the stored checksum c taken out: S - c == S + ~c in one's complement.
    uint64_t s = ones_sum(h, ihl);
    s += static_cast<uint16_t>(~load_be16(h + 10));
    return static_cast<uint16_t>(~finish(s));
}

uint16_t udp_checksum(const IpAddr& src, const IpAddr& dst, const uint8_t* udp, std::size_t len) noexcept {
    const std::size_t alen = src.is_v4() ? 4 : 16;
    // The addresses and the datagram summed unfolded and folded once: each range has an even
    // length but the last, so the words line up as in one buffer (RFC 1071 2.(C)).
    const uint64_t raw = simd::ones_sum_scalar(src.bytes().data(), alen) +
                         simd::ones_sum_scalar(dst.bytes().data(), alen) +
                         (len <= kShort ? simd::ones_sum_scalar(udp, len) : long_sum()(udp, len));
    uint64_t s = fold(raw);
    s += 17;  // protocol / next header
    s += (len >> 16) + (len & 0xffff);  // UDP length (IPv4) / upper-layer length (IPv6)
    s += static_cast<uint16_t>(~load_be16(udp + 6));  // remove the stored checksum field
    const uint16_t c = static_cast<uint16_t>(~finish(s));
    return c == 0 ? 0xffff : c;
}

uint16_t adjust(uint16_t hc, uint16_t m, uint16_t m2) noexcept {
    uint32_t s = static_cast<uint16_t>(~hc);
    s += static_cast<uint16_t>(~m);
    s += m2;
    return static_cast<uint16_t>(~finish(s));
}

void fix_udp_checksum(const IpAddr& src, const IpAddr& dst, uint8_t* udp, std::size_t len, bool keep_zero) noexcept {
    if (src.is_v4() && keep_zero && load_be16(udp + 6) == 0) return;
    store_be16(udp + 6, udp_checksum(src, dst, udp, len));
}

void fix_ipv4_header_checksum(uint8_t* h, std::size_t ihl) noexcept { store_be16(h + 10, ipv4_header_checksum(h, ihl)); }

}  // namespace farend::net
