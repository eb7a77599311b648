// RFC 5118 IPv6 torture messages (wire form). Section numbers are RFC 5118's.
#include "corpus.hpp"
#include "sip_helpers.hpp"

#include <farend/sip/contact.hpp>
#include <farend/sip/content.hpp>
#include <farend/sip/sdp.hpp>
#include <farend/sip/via.hpp>

#include <gtest/gtest.h>

using namespace farend;
using namespace farend::sip;
using farend::test::Parsed;

namespace {

Parsed load(const std::string& name) {
    return Parsed(test::read_file(test::tests_dir() + "/corpus/rfc5118/" + name));
}

Via via_n(const Parsed& m, size_t n) {
    Via v[8];
    size_t got = 0;
    for (uint16_t i = 0; i < m->header_count && got <= n; ++i)
        if (m->headers[i].id == HeaderId::via) got += parse_via_values(m.buf, m.mv(), m->headers[i].value, v + got, 8 - got);
    EXPECT_GT(got, n);
    return v[n];
}

Contact contact0(const Parsed& m) {
    Contact c;
    const Header* h = m->find(HeaderId::contact);
    EXPECT_NE(h, nullptr);
    if (h) {
        EXPECT_GE(parse_contact_values(m.buf, m.mv(), h->value, &c, 1), 1u);
    }
    return c;
}

Sdp sdp_of(const Parsed& m) {
    SdpBodies b;
    find_sdp_bodies(m.buf, *m, b);
    Sdp s;
    EXPECT_EQ(b.count, 1);
    if (b.count) parse_sdp(m.buf, m.mv(), b.bodies[0], s);
    return s;
}

const IpAddr ip(const char* s) { return *IpAddr::parse(s); }

}  // namespace

TEST(Rfc5118, AllParse) {
    const auto all = test::rfc5118();
    ASSERT_EQ(all.size(), 12u);
    for (const auto& s : all) EXPECT_TRUE(Parsed(s.bytes)->complete()) << s.name;
}

TEST(Rfc5118, Ipv6Good) {  // 4.1
    Parsed m = load("ipv6-good");
    const Uri r = parse_uri(m.buf, m->start.uri);
    EXPECT_EQ(r.host.ip, ip("2001:db8::10"));
    EXPECT_TRUE(r.host.bracketed);
    const Via v = via_n(m, 0);
    EXPECT_EQ(v.sent_by.ip, ip("2001:db8::9:1"));
    EXPECT_FALSE(v.sent_by.has_port());
    EXPECT_EQ(contact0(m).uri.host.ip, ip("2001:db8::1"));
}

TEST(Rfc5118, Ipv6BadIsReadButMarkedUnbracketed) {  // 4.2 "sip:2001:db8::10"
    Parsed m = load("ipv6-bad");
    const Uri r = parse_uri(m.buf, m->start.uri);
    EXPECT_EQ(r.host.kind, HostKind::ipv6);
    EXPECT_FALSE(r.host.bracketed);
}

TEST(Rfc5118, PortAmbiguousAndUnambiguous) {  // 4.3
    Parsed a = load("port-ambiguous");
    const Uri ra = parse_uri(a.buf, a->start.uri);
    EXPECT_EQ(ra.host.ip, ip("2001:db8::10:5070"));  // inside the brackets it is all address
    EXPECT_FALSE(ra.host.has_port());
    Parsed u = load("port-unambiguous");
    const Uri ru = parse_uri(u.buf, u->start.uri);
    EXPECT_EQ(ru.host.ip, ip("2001:db8::10"));
    EXPECT_EQ(ru.host.port_num, 5070);
}

TEST(Rfc5118, ViaReceivedWithAndWithoutBrackets) {  // 4.4
    Parsed a = load("via-received-param-with-delim");
    Via v = via_n(a, 0);
    ASSERT_TRUE(v.valid);
    EXPECT_EQ(a.t(v.received.value), "[2001:db8::9:255]");
    Parsed b = load("via-received-param-no-delim");
    v = via_n(b, 0);
    ASSERT_TRUE(v.valid);
    EXPECT_EQ(b.t(v.received.value), "2001:db8::9:255");
    EXPECT_EQ(b.t(v.branch.value), "z9hG4bKas3");
}

TEST(Rfc5118, MultipleIpsInHeaders) {  // 4.5
    Parsed m = load("mult-ip-in-header");
    const Via v0 = via_n(m, 0), v1 = via_n(m, 1), v2 = via_n(m, 2);
    EXPECT_EQ(v0.sent_by.ip, ip("2001:db8::9:1"));
    EXPECT_EQ(v0.sent_by.port_num, 6050);
    EXPECT_EQ(v1.sent_by.ip, ip("192.0.2.1"));
    EXPECT_EQ(v2.sent_by.ip, ip("2001:db8::9:255"));
    EXPECT_EQ(m.t(v2.received.value), "192.0.2.200");
}

TEST(Rfc5118, MultipleIpsInSdp) {  // 4.6
    Parsed m = load("mult-ip-in-sdp");
    const Sdp s = sdp_of(m);
    ASSERT_EQ(s.addr_count, 3);
    EXPECT_FALSE(s.addrs[0].ip.valid());  // o= host.example.com
    EXPECT_EQ(s.addrs[1].ip, ip("192.0.2.1"));
    EXPECT_EQ(s.addrs[1].media, 0);
    EXPECT_EQ(s.addrs[2].ip, ip("2001:db8::1"));
    EXPECT_EQ(s.addrs[2].media, 1);
}

TEST(Rfc5118, Ipv4MappedIpv6) {  // 4.7
    Parsed m = load("ipv4-mapped-ipv6");
    EXPECT_EQ(via_n(m, 0).sent_by.ip, ip("::ffff:192.0.2.10"));
    EXPECT_EQ(via_n(m, 0).sent_by.port_num, 19823);
    EXPECT_EQ(contact0(m).uri.host.ip, ip("::ffff:192.0.2.2"));
    EXPECT_NE(contact0(m).uri.host.ip, ip("192.0.2.2"));
    const Sdp s = sdp_of(m);
    ASSERT_EQ(s.addr_count, 2);
    EXPECT_EQ(s.addrs[1].ip, ip("::ffff:192.0.2.2"));
}

TEST(Rfc5118, Ipv6ReferenceWithEmbeddedIpv4) {  // 4.8
    Parsed good = load("ipv6-correct-abnf-2-colons");
    const Uri g = parse_uri(good.buf, good->start.uri);
    ASSERT_TRUE(g.valid);
    EXPECT_EQ(g.host.ip, ip("2001:db8::c000:201"));
    Parsed bad = load("ipv6-bug-abnf-3-colons");
    EXPECT_FALSE(parse_uri(bad.buf, bad->start.uri).valid);
}

TEST(Rfc5118, Ipv6InSdp) {  // 4.9
    Parsed m = load("ipv6-in-sdp");
    const Sdp s = sdp_of(m);
    ASSERT_EQ(s.addr_count, 2);
    EXPECT_EQ(m.t(s.addrs[1].addrtype), "IP6");
    EXPECT_EQ(s.addrs[1].ip, ip("2001:db8::20"));
}
