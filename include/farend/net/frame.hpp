// L2/L3/L4 view of one Ethernet frame: VLAN/QinQ tags, IPv4 (with options) or IPv6 (with
// extension headers), UDP. After the UDP payload changes size, fix_after_resize() rewrites the
// IP and UDP lengths and checksums. No allocation; the frame is the caller's buffer.
#pragma once

#include <farend/base/bytes.hpp>
#include <farend/base/ip_addr.hpp>

#include <bit>
#include <cstdint>

namespace farend::net {

enum class FrameStatus : uint8_t {
    udp,           // an unfragmented UDP datagram: the view is filled
    not_ip,        // ARP, LLDP, ...
    not_udp,       // TCP, ICMP, ...
    fragment,      // an IPv4 or IPv6 fragment (not an IPv6 atomic fragment, RFC 6946: a whole datagram)
    truncated,     // shorter than its headers say
    bad_length,    // IP or UDP length fields inconsistent with the frame
    bad_header,    // IPv4 IHL < 5, unknown IP version
};

// A frame whose headers do not hold (counted bad_frames), as opposed to one that is simply not a
// UDP datagram to read.
[[nodiscard]] constexpr bool headers_broken(FrameStatus s) noexcept {
    return s == FrameStatus::truncated || s == FrameStatus::bad_length || s == FrameStatus::bad_header;
}

struct FrameView {
    uint16_t vlan_tags = 0;
    uint16_t l3_off = 0;     // IP header
    uint16_t l4_off = 0;     // UDP header
    uint32_t ip_end = 0;     // end of the IP datagram (frames may carry Ethernet padding after it)
    bool ipv6 = false;
    IpAddr src, dst;
    uint16_t src_port = 0, dst_port = 0;
    [[nodiscard]] uint32_t payload_off() const noexcept { return l4_off + 8u; }
    [[nodiscard]] uint32_t payload_len() const noexcept { return ip_end - payload_off(); }
};

// Whether a frame of at least 24 bytes is untagged IPv4 (ethertype 0x0800) with neither MF nor
// a fragment offset: its bytes 12-13 and 20-21, as two 4-byte loads tested under masks. With
// header20_udp, also a 20-byte header (byte 14 0x45) carrying UDP (byte 23 17). The byte loads and
// compares took ~14 instructions a frame; these take ~7.
namespace detail {
constexpr uint32_t mem_word(uint8_t a, uint8_t b, uint8_t c, uint8_t d) noexcept {  // bytes a b c d in memory
    return std::endian::native == std::endian::little
               ? uint32_t{a} | uint32_t{b} << 8 | uint32_t{c} << 16 | uint32_t{d} << 24
               : uint32_t{d} | uint32_t{c} << 8 | uint32_t{b} << 16 | uint32_t{a} << 24;
}
}  // namespace detail
template <bool header20_udp = false>
[[nodiscard]] inline bool plain_ipv4(const uint8_t* f) noexcept {
    using detail::mem_word;
    const auto word_at = [](const uint8_t* p) { return load_u32(reinterpret_cast<const char*>(p)); };
    constexpr uint8_t b14 = header20_udp ? 0xff : 0x00, b23 = header20_udp ? 0xff : 0x00;
    return ((word_at(f + 12) & mem_word(0xff, 0xff, b14, 0)) ^ mem_word(0x08, 0x00, header20_udp ? 0x45 : 0, 0)) == 0 &&
           ((word_at(f + 20) & mem_word(0x3f, 0xff, 0, b23)) ^ mem_word(0, 0, 0, header20_udp ? 17 : 0)) == 0;
}

// Whether the IPv6 fragment header at h (8 bytes) is an atomic fragment's: offset 0 and M clear
// (RFC 6946), a whole datagram to read on its own; any other makes a piece. The frame reader and
// the dataplane's reassembly both ask this. The reserved bits aside.
[[nodiscard]] inline bool ipv6_atomic_fragment(const uint8_t* h) noexcept { return (h[2] | (h[3] & 0xf9)) == 0; }

[[nodiscard]] FrameStatus parse_frame(const uint8_t* frame, uint32_t len, FrameView& out) noexcept;

namespace detail {
// parse_frame without its short cut for the usual frame (untagged IPv4 without options carrying
// UDP): for the tests that hold the two to the same result.
[[nodiscard]] FrameStatus parse_frame_general(const uint8_t* frame, uint32_t len, FrameView& out) noexcept;
}  // namespace detail

// Length of the Ethernet header with its VLAN/QinQ tags (802.1Q, 802.1ad, 0x9100); ethertype
// gets the type that follows them and tags their number. 0 when the frame ends inside them.
[[nodiscard]] uint32_t l2_header(const uint8_t* frame, uint32_t len, uint16_t& ethertype, uint16_t& tags) noexcept;

// Whether the datagram's checksums verify: the IPv4 header's, and the UDP checksum over the
// pseudo-header and the datagram (an IPv4 one of 0, "none" (RFC 768), passes; an IPv6 one of 0
// does not: RFC 8200 8.1), unless udp_good: the receiving port verified it (RX checksum
// offload). v: a view parse_frame() filled (FrameStatus::udp).
[[nodiscard]] bool checksums_valid(const uint8_t* frame, const FrameView& v, bool udp_good = false) noexcept;

// checksums_valid() up to the payload, for a caller that sums the payload in a pass of its own
// (the SIP parser's scan) and finishes with udp_sums_verify(header_sum, its sum): bad, the IPv4
// header's checksum is wrong; good, nothing is left to check (udp_good, or an IPv4 UDP checksum
// of 0); payload, the UDP checksum is, and header_sum holds the pseudo-header's and the UDP
// header's share (udp_header_sum).
enum class ChecksumStage : uint8_t { bad, good, payload };
[[nodiscard]] ChecksumStage checksums_before_payload(const uint8_t* frame, const FrameView& v, bool udp_good,
                                                     uint64_t& header_sum) noexcept;

// The UDP payload now has new_payload_len bytes (it was resized in place): set the IPv4 total
// length and header checksum, or the IPv6 payload length, the UDP length and checksum. Returns
// the new frame length (any Ethernet padding after the old datagram is dropped). An IPv4 UDP
// checksum of 0 stays 0 (the sender asked for none).
//
// With offload (the port computes checksums on transmit), the IPv4 header checksum is left 0 and
// the UDP checksum field holds the pseudo-header sum, as NICs expect; *udp_offloaded says whether
// the UDP checksum was left to the NIC (not when an IPv4 sender chose none).
//
// header_verified: the IPv4 header's checksum was found right and nothing in the header has
// changed since but what this sets: its checksum is adjusted for the new total length (RFC 1624
// eqn. 3, the same bytes as a new sum) instead of summed anew. Without it, summed anew.
uint32_t fix_after_resize(uint8_t* frame, const FrameView& v, uint32_t new_payload_len, bool offload = false,
                          bool* udp_offloaded = nullptr, bool header_verified = false) noexcept;

}  // namespace farend::net
