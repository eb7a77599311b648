#include <farend/net/checksum.hpp>
#include <farend/simd/checksum.hpp>

#include <cstring>

namespace farend::net {

namespace {
// A 64-bit sum of 16-bit words folded to 16 bits with its carries (RFC 1071 2.(A)) in a fixed
// sequence: a loop until nothing is left above bit 15 ran one to four times, a branch that
// followed the data and mispredicted. 32 + 32 bits: < 2^33 - 1; its two halves again: < 2^32
// (a carry into bit 32 leaves the low half at most 2^32 - 2). Then 32 to 16 bits as csum_fold
// does it: x + (x << 16) has hi + lo in its upper half and their carry out of bit 31, added
// back (at most 0xfffe + 1). ~11 instructions, where three 16-bit steps took ~21.
constexpr uint64_t carry_fold(uint64_t s) noexcept {
    s = (s & 0xffffffff) + (s >> 32);
    const auto x = static_cast<uint32_t>((s & 0xffffffff) + (s >> 32));
    const uint32_t r = x + (x << 16);
    return (r >> 16) + (r < x);
}
static_assert(carry_fold(0xffffffffffffffffull) == 0xffff && carry_fold(0x10000) == 1 && carry_fold(0x1ffff) == 1 &&
              carry_fold(0xffff) == 0xffff && carry_fold(0) == 0 && carry_fold(0x1fffe) == 0xffff);

constexpr uint16_t swap16(uint16_t x) noexcept { return static_cast<uint16_t>((x >> 8) | (x << 8)); }

// Whether a positive sum folds to all ones (the test of a received checksum): a fold is the sum
// modulo 0xffff, taken in [1, 0xffff] for a positive sum, so it is all ones exactly when 0xffff
// divides the sum. GCC tests that divisibility by one multiply and one compare (the sum times
// the inverse of 0xffff modulo 2^64 is at most (2^64 - 1) / 0xffff), ~4 instructions where the
// fold and its compare took ~11. Positive: every sum tested here holds a byte that is never 0
// (an IPv4 header's version and length, or the pseudo-header's protocol, 17).
constexpr bool folds_to_all_ones(uint64_t s) noexcept { return s % 0xffff == 0; }
static_assert(folds_to_all_ones(0xffff) && folds_to_all_ones(0x1fffe) && !folds_to_all_ones(0xfffe) &&
              folds_to_all_ones(0xffffffffffffffffull) && !folds_to_all_ones(0x10000));
}  // namespace

uint16_t fold(uint64_t sum) noexcept {
    // The words were summed in little-endian order; swapping the folded sum gives the big-endian
    // sum (RFC 1071 2.(B): the sum is byte-order independent up to this swap).
    return swap16(static_cast<uint16_t>(carry_fold(sum)));
}

namespace {

// The unfolded sum of data[0..len). Headers and addresses (a few dozen bytes) are summed inline
// by the scalar kernel: the vector one would only run its scalar tail on them, after a dispatch
// and a call. Longer ranges go to the active backend's kernel, chosen once.
uint64_t raw_sum(const uint8_t* data, std::size_t len) noexcept {
    if (len <= 64) return simd::ones_sum_scalar(data, len);
    static const simd::SumFn long_sum = simd::ones_sum();
    return long_sum(data, len);
}

}  // namespace

uint16_t ones_sum(const uint8_t* data, std::size_t len) noexcept { return fold(raw_sum(data, len)); }

namespace {
// The sums below stay in the little-endian words the kernels add (RFC 1071 2.(B)): the fields
// added to them (the stored checksum and length taken out, the new length, the protocol) are
// read or written byte-swapped instead, and the one fold at the end is swapped. A fold of the
// data's sum first, to add big-endian fields to it, cost ~10 instructions a checksum. Both ways
// give the same bytes: a byte swap is multiplication by 256 modulo 0xffff, and a fold of a
// positive sum (these always are) gives the representative in [1, 0xffff] either way.
inline uint16_t load_le16(const uint8_t* p) noexcept {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}
inline uint16_t not16(uint16_t x) noexcept { return static_cast<uint16_t>(~x); }

// The header's little-endian sum with its stored checksum c taken out: S - c == S + ~c in one's
// complement. The usual 20 bytes as five loads, without the length loop. Not folded.
inline uint64_t header_sum_without_checksum(const uint8_t* h, std::size_t ihl) noexcept {
    const uint64_t s = ihl == 20 ? simd::ones_sum_scalar(h, 20) : simd::ones_sum_scalar(h, ihl);
    return s + not16(load_le16(h + 10));
}
}  // namespace

uint16_t ipv4_header_checksum(const uint8_t* h, std::size_t ihl) noexcept {
    return not16(fold(header_sum_without_checksum(h, ihl)));
}

uint16_t ipv4_header_checksum(const uint8_t* h, std::size_t ihl, uint16_t total) noexcept {
    // The old total length out, the new one in (S + ~old + total).
    const uint64_t s = header_sum_without_checksum(h, ihl) + not16(load_le16(h + 2)) + swap16(total);
    return not16(fold(s));
}

namespace {
// An address's words, unfolded: four 32-bit loads, whatever the family (an IPv4 address's last
// 12 bytes are zero, as IpAddr keeps them), where raw_sum's length loop took ~20 instructions.
inline uint64_t addr_sum(const IpAddr& a) noexcept {
    uint32_t w[4];
    std::memcpy(w, a.bytes().data(), sizeof w);
    return uint64_t{w[0]} + w[1] + w[2] + w[3];
}

// The pseudo-header (addresses, protocol 17, the UDP length) plus data_sum, an unfolded sum of
// words in memory order (each range has an even length but the last, so the words line up as in
// one buffer: RFC 1071 2.(C)). Little-endian, unfolded. addrs: the addresses' words, summed.
inline uint64_t pseudo_header_plus(uint64_t addrs, std::size_t len, uint64_t data_sum) noexcept {
    return addrs + data_sum + swap16(17) +  // protocol / next header
           swap16(static_cast<uint16_t>(len >> 16)) + swap16(static_cast<uint16_t>(len));  // UDP / upper-layer length
}
inline uint64_t pseudo_header_plus(const IpAddr& src, const IpAddr& dst, std::size_t len, uint64_t data_sum) noexcept {
    return pseudo_header_plus(addr_sum(src) + addr_sum(dst), len, data_sum);
}

// The datagram's pseudo-header and words with its stored checksum field taken out.
inline uint64_t datagram_sum_without_checksum(const IpAddr& src, const IpAddr& dst, const uint8_t* udp,
                                              std::size_t len) noexcept {
    return pseudo_header_plus(src, dst, len, raw_sum(udp, len)) + not16(load_le16(udp + 6));
}

// The checksum to send for a little-endian sum: inverted, a computed 0 sent as 0xffff (RFC 768).
inline uint16_t udp_checksum_of(uint64_t le_sum) noexcept {
    const uint16_t c = not16(fold(le_sum));
    return c == 0 ? 0xffff : c;
}
}  // namespace

uint16_t udp_checksum(const IpAddr& src, const IpAddr& dst, const uint8_t* udp, std::size_t len) noexcept {
    return udp_checksum_of(datagram_sum_without_checksum(src, dst, udp, len));
}

uint16_t udp_checksum_for_length(const IpAddr& src, const IpAddr& dst, const uint8_t* udp, std::size_t len) noexcept {
    // The old length field out, the new one in.
    return udp_checksum_of(datagram_sum_without_checksum(src, dst, udp, len) + not16(load_le16(udp + 4)) +
                           swap16(static_cast<uint16_t>(len)));
}

uint64_t udp_header_sum(const IpAddr& src, const IpAddr& dst, const uint8_t* udp, std::size_t len) noexcept {
    return pseudo_header_plus(src, dst, len, simd::ones_sum_scalar(udp, 8));
}

bool ipv4_header_verifies(const uint8_t* h, std::size_t ihl, const uint8_t* udp, std::size_t len,
                          uint64_t& udp_sum) noexcept {
    // The addresses (h[12..20), two loads) are in both sums. An IPv4 address's words are the
    // same read here or from an IpAddr (its 12 bytes after zero). A UDP length fits 16 bits:
    // said so, the pseudo-header's upper half of it folds away.
    const uint64_t addrs = simd::ones_sum_scalar(h + 12, 8);
    const uint64_t options = ihl == 20 ? 0 : simd::ones_sum_scalar(h + 20, ihl - 20);
    const uint64_t rest = simd::ones_sum_scalar(h, 12) + options;
    udp_sum = pseudo_header_plus(addrs, static_cast<uint16_t>(len), simd::ones_sum_scalar(udp, 8));
    return folds_to_all_ones(rest + addrs);  // positive: h[0] holds version 4 and a length of 5 or more
}

bool udp_sums_verify(uint64_t header_sum, uint64_t payload_sum) noexcept {
    return folds_to_all_ones(header_sum + payload_sum);  // positive: the pseudo-header's protocol, 17
}

uint16_t udp_pseudo_header_sum(const IpAddr& src, const IpAddr& dst, std::size_t len) noexcept {
    return fold(pseudo_header_plus(src, dst, len, 0));
}

uint16_t adjust(uint16_t hc, uint16_t m, uint16_t m2) noexcept {
    // Host-order words in and out: folded without the swap that fold() makes.
    return not16(static_cast<uint16_t>(carry_fold(uint64_t{not16(hc)} + not16(m) + m2)));
}

void fix_udp_checksum(const IpAddr& src, const IpAddr& dst, uint8_t* udp, std::size_t len, bool keep_zero) noexcept {
    if (src.is_v4() && keep_zero && load_be16(udp + 6) == 0) return;
    store_be16(udp + 6, udp_checksum(src, dst, udp, len));
}

void fix_ipv4_header_checksum(uint8_t* h, std::size_t ihl) noexcept { store_be16(h + 10, ipv4_header_checksum(h, ihl)); }

}  // namespace farend::net
