#include "fields.hpp"
#include "sip_helpers.hpp"

#include <farend/sip/contact.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

using namespace farend;
using namespace farend::sip;
using farend::test::all_fields;
using farend::test::crlf;
using farend::test::Parsed;

namespace {

struct Contacts {
    Parsed m;
    std::vector<Contact> c;
    explicit Contacts(const std::string& lines) : m(crlf("REGISTER sip:x SIP/2.0\n" + lines + "l: 0\n\n")) {
        EXPECT_TRUE(m->complete()) << error_name(m->error);
        for (uint16_t i = 0; i < m->header_count; ++i) {
            if (m->headers[i].id != HeaderId::contact) continue;
            Contact out[16];
            size_t n = parse_contact_values(m.buf, m.mv(), m->headers[i].value, out, 16);
            c.insert(c.end(), out, out + n);
        }
    }
    std::string_view t(Slice s) const { return m.t(s); }
};

}  // namespace

TEST(Contact, NameAddrWithEverything) {
    Contacts x("Contact: \"Alice <A>, @home: 1\" <sip:alice:pw@192.168.1.10:5060;transport=udp;maddr=10.0.0.1?X=1>"
               ";expires=3600;q=0.5\n");
    ASSERT_EQ(x.c.size(), 1u);
    const Contact& c = x.c[0];
    ASSERT_TRUE(c.valid);
    EXPECT_TRUE(c.name_addr);
    EXPECT_EQ(x.t(c.display), "\"Alice <A>, @home: 1\"");
    EXPECT_EQ(c.uri.scheme_id, Scheme::sip);
    EXPECT_EQ(x.t(c.uri.whole), "sip:alice:pw@192.168.1.10:5060;transport=udp;maddr=10.0.0.1?X=1");
    EXPECT_EQ(x.t(c.uri.user), "alice:pw");
    EXPECT_EQ(x.t(c.uri.host.host), "192.168.1.10");
    EXPECT_EQ(c.uri.host.port_num, 5060);
    EXPECT_EQ(x.t(c.uri.params), ";transport=udp;maddr=10.0.0.1");
    EXPECT_EQ(x.t(c.uri.maddr.whole), ";maddr=10.0.0.1");
    EXPECT_EQ(x.t(c.uri.transport.value), "udp");
    EXPECT_EQ(x.t(c.uri.headers), "?X=1");
    EXPECT_EQ(x.t(c.params), ";expires=3600;q=0.5");
    EXPECT_EQ(x.t(c.expires.value), "3600");
    EXPECT_EQ(x.t(c.q.value), "0.5");
}

TEST(Contact, ListOfForms) {
    Contacts x("m: sip:a@192.0.2.1;expires=10, <sips:b@[2001:db8::2]:5061>, Bob Smith <sip:b@h.example.com>\n"
               "Contact: <tel:+1-201-555-0123>\n");
    ASSERT_EQ(x.c.size(), 4u);
    for (const auto& c : x.c) EXPECT_TRUE(c.valid);
    EXPECT_FALSE(x.c[0].name_addr);
    EXPECT_EQ(x.t(x.c[0].uri.whole), "sip:a@192.0.2.1");
    EXPECT_EQ(x.t(x.c[0].params), ";expires=10");  // addr-spec: params belong to the header
    EXPECT_EQ(x.c[1].uri.scheme_id, Scheme::sips);
    EXPECT_EQ(x.c[1].uri.host.kind, HostKind::ipv6);
    EXPECT_EQ(x.c[1].uri.host.ip, *IpAddr::parse("2001:db8::2"));
    EXPECT_EQ(x.c[1].uri.host.port_num, 5061);
    EXPECT_EQ(x.t(x.c[2].display), "Bob Smith");
    EXPECT_EQ(x.c[2].uri.host.kind, HostKind::name);
    EXPECT_EQ(x.c[3].uri.scheme_id, Scheme::tel);
    EXPECT_EQ(x.t(x.c[3].uri.user), "+1-201-555-0123");
}

TEST(Contact, Star) {
    Contacts x("Contact: *\n");
    ASSERT_EQ(x.c.size(), 1u);
    EXPECT_TRUE(x.c[0].valid);
    EXPECT_TRUE(x.c[0].star);
    Contacts y("Contact: *, <sip:a@b>\n");
    EXPECT_FALSE(y.c[0].valid);
}

