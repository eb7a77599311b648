#include <farend/net/frame.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

using namespace farend;

namespace {

std::string describe(net::FrameStatus st, const net::FrameView& v) {
    std::string s = "status=" + std::to_string(static_cast<int>(st));
    if (st != net::FrameStatus::udp) return s;  // the view is filled only for a UDP datagram
    s += " tags=" + std::to_string(v.vlan_tags) + " l3=" + std::to_string(v.l3_off) + " l4=" + std::to_string(v.l4_off) +
         " end=" + std::to_string(v.ip_end) + (v.ipv6 ? " v6" : " v4") + " src=" + v.src.to_string() +
         " dst=" + v.dst.to_string() + " sport=" + std::to_string(v.src_port) + " dport=" + std::to_string(v.dst_port) +
         " payload=" + std::to_string(v.payload_off()) + "+" + std::to_string(v.payload_len());
    return s;
}

// An untagged IPv4/UDP frame from 203.0.113.5:40000 to 198.51.100.10:5060 with `payload` bytes
// of payload and `pad` bytes of Ethernet padding after the datagram.
std::vector<uint8_t> usual_frame(uint32_t payload, uint32_t pad) {
    std::vector<uint8_t> f(42 + payload + pad, 0x61);
    const uint8_t head[42] = {
        0x02, 0, 0, 0, 0, 0x0c, 0x02, 0, 0, 0, 0, 0x0a, 0x08, 0x00,  // Ethernet, IPv4
        0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0,           // IPv4: DF, TTL 64, UDP
        203, 0, 113, 5, 198, 51, 100, 10,                            // addresses
        0x9c, 0x40, 0x13, 0xc4, 0, 0, 0, 0};                         // UDP 40000 -> 5060
    std::copy(head, head + 42, f.begin());
    const uint32_t total = 28 + payload, ulen = 8 + payload;
    f[16] = static_cast<uint8_t>(total >> 8);
    f[17] = static_cast<uint8_t>(total);
    f[38] = static_cast<uint8_t>(ulen >> 8);
    f[39] = static_cast<uint8_t>(ulen);
    return f;
}

}  // namespace

// parse_frame reads the usual frame (untagged IPv4 without options, not a fragment, UDP, its
// lengths adding up) by a short cut of its own. Every frame must get the general path's status
// and, when it is UDP, the same view: the usual frames, and near misses of them with a header
// byte or a length changed, the frame cut short or padded.
TEST(Frame, UsualFrameReadAsTheGeneralPathDoes) {
    static const uint8_t kBytes[] = {0x00, 0x01, 0x06, 0x08, 0x11, 0x1b, 0x1c, 0x20, 0x2a, 0x3f, 0x40, 0x44, 0x45,
                                     0x46, 0x4f, 0x60, 0x65, 0x81, 0x86, 0x88, 0xa8, 0xdd, 0xe0, 0xff};
    std::mt19937_64 rng(20261206);
    std::size_t cases = 0, usual = 0;
    for (const uint32_t payload : {0u, 1u, 13u, 400u}) {
        for (const uint32_t pad : {0u, 6u}) {
            const std::vector<uint8_t> base = usual_frame(payload, pad);
            for (int round = 0; round < 3000; ++round) {
                std::vector<uint8_t> f = base;
                if (round > 0) {
                    const int edits = 1 + static_cast<int>(rng() % 3);
                    for (int e = 0; e < edits; ++e) {
                        switch (rng() % 3) {
                            case 0:  // a header byte (Ethernet type, IPv4, UDP lengths)
                                f[12 + rng() % 30] = kBytes[rng() % sizeof kBytes];
                                break;
                            case 1: {  // the IP or UDP length's low byte off by a little
                                const std::size_t at = (rng() % 2) ? 17 : 39;
                                f[at] = static_cast<uint8_t>(f[at] + static_cast<int>(rng() % 5) - 2);
                                break;
                            }
                            case 2:  // the frame cut short
                                f.resize(rng() % (f.size() + 1));
                                break;
                        }
                    }
                }
                net::FrameView a, b;
                const auto len = static_cast<uint32_t>(f.size());
                const std::string fast = describe(net::parse_frame(f.data(), len, a), a);
                const std::string general = describe(net::detail::parse_frame_general(f.data(), len, b), b);
                ASSERT_EQ(fast, general) << "round " << round << " payload " << payload << " pad " << pad;
                ++cases;
                if (f.size() >= 42 && f[12] == 0x08 && f[13] == 0 && f[14] == 0x45 && fast.rfind("status=0", 0) == 0) ++usual;
            }
        }
    }
    EXPECT_GT(usual, cases / 10) << "too few usual frames: the short cut was hardly tried";
    std::printf("[ frame ] %zu frames compared, %zu of them usual UDP\n", cases, usual);
}
