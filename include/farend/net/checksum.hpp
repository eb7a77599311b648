// IPv4 header and UDP checksums (RFC 791, 768, 8200 8.1), full and incremental (RFC 1624).
// All 16-bit values here are in host order; the functions read and write packet bytes.
#pragma once

#include <farend/base/ip_addr.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace farend::net {

// Folds a sum of little-endian words (simd::ones_sum) to the 16-bit one's-complement sum of the
// same bytes read as big-endian words.
[[nodiscard]] uint16_t fold(uint64_t sum) noexcept;

// One's-complement sum of data as big-endian 16-bit words (not inverted).
[[nodiscard]] uint16_t ones_sum(const uint8_t* data, std::size_t len) noexcept;

// Whether an IPv4 header of ihl_bytes carries a right checksum (its words, the checksum
// included, sum to all ones), and from the same loads the UDP checksum's share of the
// pseudo-header (its addresses read from this header) and of the UDP header udp[0..8) of a
// datagram of udp_len bytes, as udp_header_sum() gives it: what a UDP-over-IPv4 check needs
// before the payload, in ~25 instructions where the two apart took ~60.
[[nodiscard]] bool ipv4_header_verifies(const uint8_t* header, std::size_t ihl_bytes, const uint8_t* udp,
                                        std::size_t udp_len, uint64_t& udp_header_sum) noexcept;

// The checksum to store in an IPv4 header of ihl_bytes (its checksum field is ignored).
[[nodiscard]] uint16_t ipv4_header_checksum(const uint8_t* header, std::size_t ihl_bytes) noexcept;

// The checksum the header will need once its total length field (header[2..3]) is total; the
// header still holds the old length. Read before the new length is stored: loads that overlap a
// store still in flight wait for it (store-to-load forwarding fails on a partial overlap).
[[nodiscard]] uint16_t ipv4_header_checksum(const uint8_t* header, std::size_t ihl_bytes, uint16_t total) noexcept;

// The UDP checksum for a datagram udp[0..udp_len) between src and dst (same family), computed
// with the checksum field taken as zero. Never returns 0: a computed 0 is sent as 0xffff.
[[nodiscard]] uint16_t udp_checksum(const IpAddr& src, const IpAddr& dst, const uint8_t* udp,
                                    std::size_t udp_len) noexcept;

// The same for a datagram whose length field (udp[4..5]) still holds an old value and will be
// udp_len: summed before that store, for the reason above.
[[nodiscard]] uint16_t udp_checksum_for_length(const IpAddr& src, const IpAddr& dst, const uint8_t* udp,
                                               std::size_t udp_len) noexcept;

// Whether udp[0..udp_len) between src and dst carries a right UDP checksum, in two shares: the
// sum of the pseudo-header and the datagram, its checksum field included, must be all ones (a
// checksum field of 0 is summed like any other: an IPv4 caller tests for "none" first). The
// payload (udp + 8) is summed by the caller, in a pass of its own (the SIP parser's scan:
// sip::MessageParser::parse); this is the pseudo-header's and the UDP header's share, unfolded,
// little-endian ...
[[nodiscard]] uint64_t udp_header_sum(const IpAddr& src, const IpAddr& dst, const uint8_t* udp,
                                      std::size_t udp_len) noexcept;
// ... and whether they and the payload's (udp + 8, an unfolded sum of little-endian words, as
// simd::ones_sum gives it or congruent to it modulo 0xffff) make all ones.
[[nodiscard]] bool udp_sums_verify(uint64_t header_sum, uint64_t payload_sum) noexcept;

// The pseudo-header's one's-complement sum (addresses, protocol 17, udp_len), folded, not
// inverted: what a port with UDP checksum offload expects in the checksum field (DPDK's
// rte_ipv4_phdr_cksum / rte_ipv6_phdr_cksum convention).
[[nodiscard]] uint16_t udp_pseudo_header_sum(const IpAddr& src, const IpAddr& dst, std::size_t udp_len) noexcept;

// RFC 1624 eqn. 3: the checksum after one 16-bit word of the covered data changes.
[[nodiscard]] uint16_t adjust(uint16_t checksum, uint16_t old_word, uint16_t new_word) noexcept;

// Reads/writes big-endian 16-bit fields: one 2-byte move and a byte swap (movbe where the CPU
// has it). Written byte by byte, GCC kept two byte stores, or merged neighbouring fields through
// a chain of shifts and ORs.
[[nodiscard]] inline uint16_t load_be16(const uint8_t* p) noexcept {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return __builtin_bswap16(v);
}
inline void store_be16(uint8_t* p, uint16_t v) noexcept {
    const uint16_t x = __builtin_bswap16(v);
    std::memcpy(p, &x, 2);
}

// Sets the UDP checksum field (udp[6..7]) for the datagram as it now is. Over IPv4 a checksum of
// 0 means "none" (RFC 768): with keep_zero it stays 0, otherwise it is computed. Over IPv6 it
// is always computed (RFC 8200 8.1).
void fix_udp_checksum(const IpAddr& src, const IpAddr& dst, uint8_t* udp, std::size_t udp_len, bool keep_zero) noexcept;

// Sets the IPv4 header checksum field (header[10..11]).
void fix_ipv4_header_checksum(uint8_t* header, std::size_t ihl_bytes) noexcept;

}  // namespace farend::net