TEST(Contact, UserPartMayHoldReservedCharacters) {
    Contacts x("Contact: <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>\n");
    ASSERT_TRUE(x.c[0].valid);
    EXPECT_EQ(x.t(x.c[0].uri.user), "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    EXPECT_EQ(x.t(x.c[0].uri.host.host), "example.com");
}

TEST(Contact, LwsAroundParams) {
    Contacts x("m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\n      newvalue ;\n  secondparam ; q = 0.33\n");
    ASSERT_EQ(x.c.size(), 1u);
    ASSERT_TRUE(x.c[0].valid);
    EXPECT_EQ(x.t(x.c[0].display), "\"Quoted string \\\"\\\"\"");
    EXPECT_EQ(x.c[0].param_count, 3);
    EXPECT_EQ(x.t(x.c[0].q.value), "0.33");
}

TEST(Contact, AliasParamIsFound) {
    Contacts x("Contact: <sip:a@192.168.1.10:5060;alias=203.0.113.5~40000~1>\n");
    ASSERT_TRUE(x.c[0].valid);
    EXPECT_EQ(x.t(x.c[0].uri.alias.value), "203.0.113.5~40000~1");
}

TEST(Contact, BadValues) {
    for (const char* bad : {"Contact: \"open <sip:a@b>\n", "Contact: <sip:a@b\n", "Contact: < sip:a@b >\n",
                            "Contact: Bell, Alexander <sip:a@b>\n", "Contact: <sip:a@b>;\n", "Contact: <sip:a@b:x>\n",
                            "Contact: <sip:>\n", "Contact: <sip:a@b> junk\n", "Contact: a@b\n"}) {
        Contacts x(bad);
        ASSERT_FALSE(x.c.empty()) << bad;
        EXPECT_FALSE(x.c.back().valid) << bad;
    }
}

// parse_contact_values reads the usual contact ("<sip:" user "@" host ":" port ">", no URI
// parameters or headers) by a fast path of its own. Every field it fills must be what the general
// path fills, for the usual spellings, their near misses and random mutations of both, at the end
// of the buffer and before more bytes (the fast path reads 32 bytes ahead), with and without the
// top Via's host:port known (as extract_parts() passes it).
TEST(Contact, UsualContactReadAsTheGeneralPathDoes) {
    const std::vector<std::string> seeds = {
        "<sip:2199@192.168.1.209:5060>",
        "<sip:2199@192.168.1.10:5060>;expires=3600",
        "<sip:2199@192.168.1.10:5060>;q=0.5;expires=60, <sip:2200@192.168.1.10:5062>",
        "<SIP:alice@192.168.1.10>",
        "<Sip:192.168.1.10:5060>",
        "<sip:alice@pbx.example.com:5060>",
        "<sip:alice@192.168.1.10:5060;transport=udp>",
        "<sip:alice@192.168.1.10:5060?X=1>",
        "<sip:al ice@192.168.1.10>",
        "<sip:a@b@192.168.1.10>",
        "<sip:alice@192.168.1.10:99999>",
        "<sip:alice@192.168.1.11:50601>",
        "<sip:alice@192.168.1.11:5060>",
        "<sip:192.168.1.11:506>",
        "<sip:alice@192.168.1.10:>",
        "<sip:alice@[2001:db8::1]:5060>",
        "<sips:alice@192.168.1.10>",
        "<sip:a;b?c@192.168.1.10:5060>",
        "<sip:alice@192.168.1.10:5060> ;q=0.5 , <sip:x@10.0.0.1>",
        "<sip:averyveryverylonguserpartthatgoespastthewindow@192.168.1.10:5060>",
        "<sip:alice@192.168.1.10:5060",
        "<sip:alice@192.168.1.10:5060>x",
        "<sip:alice@192.168.1.10.5>",
        "<sip:@192.168.1.10>",
        "<sip:alice@>",
        "<sip:>",
        "\"A\" <sip:alice@192.168.1.10:5060>",
        "sip:alice@192.168.1.10:5060",
        "*",
    };
    const std::string via = "\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKx";
    const std::string kNearMisses = ";,:=.@<>?[] \t\"0123456789sipSIP\r\n\x01\x7f\x80";  // what a mutation puts in
    std::mt19937_64 rng(20261206);
    std::size_t cases = 0, usual = 0;
    for (const std::string& seed : seeds) {
        for (int round = 0; round < 400; ++round) {
            const std::string value = round == 0 ? seed : test::mutate(seed, rng, kNearMisses);
            for (const std::string& after : {std::string(), std::string("\r\nMax-Forwards: 70\r\n\r\n")}) {
                const std::string buf = value + after + via;
                const Slice s{0, static_cast<uint32_t>(value.size())};
                std::vector<simd::BlockMasks> masks(simd::blocks_for(buf.size()) + 1);
                simd::scan_scalar(reinterpret_cast<const uint8_t*>(buf.data()), buf.size(), masks.data());
                const MaskView mv{masks.data(), static_cast<uint32_t>(buf.size())};
                HostPort known;  // the Via's "192.168.1.10:5060"
                const auto at = static_cast<uint32_t>(buf.size() - via.size() + 19);
                ASSERT_EQ(parse_hostport(buf, at, at + 17, known, true), at + 17);
                for (const HostPort* k : {static_cast<const HostPort*>(nullptr), static_cast<const HostPort*>(&known)}) {
                    Contact a[4], b[4];
                    const std::size_t na = parse_contact_values(buf, mv, s, a, 4, k);
                    const std::size_t nb = detail::parse_contact_values_general(buf, mv, s, b, 4, k);
                    ASSERT_EQ(na, nb) << value;
                    for (std::size_t i = 0; i < na; ++i) ASSERT_EQ(all_fields(a[i]), all_fields(b[i])) << value;
                    ++cases;
                    if (na > 0 && a[0].valid && a[0].name_addr && a[0].display.empty() && a[0].uri.params.empty() &&
                        a[0].uri.headers.empty() && a[0].uri.scheme_id == Scheme::sip)
                        ++usual;
                }
            }
        }
    }
    EXPECT_EQ(cases, seeds.size() * 400 * 2 * 2);
    EXPECT_GT(usual, cases / 20) << "too few usual contacts: the fast path was hardly tried";
    std::printf("[ contact ] %zu values compared, %zu of them usual\n", cases, usual);
}
