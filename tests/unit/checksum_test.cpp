#include <farend/net/checksum.hpp>
#include <farend/simd/checksum.hpp>
#include <farend/simd/scan.hpp>

#include <gtest/gtest.h>

#include <random>
#include <vector>

using namespace farend;

namespace {
// The RFC 1071 reference: big-endian 16-bit words, end-around carry.
uint16_t reference_sum(const uint8_t* p, size_t n) {
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2) s += static_cast<uint32_t>((p[i] << 8) | p[i + 1]);
    if (n & 1) s += static_cast<uint32_t>(p[n - 1] << 8);
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(s);
}
}  // namespace

TEST(Checksum, KernelsMatchTheReference) {
    std::mt19937_64 rng(3);
    std::vector<uint8_t> buf(70000);
    for (auto& b : buf) b = static_cast<uint8_t>(rng());
    for (size_t n : {0, 1, 2, 3, 31, 32, 33, 63, 64, 65, 1499, 1500, 9000, 32767, 32768, 32769, 65535, 65536, 70000}) {
        const uint16_t want = reference_sum(buf.data(), n);
        EXPECT_EQ(net::fold(simd::ones_sum_scalar(buf.data(), n)), want) << n;
        if (simd::kernel(simd::Backend::avx2)) {
            EXPECT_EQ(net::fold(simd::ones_sum_avx2(buf.data(), n)), want) << n;
        }
        EXPECT_EQ(net::ones_sum(buf.data(), n), want) << n;
    }
    std::vector<uint8_t> ff(65536, 0xff);  // worst case for carries
    EXPECT_EQ(net::ones_sum(ff.data(), ff.size()), reference_sum(ff.data(), ff.size()));
}

TEST(Checksum, VectorKernelSumIsExactAtTheExtremes) {
    // The AVX2 kernel sums the words as signed (each less 0x8000) and pays the difference back
    // at the end: its unfolded sum must be the exact sum of the little-endian words, for words
    // at either end of the range (all 0x0000, all 0xffff, 0x8000 and 0x7fff, which sit at the
    // signed edges) and across its 32 KiB rounds.
    if (!simd::kernel(simd::Backend::avx2)) GTEST_SKIP() << "no AVX2 on this CPU: the vector kernel is not run";
    const auto exact = [](const std::vector<uint8_t>& b, size_t n) {
        uint64_t s = 0;
        for (size_t i = 0; i + 1 < n; i += 2) s += static_cast<uint64_t>(b[i] | (b[i + 1] << 8));
        if (n % 2) s += b[n - 1];
        return s;
    };
    const std::pair<uint8_t, uint8_t> patterns[] = {{0x00, 0x00}, {0xff, 0xff}, {0x00, 0x80}, {0xff, 0x7f}, {0x01, 0x80}};
    for (const auto& [even, odd] : patterns) {
        std::vector<uint8_t> buf(200001);
        for (size_t i = 0; i < buf.size(); ++i) buf[i] = i % 2 ? odd : even;
        for (size_t n : {32, 33, 63, 64, 65, 96, 1500, 32766, 32768, 32769, 32832, 65600, 131072, 200001}) {
            EXPECT_EQ(simd::ones_sum_avx2(buf.data(), n), exact(buf, n)) << int(even) << " " << int(odd) << " " << n;
        }
    }
}

TEST(Checksum, KernelsMatchTheReferenceAtEveryLengthAndStart) {
    // Every length up to 300 at eight starts: the vector kernel's tail (an odd last byte, the
    // masked last 32 bytes) against the reference, and no byte outside the range read: the range
    // is copied to the end of a buffer whose next byte would be out of bounds for ASan.
    std::mt19937_64 rng(11);
    for (size_t start = 0; start < 8; ++start) {
        for (size_t n = 0; n <= 300; ++n) {
            std::vector<uint8_t> buf(start + n);
            for (auto& b : buf) b = static_cast<uint8_t>(rng());
            const uint8_t* p = buf.data() + start;
            const uint16_t want = reference_sum(p, n);
            EXPECT_EQ(net::fold(simd::ones_sum_scalar(p, n)), want) << start << " " << n;
            if (simd::kernel(simd::Backend::avx2)) {
                EXPECT_EQ(net::fold(simd::ones_sum_avx2(p, n)), want) << start << " " << n;
            }
        }
    }
}

