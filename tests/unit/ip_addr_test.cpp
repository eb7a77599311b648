#include <farend/base/bytes.hpp>
#include <farend/base/ip_addr.hpp>
#include <farend/base/prefix_set.hpp>

#include <gtest/gtest.h>

#include <charconv>
#include <cstdio>
#include <array>
#include <cstring>
#include <random>
#include <vector>
#include <string>
#include <string_view>

using farend::Cidr;
using farend::IpAddr;
using farend::PrefixSet;

TEST(IpAddr, ParsesIpv4) {
    auto a = IpAddr::parse_v4("192.0.2.1");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->is_v4());
    EXPECT_EQ(a->v4_host_order(), 0xc0000201u);
    EXPECT_EQ(a->to_string(), "192.0.2.1");
    EXPECT_EQ(IpAddr::parse_v4("0.0.0.0")->to_string(), "0.0.0.0");
    EXPECT_EQ(IpAddr::parse_v4("255.255.255.255")->v4_host_order(), 0xffffffffu);
    EXPECT_EQ(IpAddr::parse_v4("010.001.0.9")->to_string(), "10.1.0.9");  // decimal, not octal
}

TEST(IpAddr, RejectsBadIpv4) {
    for (const char* s : {"", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "1..2.3", "1.2.3.",
                          "a.b.c.d", "1.2.3.0004", "1.2.3.-1", "example.com"})
        EXPECT_FALSE(IpAddr::parse_v4(s)) << s;
}

