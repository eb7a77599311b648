// MessageHosts (the hosts a domain rule may match, read without a full parse): DPDK-free, so
// these run in the ASan/UBSan build too, unlike the rule set's tests (rules_test.cpp, rte_lpm).
#include <farend/rewrite/message_hosts.hpp>
#include <farend/sip/message.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace farend;

// From's host is taken to be To's without a search only when it is: From repeats To's value
// through the byte after To's host, and that host follows an '@'. Each case is also checked
// against both hosts read in full.
TEST(MessageHosts, FromRepeatsToOnlyWhenItsHostIsTos) {
    sip::MessageParser parser;
    auto check = [&](const std::string& to, const std::string& from) {
        const std::string m = "INVITE sip:r.example SIP/2.0\r\nTo: " + to + "\r\nFrom: " + from +
                              "\r\nCall-ID: 1\r\nContent-Length: 0\r\n\r\n";
        const sip::MessageIndex& idx = parser.parse(m);
        EXPECT_TRUE(idx.complete()) << m;
        const rewrite::MessageHosts hosts(m, parser.mask_view(), idx);
        const std::string_view t = hosts.to();
        const bool repeats = hosts.from_repeats_to(t);
        if (repeats) {
            EXPECT_EQ(hosts.from(), t) << "To " << to << ", From " << from;
        }
        return repeats;
    };
    EXPECT_TRUE(check("<sip:2001@sip.example.net>", "<sip:2001@sip.example.net>;tag=7c3a9e21"));
    EXPECT_TRUE(check("\"Bob\" <sip:bob@b.example:5060>", "\"Bob\" <sip:bob@b.example:5070>;tag=1")) << "ports may differ";
    EXPECT_TRUE(check("sip:a@b.example;x=1", "sip:a@b.example;tag=1"));
    EXPECT_FALSE(check("<sip:2001@sip.example.net>", "<sip:2002@sip.example.net>;tag=1")) << "another user: read From";
    EXPECT_FALSE(check("<sip:a@b.example>", "<sip:a@b.example.evil>;tag=1")) << "a longer host";
    EXPECT_FALSE(check("<sip:b.example:5060>", "<sip:b.example:50@evil.example>;tag=1"))
        << "no '@' before To's host: From's '@' makes its host another";
    EXPECT_FALSE(check("sip:a@b.example", "sip:a@b.example.evil;tag=1")) << "To's host ends its value";
    EXPECT_FALSE(check("<tel:+15551234567>", "<tel:+15551234567>;tag=1")) << "no host";
    EXPECT_FALSE(check("<sip:a@b.example>", "<sip:a@b")) << "From shorter than the host and the byte after it";
    // Every split of a long shared prefix against the 32-byte window of the host search.
    for (std::size_t n = 1; n <= 40; ++n) {
        const std::string user(n, 'u');
        EXPECT_TRUE(check("<sip:" + user + "@t.example>", "<sip:" + user + "@t.example>;tag=" + user)) << n;
        EXPECT_FALSE(check("<sip:" + user + "@t.example>", "<sip:" + user + "@t.example.org>;tag=1")) << n;
    }
}