TEST(Checksum, Ipv4HeaderKnownVector) {
    // Wikipedia's example header: checksum 0xb861.
    uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                     0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    EXPECT_EQ(net::ipv4_header_checksum(h, 20), 0xb861);
    h[10] = h[11] = 0;
    EXPECT_EQ(net::ipv4_header_checksum(h, 20), 0xb861);
    net::fix_ipv4_header_checksum(h, 20);
    EXPECT_EQ(net::load_be16(h + 10), 0xb861);
    // A header with its checksum sums to 0xffff.
    EXPECT_EQ(net::ones_sum(h, 20), 0xffff);
}

TEST(Checksum, Ipv4HeaderWithOptions) {
    // The same header with a 4-byte option (IHL 6: the general length path, not the 20-byte one):
    // its sum 0x479e (~0xb861) + 0x0100 (IHL) + 0x0004 (total length 0x77) + 0x9404 + 0x0000
    // (Router Alert) = 0xdca6, so the checksum is ~0xdca6 = 0x2359.
    uint8_t h[24] = {0x46, 0x00, 0x00, 0x77, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
                     0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7, 0x94, 0x04, 0x00, 0x00};
    EXPECT_EQ(net::ipv4_header_checksum(h, 24), 0x2359);
    net::fix_ipv4_header_checksum(h, 24);
    EXPECT_EQ(net::ones_sum(h, 24), 0xffff);
}

