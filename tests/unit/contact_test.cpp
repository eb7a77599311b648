#include "sip_helpers.hpp"

#include <farend/sip/contact.hpp>

#include <gtest/gtest.h>

#include <vector>

using namespace farend;
using namespace farend::sip;
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
