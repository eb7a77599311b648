#include <farend/net/checksum.hpp>
#include <farend/net/frame.hpp>
#include <farend/simd/checksum.hpp>

namespace farend::net {

namespace {
constexpr uint16_t kVlan = 0x8100, kQinQ = 0x88a8, kVlan9100 = 0x9100, kIpv4 = 0x0800, kIpv6 = 0x86dd;
constexpr uint8_t kUdp = 17;
}  // namespace

uint32_t l2_header(const uint8_t* f, uint32_t len, uint16_t& type, uint16_t& tags) noexcept {
    type = 0;
    tags = 0;
    if (len < 14) return 0;
    uint32_t off = 12;
    type = load_be16(f + off);
    while (type == kVlan || type == kQinQ || type == kVlan9100) {
        if (len < off + 6) return 0;
        off += 4;
        ++tags;
        type = load_be16(f + off);
    }
    return off + 2;
}

FrameStatus parse_frame(const uint8_t* f, uint32_t len, FrameView& v) noexcept {
    // The usual frame: untagged IPv4 (ethertype 0x0800) with a 20-byte header (0x45), neither MF
    // nor an offset, carrying UDP, its IP total length inside the frame and its UDP length the
    // rest of the datagram. Read in one go, as detail::parse_frame_general() reads it, without
    // the view's reset, the VLAN walk and the tests of the other cases (~60 instructions of ~100).
    // Any other frame, or a length that does not add up (an error the general way names), goes
    // the general way.
    static_assert(kUdp == 17 && kIpv4 == 0x0800);  // as plain_ipv4<true> tests them
    if (len >= 42 && plain_ipv4<true>(f)) {
        const uint32_t total = load_be16(f + 16);
        if (total >= 28 && total <= len - 14 && load_be16(f + 38) == total - 20) {
            v.vlan_tags = 0;
            v.l3_off = 14;
            v.l4_off = 34;
            v.ip_end = 14 + total;
            v.ipv6 = false;
            v.src.set_v4_whole(std::span<const uint8_t, 4>(f + 26, 4));
            v.dst.set_v4_whole(std::span<const uint8_t, 4>(f + 30, 4));
            v.src_port = load_be16(f + 34);
            v.dst_port = load_be16(f + 36);
            return FrameStatus::udp;
        }
    }
    return detail::parse_frame_general(f, len, v);
}

FrameStatus detail::parse_frame_general(const uint8_t* f, uint32_t len, FrameView& v) noexcept {
    v = FrameView{};
    uint16_t type = 0;
    uint32_t off = l2_header(f, len, type, v.vlan_tags);
    if (off == 0) return FrameStatus::truncated;
    v.l3_off = static_cast<uint16_t>(off);
    uint8_t proto = 0;
    if (type == kIpv4) {
        if (len < off + 20) return FrameStatus::truncated;
        const uint8_t* ip = f + off;
        if ((ip[0] >> 4) != 4) return FrameStatus::bad_header;
        const uint32_t ihl = (ip[0] & 0xfu) * 4u;
        if (ihl < 20) return FrameStatus::bad_header;
        const uint32_t total = load_be16(ip + 2);
        if (total < ihl || off + total > len) return FrameStatus::bad_length;
        if (off + ihl > len) return FrameStatus::truncated;
        if (load_be16(ip + 6) & 0x3fff) return FrameStatus::fragment;  // MF or an offset
        proto = ip[9];
        v.src.set_v4_whole(std::span<const uint8_t, 4>(ip + 12, 4));
        v.dst.set_v4_whole(std::span<const uint8_t, 4>(ip + 16, 4));
        v.ip_end = off + total;
        off += ihl;
    } else if (type == kIpv6) {
        if (len < off + 40) return FrameStatus::truncated;
        const uint8_t* ip = f + off;
        if ((ip[0] >> 4) != 6) return FrameStatus::bad_header;
        const uint32_t payload = load_be16(ip + 4);
        if (off + 40 + payload > len) return FrameStatus::bad_length;
        v.ipv6 = true;
        v.src = IpAddr::v6_bytes(std::span<const uint8_t, 16>(ip + 8, 16));
        v.dst = IpAddr::v6_bytes(std::span<const uint8_t, 16>(ip + 24, 16));
        v.ip_end = off + 40 + payload;
        proto = ip[6];
        off += 40;
        // Extension headers (RFC 8200 4): hop-by-hop 0, routing 43, fragment 44, dest opts 60.
        for (int hops = 0; hops < 8; ++hops) {
            if (proto != 0 && proto != 43 && proto != 44 && proto != 60) break;
            if (v.ip_end < off + 8) return FrameStatus::truncated;
            if (proto == 44) {
                // A fragment header of 8 bytes (its second byte is reserved, not a length). An
                // atomic fragment's is passed over as another extension header.
                if (!ipv6_atomic_fragment(f + off)) return FrameStatus::fragment;
                proto = f[off];
                off += 8;
                continue;
            }
            proto = f[off];
            off += (f[off + 1] + 1u) * 8u;
        }
    } else {
        return FrameStatus::not_ip;
    }
    if (proto != kUdp) return FrameStatus::not_udp;
    if (v.ip_end < off + 8) return FrameStatus::truncated;
    const uint8_t* udp = f + off;
    const uint32_t ulen = load_be16(udp + 4);
    if (ulen < 8 || off + ulen != v.ip_end) return FrameStatus::bad_length;
    v.l4_off = static_cast<uint16_t>(off);
    v.src_port = load_be16(udp);
    v.dst_port = load_be16(udp + 2);
    return FrameStatus::udp;
}

ChecksumStage checksums_before_payload(const uint8_t* f, const FrameView& v, bool udp_good, uint64_t& header_sum) noexcept {
    const uint8_t* udp = f + v.l4_off;
    const uint32_t udp_len = v.ip_end - v.l4_off;
    if (!v.ipv6) {
        uint64_t s = 0;
        if (!ipv4_header_verifies(f + v.l3_off, (f[v.l3_off] & 0xfu) * 4u, udp, udp_len, s)) return ChecksumStage::bad;
        if (udp_good || load_be16(udp + 6) == 0) return ChecksumStage::good;  // 0: the sender chose none
        header_sum = s;
        return ChecksumStage::payload;
    }
    if (udp_good) return ChecksumStage::good;
    header_sum = udp_header_sum(v.src, v.dst, udp, udp_len);
    return ChecksumStage::payload;
}

bool checksums_valid(const uint8_t* f, const FrameView& v, bool udp_good) noexcept {
    uint64_t header_sum = 0;
    switch (checksums_before_payload(f, v, udp_good, header_sum)) {
        case ChecksumStage::bad:
            return false;
        case ChecksumStage::good:
            return true;
        case ChecksumStage::payload:
            break;
    }
    return udp_sums_verify(header_sum, simd::ones_sum()(f + v.l4_off + 8, v.ip_end - v.l4_off - 8u));
}

uint32_t fix_after_resize(uint8_t* f, const FrameView& v, uint32_t new_payload_len, bool offload, bool* udp_offloaded,
                          bool header_verified) noexcept {
    uint8_t* udp = f + v.l4_off;
    const uint32_t udp_len = 8 + new_payload_len;
    const uint32_t ip_end = v.l4_off + udp_len;
    uint8_t* ip = f + v.l3_off;
    // Every checksum is summed before the length fields it covers are stored (a load that
    // overlaps a store in flight waits for it), then the fields and the checksums are stored.
    if (v.ipv6) {
        store_be16(ip + 4, static_cast<uint16_t>(ip_end - v.l3_off - 40));
    } else {
        const auto total = static_cast<uint16_t>(ip_end - v.l3_off);
        const uint16_t ck = offload           ? 0
                            : header_verified ? adjust(load_be16(ip + 10), load_be16(ip + 2), total)
                                              : ipv4_header_checksum(ip, (ip[0] & 0xfu) * 4u, total);
        store_be16(ip + 2, total);
        store_be16(ip + 10, ck);
    }
    const bool keep_zero = !v.ipv6 && load_be16(udp + 6) == 0;  // RFC 768: the sender chose none
    if (udp_offloaded) *udp_offloaded = offload && !keep_zero;
    // With offload the pseudo-header sum, not inverted: the NIC adds the datagram and inverts.
    const uint16_t ck = keep_zero ? 0
                        : offload ? udp_pseudo_header_sum(v.src, v.dst, udp_len)
                                  : udp_checksum_for_length(v.src, v.dst, udp, udp_len);
    store_be16(udp + 4, static_cast<uint16_t>(udp_len));
    store_be16(udp + 6, ck);
    return ip_end;
}

}  // namespace farend::net