TEST(Checksum, UdpOverIpv4AndIpv6VerifyToAllOnes) {
    std::mt19937_64 rng(5);
    for (int round = 0; round < 200; ++round) {
        const size_t len = 8 + rng() % 1500;
        std::vector<uint8_t> udp(len);
        for (auto& b : udp) b = static_cast<uint8_t>(rng());
        net::store_be16(udp.data() + 4, static_cast<uint16_t>(len));
        const bool v6 = round % 2;
        const IpAddr a = v6 ? *IpAddr::parse("2001:db8::1") : *IpAddr::parse("203.0.113.5");
        const IpAddr b = v6 ? *IpAddr::parse("fd00::77") : *IpAddr::parse("192.168.1.10");
        net::fix_udp_checksum(a, b, udp.data(), len, false);
        const uint16_t c = net::load_be16(udp.data() + 6);
        ASSERT_NE(c, 0);
        // Receiver's check: pseudo-header + datagram (with checksum) sums to 0xffff.
        uint32_t s = net::ones_sum(a.bytes().data(), v6 ? 16 : 4) + net::ones_sum(b.bytes().data(), v6 ? 16 : 4) + 17u +
                     static_cast<uint32_t>(len) + net::ones_sum(udp.data(), len);
        while (s >> 16) s = (s & 0xffff) + (s >> 16);
        ASSERT_EQ(s, 0xffffu) << "round " << round;
        // The check in two shares (the worker's: the header's, then the payload's from the
        // parser's scan) agrees, and catches a flipped bit in either share.
        const uint64_t payload = simd::ones_sum()(udp.data() + 8, len - 8);
        ASSERT_TRUE(net::udp_sums_verify(net::udp_header_sum(a, b, udp.data(), len), payload)) << "round " << round;
        const size_t at = rng() % len;
        udp[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
        ASSERT_FALSE(net::udp_sums_verify(net::udp_header_sum(a, b, udp.data(), len),
                                          simd::ones_sum()(udp.data() + 8, len - 8)))
            << "round " << round << " byte " << at;
    }
}

// The IPv4 header's check and the UDP checksum's header share from the same loads: the same
// verdict as ipv4_header_verifies() and the same sum as udp_header_sum() (addresses taken from
// the header), for headers with and without options, right and damaged.
TEST(Checksum, Ipv4HeaderAndUdpShareFromOneRead) {
    std::mt19937_64 rng(12);
    for (int round = 0; round < 400; ++round) {
        const size_t ihl = round % 3 == 0 ? 24 + 4 * (rng() % 10) : 20;
        std::vector<uint8_t> h(ihl), udp(8);
        for (auto& b : h) b = static_cast<uint8_t>(rng());
        for (auto& b : udp) b = static_cast<uint8_t>(rng());
        h[0] = static_cast<uint8_t>(0x40 | ihl / 4);
        net::fix_ipv4_header_checksum(h.data(), ihl);
        if (round % 2) h[rng() % ihl] ^= static_cast<uint8_t>(1u << (rng() % 8));
        const size_t len = 8 + rng() % 65528;
        IpAddr src, dst;
        src.set_v4(std::span<const uint8_t, 4>(h.data() + 12, 4));
        dst.set_v4(std::span<const uint8_t, 4>(h.data() + 16, 4));
        uint64_t share = 0;
        const bool ok = net::ipv4_header_verifies(h.data(), ihl, udp.data(), len, share);
        EXPECT_EQ(ok, net::ones_sum(h.data(), ihl) == 0xffff) << "round " << round;  // the header's words alone
        EXPECT_EQ(ok, round % 2 == 0) << "round " << round;
        EXPECT_EQ(share, net::udp_header_sum(src, dst, udp.data(), len)) << "round " << round;
    }
}

TEST(Checksum, Ipv4ZeroChecksumKeptOnlyWhenAsked) {
    std::vector<uint8_t> udp = {0x13, 0xc4, 0x13, 0xc4, 0x00, 0x0c, 0x00, 0x00, 'a', 'b', 'c', 'd'};
    const IpAddr a = *IpAddr::parse("10.0.0.1"), b = *IpAddr::parse("10.0.0.2");
    net::fix_udp_checksum(a, b, udp.data(), udp.size(), true);
    EXPECT_EQ(net::load_be16(udp.data() + 6), 0);
    net::fix_udp_checksum(a, b, udp.data(), udp.size(), false);
    EXPECT_NE(net::load_be16(udp.data() + 6), 0);
    // Over IPv6 zero is never kept.
    std::vector<uint8_t> u6 = {0x13, 0xc4, 0x13, 0xc4, 0x00, 0x08, 0x00, 0x00};
    net::fix_udp_checksum(*IpAddr::parse("::1"), *IpAddr::parse("::2"), u6.data(), u6.size(), true);
    EXPECT_NE(net::load_be16(u6.data() + 6), 0);
}

TEST(Checksum, IncrementalMatchesFull) {
    std::mt19937_64 rng(9);
    for (int round = 0; round < 1000; ++round) {
        uint8_t h[20];
        for (auto& b : h) b = static_cast<uint8_t>(rng());
        h[0] = 0x45;
        net::fix_ipv4_header_checksum(h, 20);
        const uint16_t old_c = net::load_be16(h + 10);
        const uint16_t old_len = net::load_be16(h + 2);
        const uint16_t new_len = static_cast<uint16_t>(rng());
        net::store_be16(h + 2, new_len);
        const uint16_t inc = net::adjust(old_c, old_len, new_len);
        net::store_be16(h + 10, inc);
        // RFC 1624: the incremental result verifies exactly like a full one.
        ASSERT_EQ(net::ones_sum(h, 20), 0xffff) << round;
    }
}

// The checksums summed before a new length is stored (fix_after_resize) equal the ones summed
// after it, whatever the old length and the old checksum held (a damaged checksum is repaired
// as a full sum repairs it), over headers with and without options and datagrams of every
// length parity.
TEST(Checksum, SummedBeforeTheLengthStoreMatchesAfter) {
    std::mt19937_64 rng(11);
    for (int round = 0; round < 2000; ++round) {
        const size_t ihl = round % 4 == 3 ? 24 : 20;
        uint8_t h[24];
        for (auto& b : h) b = static_cast<uint8_t>(rng());
        h[0] = static_cast<uint8_t>(0x40 | ihl / 4);
        const auto total = static_cast<uint16_t>(rng());
        const uint16_t early = net::ipv4_header_checksum(h, ihl, total);
        net::store_be16(h + 2, total);
        ASSERT_EQ(early, net::ipv4_header_checksum(h, ihl)) << round;

        const size_t len = 8 + rng() % 600;
        std::vector<uint8_t> udp(len);
        for (auto& b : udp) b = static_cast<uint8_t>(rng());
        const bool v6 = round % 2;
        const IpAddr a = v6 ? *IpAddr::parse("2001:db8::1") : *IpAddr::parse("198.51.100.7");
        const IpAddr d = v6 ? *IpAddr::parse("fd00::9") : *IpAddr::parse("10.1.2.3");
        const uint16_t before = net::udp_checksum_for_length(a, d, udp.data(), len);
        net::store_be16(udp.data() + 4, static_cast<uint16_t>(len));
        ASSERT_EQ(before, net::udp_checksum(a, d, udp.data(), len)) << round;
    }
}
