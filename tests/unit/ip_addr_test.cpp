#include <farend/base/ip_addr.hpp>
#include <farend/base/prefix_set.hpp>

#include <gtest/gtest.h>

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
