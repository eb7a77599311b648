#include "sip_helpers.hpp"

#include <farend/nat/detect.hpp>

#include <gtest/gtest.h>

using namespace farend;
using namespace farend::nat;
using farend::test::crlf;
using farend::test::Parsed;
using NT = farend::nat::Test;

namespace {

Verdict run(const std::string& msg, const char* ip, uint16_t port, TestMask tests) {
    Parsed m(crlf(msg));
    EXPECT_TRUE(m->complete());
    auto parts = std::make_unique<sip::MessageParts>();
    sip::extract_parts(m.buf, m.mv(), *m, true, *parts);
    DetectConfig cfg;
    cfg.tests = tests;
    return detect(m.buf, m.mv(), *m, *parts, Source{*IpAddr::parse(ip), port}, cfg);
}

}  // namespace

TEST(NatTests, NamesParseAndPrint) {
    std::string err;
    EXPECT_EQ(parse_tests("all", &err), kAllTests);
    EXPECT_EQ(parse_tests("none", &err), TestMask{0});
    EXPECT_EQ(parse_tests("contact-private, sdp-private", &err), bit(NT::contact_private) | bit(NT::sdp_private));
    EXPECT_FALSE(parse_tests("contact-privat", &err));
    EXPECT_NE(err.find("contact-privat"), std::string::npos);
    EXPECT_FALSE(parse_tests("", &err));
    EXPECT_EQ(tests_to_string(kDefaultTests), "contact-private,via-source-mismatch,via-private,contact-source-mismatch");
    EXPECT_EQ(tests_to_string(0), "none");
    for (size_t t = 0; t < kTestCount; ++t) {
        EXPECT_EQ(parse_tests(test_name(static_cast<NT>(t)), &err), bit(static_cast<NT>(t)));
        EXPECT_FALSE(test_description(static_cast<NT>(t)).empty());
    }
}

TEST(NatTests, EachTestAlone) {
    const std::string natted =
        "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\n"
        "Contact: <sip:a@192.168.1.10:5060>\nContent-Type: application/sdp\nContent-Length: 24\n\nv=0\nc=IN IP4 10.0.0.1\n";
    // Seen from the NAT's public side, every test fires but source-private.
    const Verdict v = run(natted, "203.0.113.5", 40000, kAllTests);
    for (size_t t = 0; t < kTestCount; ++t) {
        const NT test = static_cast<NT>(t);
        EXPECT_EQ(v.has(test), test != NT::source_private) << test_name(test);
        // Alone, each fires by itself.
        EXPECT_EQ(run(natted, "203.0.113.5", 40000, bit(test)).fired, test == NT::source_private ? 0 : bit(test))
            << test_name(test);
    }
    // Seen from inside (the capture point is the LAN): source-private and the private tests.
    const Verdict inside = run(natted, "192.168.1.10", 5060, kAllTests);
    EXPECT_EQ(inside.fired, bit(NT::source_private) | bit(NT::via_private) | bit(NT::contact_private) |
                                bit(NT::sdp_private) | bit(NT::sdp_source_mismatch));
}

TEST(NatTests, ViaTestsOnlyForRequests) {
    const Verdict v = run("SIP/2.0 200 OK\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\nl: 0\n\n", "203.0.113.5",
                          5060, kAllTests);
    EXPECT_EQ(v.fired, 0);
}

TEST(NatTests, EveryContactCounts) {
    const Verdict v = run("REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK1\n"
                          "Contact: <sip:a@203.0.113.5>, <sip:b@10.0.0.1>\nl: 0\n\n",
                          "203.0.113.5", 5060, kDefaultTests);
    EXPECT_EQ(v.fired, bit(NT::contact_private) | bit(NT::contact_source_mismatch));
}

TEST(NatTests, HostnamesMismatchButAreNeverPrivate) {
    const Verdict v = run("REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP pbx.lan;branch=z9hG4bK1\n"
                          "Contact: <sip:a@pbx.lan>\nl: 0\n\n",
                          "203.0.113.5", 5060, kAllTests);
    EXPECT_EQ(v.fired, bit(NT::via_source_mismatch) | bit(NT::contact_source_mismatch));
}

TEST(NatTests, StarAndTelContactsAreNotTested) {
    EXPECT_EQ(run("REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK1\nContact: *\nl: 0\n\n",
                  "203.0.113.5", 5060, kAllTests)
                  .fired,
              0);
    EXPECT_EQ(run("REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK1\nContact: <tel:+1555>\nl: 0\n\n",
                  "203.0.113.5", 5060, kAllTests)
                  .fired,
              0);
}

// The SDP tests look at every c= address, also past the ones sip::Sdp's table holds (read on).
TEST(NatTests, SdpTestsSeeEveryAddressPastTheTable) {
    for (const std::size_t at : {std::size_t{0}, sip::Sdp::kMaxAddrs - 1, sip::Sdp::kMaxAddrs, 2 * sip::Sdp::kMaxAddrs + 3}) {
        std::string sdp = "v=0\no=a 1 1 IN IP4 203.0.113.5\ns=-\nt=0 0\n";
        for (std::size_t i = 0; i < 2 * sip::Sdp::kMaxAddrs + 4; ++i)
            sdp += i == at ? "c=IN IP4 192.168.1.10\n" : "c=IN IP4 203.0.113.5\n";
        const std::string msg = "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;branch=z9hG4bK1\n"
                                "Content-Type: application/sdp\nContent-Length: " + std::to_string(crlf(sdp).size()) + "\n\n" + sdp;
        const Verdict v = run(msg, "203.0.113.5", 40000, bit(NT::sdp_private) | bit(NT::sdp_source_mismatch));
        EXPECT_TRUE(v.has(NT::sdp_private)) << "private address at " << at;
        EXPECT_TRUE(v.has(NT::sdp_source_mismatch)) << at;
    }
    // None private, all the source's: nothing fires, however many there are.
    std::string sdp = "v=0\n";
    for (std::size_t i = 0; i < 3 * sip::Sdp::kMaxAddrs; ++i) sdp += "c=IN IP4 203.0.113.5\n";
    const std::string msg = "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;branch=z9hG4bK1\n"
                            "Content-Type: application/sdp\nContent-Length: " + std::to_string(crlf(sdp).size()) + "\n\n" + sdp;
    EXPECT_FALSE(run(msg, "203.0.113.5", 40000, bit(NT::sdp_private) | bit(NT::sdp_source_mismatch)).nated());
}