TEST(IpAddr, ParsesIpv6AndFormatsCanonically) {
    struct Case {
        const char* in;
        const char* canonical;
    } cases[] = {
        {"2001:db8::1", "2001:db8::1"},
        {"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
        {"::", "::"},
        {"::1", "::1"},
        {"1::", "1::"},
        {"fe80::a00:27ff:fe4e:66a1", "fe80::a00:27ff:fe4e:66a1"},
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},  // RFC 5952 4.2.3: first of equal runs
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // 4.2.2: one zero group is not "::"
        {"0:0:0:0:0:ffff:192.0.2.1", "::ffff:192.0.2.1"},
        {"::ffff:c000:0201", "::ffff:192.0.2.1"},
        {"2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"},
        {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
        {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
    };
    for (const auto& c : cases) {
        auto a = IpAddr::parse_v6(c.in);
        ASSERT_TRUE(a) << c.in;
        EXPECT_EQ(a->to_string(), c.canonical) << c.in;
        EXPECT_EQ(*IpAddr::parse_v6(a->to_string()), *a) << c.in;
    }
}

TEST(IpAddr, RejectsBadIpv6) {
    for (const char* s : {"", ":", ":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::1", "1:2:3:4:5:6:7:",
                          ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4",
                          "[::1]x", "2001:db8::1%eth0"})
        EXPECT_FALSE(IpAddr::parse_v6(s)) << s;
}

TEST(IpAddr, ComparesInBinary) {
    EXPECT_EQ(*IpAddr::parse("2001:db8::1"), *IpAddr::parse("2001:0DB8:0::0:1"));
    EXPECT_EQ(*IpAddr::parse("[2001:db8::1]"), *IpAddr::parse("2001:db8::1"));
    EXPECT_NE(*IpAddr::parse("192.0.2.1"), *IpAddr::parse("::ffff:192.0.2.1"));  // families differ
    EXPECT_NE(*IpAddr::parse("192.0.2.1"), *IpAddr::parse("192.0.2.2"));
    EXPECT_NE(*IpAddr::parse("2001:db8::1"), *IpAddr::parse("2001:db8::2"));  // differ in the last byte only
    EXPECT_NE(*IpAddr::parse("2001:db8::1"), *IpAddr::parse("2001:db9::1"));  // and in the first word only
}

TEST(Cidr, ParsesAndContains) {
    auto c = Cidr::parse("172.16.0.0/12");
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->contains(*IpAddr::parse("172.31.255.255")));
    EXPECT_FALSE(c->contains(*IpAddr::parse("172.32.0.1")));
    EXPECT_FALSE(c->contains(*IpAddr::parse("::ffff:172.16.0.1")));
    EXPECT_EQ(c->to_string(), "172.16.0.0/12");
    EXPECT_FALSE(Cidr::parse("10.1.0.0/8"));  // host bits set
    EXPECT_FALSE(Cidr::parse("10.0.0.0/33"));
    EXPECT_FALSE(Cidr::parse("10.0.0.0/"));
    EXPECT_EQ(Cidr::parse("192.0.2.7")->len, 32);
    EXPECT_TRUE(Cidr::parse("::/0")->contains(*IpAddr::parse("2001:db8::1")));
    EXPECT_TRUE(Cidr::parse("0.0.0.0/0")->contains(*IpAddr::parse("8.8.8.8")));
}

TEST(PrefixSet, DefaultPrivateRanges) {
    const auto s = PrefixSet::private_defaults();
    for (const char* priv : {"10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.254", "192.168.1.10",
                             "100.64.0.1", "100.127.255.255", "192.0.0.9", "169.254.1.1", "fc00::1", "fd17:625c::1",
                             "fe80::1", "febf::1"})
        EXPECT_TRUE(s.contains(*IpAddr::parse(priv))) << priv;
    for (const char* pub : {"172.32.0.1", "172.15.255.255", "192.0.2.1", "100.128.0.1", "100.63.255.255",
                            "8.8.8.8", "203.0.113.5", "192.169.0.1", "11.0.0.1", "172.168.0.1", "2001:db8::1",
                            "fec0::1", "::1", "::ffff:192.168.1.1"})
        EXPECT_FALSE(s.contains(*IpAddr::parse(pub))) << pub;
}

TEST(PrefixSet, EveryPlaceInTheListCounts) {
    // A set of n prefixes (1 to 9) holds each of its own, whatever its place, and nothing else
    // (a vector test of several prefixes at a time would pad its last group: the padding must
    // match no address).
    std::string list;
    for (unsigned n = 1; n <= 9; ++n) {
        list += (list.empty() ? "" : ",") + std::to_string(10 * n) + ".0.0.0/8";
        std::string err;
        const auto s = PrefixSet::parse(list, &err);
        ASSERT_TRUE(s) << err;
        for (unsigned k = 1; k <= 10; ++k)
            EXPECT_EQ(s->contains(*IpAddr::parse(std::to_string(10 * k) + ".1.2.3")), k <= n) << n << " " << k;
        for (const char* none : {"0.0.0.0", "0.0.0.1", "1.0.0.1", "255.255.255.255"})
            EXPECT_FALSE(s->contains(*IpAddr::parse(none))) << n << " " << none;
    }
}

TEST(PrefixSet, AgreesWithItsPrefixesOneByOne) {
    // The octet table (a prefix found under each first octet it covers) against Cidr::contains
    // over the set's prefixes: random sets of 1 to 40 IPv4 prefixes of every length, /0 to /32
    // (shorter than /8: under several octets), with IPv6 ones among them, and addresses drawn
    // near their edges and anywhere.
    std::mt19937 rng(6);
    auto draw = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
    auto u32 = [&] { return static_cast<uint32_t>(rng()); };
    auto v4 = [](uint32_t a) {
        const std::array<uint8_t, 4> b{static_cast<uint8_t>(a >> 24), static_cast<uint8_t>(a >> 16),
                                       static_cast<uint8_t>(a >> 8), static_cast<uint8_t>(a)};
        return IpAddr::v4_bytes(b);
    };
    unsigned inside = 0, tested = 0;
    for (int round = 0; round < 300; ++round) {
        PrefixSet s;
        std::vector<uint32_t> nets;
        const uint32_t n = 1 + draw(40);
        for (uint32_t k = 0; k < n; ++k) {
            const uint32_t len = draw(33);
            const uint32_t mask = len ? ~uint32_t{0} << (32 - len) : 0;
            const uint32_t net = u32() & mask;
            nets.push_back(net);
            ASSERT_TRUE(s.add(Cidr{v4(net), static_cast<uint8_t>(len)}));
            if (draw(4) == 0) {
                ASSERT_TRUE(s.add(*Cidr::parse("fc00::/7")));
            }
        }
        for (int t = 0; t < 400; ++t) {
            const uint32_t a = t % 2 ? u32() : nets[draw(static_cast<uint32_t>(nets.size()))] ^ (u32() >> draw(32));
            const IpAddr ip = v4(a);
            bool want = false;
            for (const Cidr& c : s.prefixes()) want = want || c.contains(ip);
            ASSERT_EQ(s.contains(ip), want) << ip.to_string() << " in " << s.to_string();
            inside += want;
            ++tested;
        }
    }
    EXPECT_GT(inside, tested / 10);  // both answers drawn often
    EXPECT_LT(inside, tested - tested / 10);
}

TEST(PrefixSet, ParsesLists) {
    std::string err;
    auto s = PrefixSet::parse("default, 198.51.100.0/24", &err);
    ASSERT_TRUE(s) << err;
    EXPECT_EQ(s->prefixes().size(), 9u);
    EXPECT_TRUE(s->contains(*IpAddr::parse("198.51.100.77")));
    EXPECT_FALSE(PrefixSet::parse("10.0.0.0/8,nonsense", &err));
    EXPECT_NE(err.find("nonsense"), std::string::npos);
    EXPECT_EQ(PrefixSet::parse("", &err)->prefixes().size(), 0u);
}

TEST(IpAddr, FormatsEveryOctetValueInEveryPosition) {
    // The table-driven dotted quad against snprintf, with the rest of the buffer watched: the text
    // and its scratch byte stay inside kMaxText.
    for (int pos = 0; pos < 4; ++pos)
        for (unsigned v = 0; v < 256; ++v) {
            uint8_t b[4] = {1, 255, 10, 0};
            b[pos] = static_cast<uint8_t>(v);
            char want[32];
            const int n = std::snprintf(want, sizeof want, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
            char out[IpAddr::kMaxText + 8];
            std::memset(out, '#', sizeof out);
            const IpAddr a = IpAddr::v4_bytes(b);
            ASSERT_EQ(a.format(out), static_cast<std::size_t>(n)) << want;
            EXPECT_EQ(std::string(out, static_cast<std::size_t>(n)), want);
            for (std::size_t k = IpAddr::kMaxText; k < sizeof out; ++k) ASSERT_EQ(out[k], '#') << want;
            const IpAddr mapped = *IpAddr::parse(std::string("::ffff:") + want);
            EXPECT_EQ(mapped.to_string(), std::string("::ffff:") + want);
        }
}

TEST(IpAddr, FormatsEveryCombinationOfOctetLengths) {
    // Every combination of one-, two- and three-digit octets (81) against snprintf: each octet's
    // text lands where the ones before it end, and nothing is written past 16 bytes.
    const uint8_t by_len[3] = {7, 42, 200};
    for (int c = 0; c < 81; ++c) {
        const uint8_t b[4] = {by_len[c % 3], by_len[c / 3 % 3], by_len[c / 9 % 3], by_len[c / 27]};
        char want[32];
        const int n = std::snprintf(want, sizeof want, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
        char out[IpAddr::kMaxText + 8];
        std::memset(out, '#', sizeof out);
        ASSERT_EQ(IpAddr::v4_bytes(b).format(out), static_cast<std::size_t>(n)) << want;
        EXPECT_EQ(std::string(out, static_cast<std::size_t>(n)), want);
        for (std::size_t k = 16; k < sizeof out; ++k) ASSERT_EQ(out[k], '#') << want;
    }
}

TEST(PrefixSet, RandomSetsAnswerAsTheirPrefixes) {
    // Random sets of IPv4 prefixes of any length: every answer, for random addresses and for
    // each prefix's bounds and their neighbours, is whether some prefix contains the address.
    std::mt19937 rng(34);
    auto addr = [](uint32_t x) {
        const uint8_t b[4] = {static_cast<uint8_t>(x >> 24), static_cast<uint8_t>(x >> 16), static_cast<uint8_t>(x >> 8),
                              static_cast<uint8_t>(x)};
        return IpAddr::v4_bytes(b);
    };
    for (int round = 0; round < 300; ++round) {
        PrefixSet s;
        std::vector<farend::Cidr> cidrs;
        std::vector<uint32_t> probes;
        const int n = 1 + static_cast<int>(rng() % 6);
        for (int k = 0; k < n; ++k) {
            const auto len = static_cast<unsigned>(rng() % 33);
            const uint32_t mask = len ? ~uint32_t{0} << (32 - len) : 0;
            const uint32_t net = static_cast<uint32_t>(rng()) & mask;
            const farend::Cidr c{addr(net), static_cast<uint8_t>(len)};
            ASSERT_TRUE(s.add(c));
            cidrs.push_back(c);
            for (const uint32_t x : {net, net | ~mask}) {
                probes.push_back(x);
                probes.push_back(x - 1);
                probes.push_back(x + 1);
            }
        }
        for (int k = 0; k < 200; ++k) probes.push_back(static_cast<uint32_t>(rng()));
        for (const uint32_t x : probes) {
            const IpAddr ip = addr(x);
            bool want = false;
            for (const auto& c : cidrs) want = want || c.contains(ip);
            ASSERT_EQ(s.contains(ip), want) << ip.to_string() << " round " << round;
        }
    }
}

TEST(PrefixSet, EveryPrefixLengthHasExactBounds) {
    // For each length: the prefix's first and last address are in, the addresses just outside
    // are not, and the other family never is.
    for (unsigned len = 1; len <= 32; ++len) {
        const uint32_t net = 0xC0A80000u & (len == 32 ? ~0u : ~0u << (32 - len));  // 192.168.0.0 cut to len
        const uint32_t size = len == 32 ? 1 : 1u << (32 - len);
        auto q = [](uint32_t x) {
            return std::to_string(x >> 24) + "." + std::to_string((x >> 16) & 255) + "." + std::to_string((x >> 8) & 255) +
                   "." + std::to_string(x & 255);
        };
        std::string err;
        const auto s = PrefixSet::parse(q(net) + "/" + std::to_string(len), &err);
        ASSERT_TRUE(s) << err;
        EXPECT_TRUE(s->contains(*IpAddr::parse(q(net)))) << len;
        EXPECT_TRUE(s->contains(*IpAddr::parse(q(net + size - 1)))) << len;
        EXPECT_FALSE(s->contains(*IpAddr::parse(q(net - 1)))) << len;
        if (net + size != 0) {
            EXPECT_FALSE(s->contains(*IpAddr::parse(q(net + size)))) << len;
        }
        EXPECT_FALSE(s->contains(*IpAddr::parse("::ffff:" + q(net)))) << len;
    }
    std::string err;
    const auto all4 = PrefixSet::parse("0.0.0.0/0", &err);
    EXPECT_TRUE(all4->contains(*IpAddr::parse("255.255.255.255")));
    EXPECT_FALSE(all4->contains(*IpAddr::parse("::")));
    const auto v6 = PrefixSet::parse("2001:db8:8000::/33, fe80::1/128", &err);
    ASSERT_TRUE(v6) << err;
    EXPECT_TRUE(v6->contains(*IpAddr::parse("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
    EXPECT_FALSE(v6->contains(*IpAddr::parse("2001:db8:7fff:ffff:ffff:ffff:ffff:ffff")));
    EXPECT_TRUE(v6->contains(*IpAddr::parse("fe80::1")));
    EXPECT_FALSE(v6->contains(*IpAddr::parse("fe80::2")));
    EXPECT_FALSE(v6->contains(*IpAddr::parse("32.1.13.184")));
    const auto all6 = PrefixSet::parse("::/0", &err);
    EXPECT_TRUE(all6->contains(*IpAddr::parse("ffff::1")));
    EXPECT_FALSE(all6->contains(*IpAddr::parse("0.0.0.0")));
    EXPECT_FALSE(all6->contains(IpAddr{}));
}

// set_v4() in place over whatever the address held (an IPv6 one with every byte set among them):
// the same address, bytes and text as v4_bytes() builds.
TEST(IpAddr, SetV4InPlaceIsV4Bytes) {
    const uint8_t quads[][4] = {{192, 168, 1, 10}, {0, 0, 0, 0}, {255, 255, 255, 255}, {10, 0, 0, 1}};
    const IpAddr before[] = {IpAddr{}, *IpAddr::parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                             *IpAddr::parse("203.0.113.5")};
    for (const auto& q : quads) {
        const IpAddr want = IpAddr::v4_bytes(q);
        for (const IpAddr& b : before) {
            IpAddr a = b;
            a.set_v4(q);
            EXPECT_EQ(a, want);
            EXPECT_TRUE(a.is_v4());
            EXPECT_EQ(std::memcmp(a.bytes().data(), want.bytes().data(), 16), 0);
            EXPECT_EQ(a.to_string(), want.to_string());
        }
    }
    EXPECT_EQ(IpAddr::v4_bytes(quads[0]).to_string(), "192.168.1.10");
}

TEST(PutPort, EveryPortAsToCharsWritesIt) {
    // put_port (the rewrite's source port) against std::to_chars for all 65,536 values; it
    // writes 8 bytes whatever the length, the bytes past the digits left as they fall.
    for (uint32_t p = 0; p <= 0xffff; ++p) {
        char got[8], want[8];
        const std::size_t n = farend::put_port(got, static_cast<uint16_t>(p));
        const auto r = std::to_chars(want, want + sizeof want, p);
        ASSERT_EQ(std::string_view(got, n), std::string_view(want, static_cast<std::size_t>(r.ptr - want))) << p;
    }
}

TEST(DigitRun, MatchesAByteLoop) {
    // digit_run against a byte loop: every run length 0-10 at every offset of a 24-byte buffer
    // (the word path and the tail loop both), random digits and every kind of byte after them,
    // runs cut by `end`, and every port value.
    std::mt19937 rng(17);
    const auto reference = [](const char* b, uint32_t d, uint32_t end, uint32_t& v) {
        uint32_t n = 0;
        v = 0;
        while (d + n < end && n < 8 && b[d + n] >= '0' && b[d + n] <= '9') v = v * 10 + static_cast<uint32_t>(b[d + n++] - '0');
        return n;
    };
    for (int round = 0; round < 20000; ++round) {
        char b[24];
        for (auto& c : b) c = static_cast<char>(rng());
        const auto d = static_cast<uint32_t>(rng() % 24), run = static_cast<uint32_t>(rng() % 11);
        for (uint32_t i = 0; i < run && d + i < 24; ++i) b[d + i] = static_cast<char>('0' + rng() % 10);
        const auto end = static_cast<uint32_t>(d + rng() % (25 - d));
        uint32_t got_v = 0, want_v = 0;
        const uint32_t got = farend::digit_run(b, 24, d, end, got_v), want = reference(b, d, end, want_v);
        ASSERT_EQ(got, want) << round;
        if (want <= 8) {
            ASSERT_EQ(got_v, want_v) << round;
        }
    }
    for (uint32_t p = 0; p <= 0xffff; ++p) {
        char b[16] = {};
        const auto r = std::to_chars(b, b + 8, p);
        *r.ptr = ';';
        uint32_t v = 0;
        ASSERT_EQ(farend::digit_run(b, 16, 0, 16, v), static_cast<uint32_t>(r.ptr - b)) << p;
        ASSERT_EQ(v, p);
    }
}
