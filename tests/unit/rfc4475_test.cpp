// RFC 4475 torture messages: per message, what a correct parse finds (valid ones) or the verdict
// an invalid one must get. Section numbers are RFC 4475's.
#include "corpus.hpp"
#include "sip_helpers.hpp"

#include <farend/sip/contact.hpp>
#include <farend/sip/content.hpp>
#include <farend/sip/dump.hpp>
#include <farend/sip/sdp.hpp>
#include <farend/sip/via.hpp>

#include <gtest/gtest.h>

#include <map>
#include <vector>

using namespace farend;
using namespace farend::sip;
using farend::test::Parsed;

namespace {

Parsed load(const std::string& name) {
    return Parsed(test::read_file(test::tests_dir() + "/corpus/rfc4475/" + name + ".dat"));
}

std::vector<Via> all_vias(const Parsed& m) {
    std::vector<Via> out;
    for (uint16_t i = 0; i < m->header_count; ++i)
        if (m->headers[i].id == HeaderId::via) {
            Via v[32];
            auto n = parse_via_values(m.buf, m.mv(), m->headers[i].value, v, 32);
            out.insert(out.end(), v, v + n);
        }
    return out;
}

std::vector<Contact> all_contacts(const Parsed& m) {
    std::vector<Contact> out;
    for (uint16_t i = 0; i < m->header_count; ++i)
        if (m->headers[i].id == HeaderId::contact) {
            Contact c[16];
            auto n = parse_contact_values(m.buf, m.mv(), m->headers[i].value, c, 16);
            out.insert(out.end(), c, c + n);
        }
    return out;
}

std::vector<SdpAddress> sdp_addrs(const Parsed& m) {
    std::vector<SdpAddress> out;
    SdpBodies b;
    find_sdp_bodies(m.buf, *m, b);
    for (uint8_t i = 0; i < b.count; ++i) {
        Sdp s;
        parse_sdp(m.buf, m.mv(), b.bodies[i], s);
        out.insert(out.end(), s.addrs, s.addrs + s.addr_count);
    }
    return out;
}

}  // namespace

// ---- Every file gets the verdict it must get ----

TEST(Rfc4475, EveryMessageHasItsVerdict) {
    // Messages that must not be treated as understood. Everything else must parse completely.
    const std::map<std::string, ParseError> invalid = {
        {"badvers.dat", ParseError::bad_version},           // 3.1.2.16 SIP/7.0
        {"bigcode.dat", ParseError::bad_status_code},       // 3.1.2.19 4294967301
        {"clerr.dat", ParseError::body_truncated},          // 3.1.2.2 Content-Length 9999
        {"ltgtruri.dat", ParseError::bad_request_uri},      // 3.1.2.7 <sip:...> as Request-URI
        {"lwsruri.dat", ParseError::bad_request_uri},       // 3.1.2.8 "sip:user@example.com; lr"
        {"lwsstart.dat", ParseError::bad_request_uri},      // 3.1.2.9 two spaces between elements
        {"trws.dat", ParseError::bad_version},              // 3.1.2.10 trailing spaces on the request line
        {"mcl01.dat", ParseError::content_length_conflict}, // 3.3.9 Content-Length 13 and 5
        {"ncl.dat", ParseError::bad_content_length},        // 3.1.2.3 Content-Length -999
        {"baddn.dat", ParseError::no_end_of_headers},       // archive copy lacks the empty line
        {"test.dat", ParseError::bad_version},              // not in the RFC text: no SIP-Version
    };
    const auto all = test::rfc4475();
    ASSERT_EQ(all.size(), 50u);
    for (const auto& s : all) {
        Parsed m(s.bytes);
        const std::string file = s.name.substr(s.name.find('/') + 1);
        auto it = invalid.find(file);
        if (it == invalid.end()) {
            EXPECT_TRUE(m->complete()) << file << ": " << error_name(m->error);
        } else {
            EXPECT_FALSE(m->complete()) << file;
            EXPECT_EQ(m->error, it->second) << file << ": got " << error_name(m->error);
        }
    }
}

// ---- 3.1.1 valid messages ----

TEST(Rfc4475, WsinvShortTortuousInvite) {  // 3.1.1.1
    Parsed m = load("wsinv");
    ASSERT_TRUE(m->complete());
    EXPECT_EQ(m.t(m->start.uri), "sip:vivekg@chair-dnrc.example.com;unknownparam");
    EXPECT_EQ(m->header_count, 14);
    EXPECT_EQ(m.t(m->find(HeaderId::to)->name), "TO");
    EXPECT_EQ(m.t(m->find(HeaderId::to)->value), "sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n");
    EXPECT_EQ(m.t(m->find(HeaderId::max_forwards)->value), "0068");
    EXPECT_EQ(m.t(m->find(HeaderId::subject)->value), "");  // "s :" with nothing after it
    // The folded Via: "SIP  /   2.0 CRLF /UDP CRLF 192.0.2.2;branch=390skdjuw"
    const auto v = all_vias(m);
    ASSERT_EQ(v.size(), 3u);
    for (const auto& x : v) EXPECT_TRUE(x.valid);
    EXPECT_EQ(m.t(v[0].transport), "UDP");
    EXPECT_EQ(v[0].sent_by.ip, *IpAddr::parse("192.0.2.2"));
    EXPECT_EQ(m.t(v[0].branch.value), "390skdjuw");
    EXPECT_EQ(m.t(v[1].transport), "TCP");
    EXPECT_EQ(m.t(v[1].sent_by.host), "spindle.example.com");
    EXPECT_EQ(m.t(v[1].branch.value), "z9hG4bK9ikj8");
    EXPECT_EQ(m.t(v[2].sent_by.host), "192.168.255.111");
    EXPECT_EQ(m.t(v[2].branch.value), "z9hG4bK30239");
    const auto c = all_contacts(m);
    ASSERT_EQ(c.size(), 1u);
    ASSERT_TRUE(c[0].valid);
    EXPECT_EQ(m.t(c[0].display), "\"Quoted string \\\"\\\"\"");
    EXPECT_EQ(m.t(c[0].uri.whole), "sip:jdrosen@example.com");
    EXPECT_EQ(m.t(c[0].q.value), "0.33");
    EXPECT_EQ(c[0].param_count, 3);
    EXPECT_EQ(m->body_len, 150u);
    const auto a = sdp_addrs(m);
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a[0].ip, *IpAddr::parse("192.0.2.3"));
    EXPECT_EQ(a[1].ip, *IpAddr::parse("192.0.2.4"));
}

TEST(Rfc4475, IntmethWideRangeOfValidCharacters) {  // 3.1.1.2
    Parsed m = load("intmeth");
    ASSERT_TRUE(m->complete());
    EXPECT_EQ(m.t(m->start.method), "!interesting-Method0123456789_*+`.%indeed'~");
    EXPECT_EQ(m->start.method_id, Method::other);
    const Uri ruri = parse_uri(m.buf, m->start.uri);
    ASSERT_TRUE(ruri.valid);
    EXPECT_EQ(m.t(ruri.user), "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    EXPECT_EQ(m.t(ruri.host.host), "example.com");
    EXPECT_EQ(m->headers[m->header_count - 2].id, HeaderId::other);  // extensionHeader-!.%*+_`'~
    EXPECT_EQ(m.t(m->headers[m->header_count - 2].name), "extensionHeader-!.%*+_`'~");
    const auto v = all_vias(m);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(m.t(v[0].branch.value), "z9hG4bK-.!%66*_+`'~");
}

TEST(Rfc4475, Esc01EscapedUriParts) {  // 3.1.1.3
    Parsed m = load("esc01");
    ASSERT_TRUE(m->complete());
    const Uri ruri = parse_uri(m.buf, m->start.uri);
    EXPECT_EQ(m.t(ruri.user), "sips%3Auser%40example.com");
    EXPECT_EQ(m.t(ruri.host.host), "example.net");
    const auto c = all_contacts(m);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(m.t(c[0].uri.user), "cal%6Cer");
    EXPECT_EQ(m.t(c[0].uri.params), ";%6C%72;n%61me=v%61lue%25%34%31");
}

TEST(Rfc4475, EscnullEscapedNulls) {  // 3.1.1.4
    Parsed m = load("escnull");
    ASSERT_TRUE(m->complete());
    const auto c = all_contacts(m);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(m.t(c[0].uri.user), "%00");
    EXPECT_EQ(m.t(c[1].uri.user), "%00%00");
}

TEST(Rfc4475, Esc02EscapedMethodIsAnotherMethod) {  // 3.1.1.5
    Parsed m = load("esc02");
    ASSERT_TRUE(m->complete());
    EXPECT_EQ(m.t(m->start.method), "RE%47IST%45R");
    EXPECT_EQ(m->start.method_id, Method::other);
}

TEST(Rfc4475, LwsdispDisplayNameWithoutSpace) {  // 3.1.1.6
    Parsed m = load("lwsdisp");
    ASSERT_TRUE(m->complete());
    EXPECT_EQ(m.t(m->find(HeaderId::from)->value), "caller<sip:caller@example.com>;tag=323");
}

TEST(Rfc4475, LongreqLongValues) {  // 3.1.1.7
    Parsed m = load("longreq");
    ASSERT_TRUE(m->complete());
    const auto v = all_vias(m);
    ASSERT_EQ(v.size(), 34u);
    for (const auto& x : v) EXPECT_TRUE(x.valid);
    EXPECT_EQ(m.t(v.back().sent_by.host), "host.example.com");  // the bottom Via
    EXPECT_EQ(m.t(v.back().received.value), "192.0.2.5");
    EXPECT_EQ(v.back().branch.value.len, 215u);  // "verylonglong...branchvalue"
    EXPECT_EQ(m.t(v.front().sent_by.host), "sip33.example.com");
    EXPECT_EQ(m->body_len, 150u);
}

TEST(Rfc4475, DblreqSecondRequestIsIgnored) {  // 3.1.1.8
    Parsed m = load("dblreq");
    ASSERT_TRUE(m->complete());
    EXPECT_EQ(m->start.method_id, Method::register_);
    EXPECT_EQ(m->body_len, 0u);
    EXPECT_EQ(m->trailing, 450u);  // the INVITE after Content-Length: 0 is not part of this message
    EXPECT_EQ(m.t(m->find(HeaderId::call_id)->name), "I");
    EXPECT_EQ(m.buf.substr(m->body_off, 8), "\r\nINVITE");  // an empty line, then the INVITE
    EXPECT_TRUE(sdp_addrs(m).empty());
}

TEST(Rfc4475, SemiuriSemicolonInUserPart) {  // 3.1.1.9
    Parsed m = load("semiuri");
    ASSERT_TRUE(m->complete());
    const Uri ruri = parse_uri(m.buf, m->start.uri);
    EXPECT_EQ(m.t(ruri.user), "user;par=u%40example.net");
    EXPECT_EQ(m.t(ruri.host.host), "example.com");
    EXPECT_TRUE(ruri.params.empty());
}

TEST(Rfc4475, TransportsAreKept) {  // 3.1.1.10
    Parsed m = load("transports");
    const auto v = all_vias(m);
    ASSERT_EQ(v.size(), 5u);
    const char* expect[] = {"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"};
    for (size_t i = 0; i < 5; ++i) EXPECT_EQ(m.t(v[i].transport), expect[i]);
    EXPECT_EQ(v[2].effective_port(m.buf), 5061);
}

TEST(Rfc4475, Mpart01MultipartBody) {  // 3.1.1.11
    Parsed m = load("mpart01");
    ASSERT_TRUE(m->complete());
    EXPECT_EQ(m->body_len, 553u);
    const MediaType mt = parse_media_type(m.buf, m->find(HeaderId::content_type)->value);
    ASSERT_TRUE(mt.is_multipart(m.buf));
    EXPECT_EQ(m.t(mt.boundary), "7a9cbec02ceef655");
    Multipart mp;
    split_multipart(m.buf, m->body(), m.t(mt.boundary), mp);
    ASSERT_EQ(mp.status, MultipartStatus::ok);
    ASSERT_EQ(mp.count, 2);
    EXPECT_TRUE(mp.parts[0].type.is(m.buf, "text", "plain"));
    EXPECT_EQ(m.t(mp.parts[0].body), "Hello");
    EXPECT_TRUE(mp.parts[1].type.is(m.buf, "application", "octet-stream"));
    // The binary part holds bare CRs, LFs and NULs; it runs to the CRLF before the close delimiter.
    EXPECT_EQ(mp.parts[1].body.end() + 2 + 2 + 16 + 2, m->body().end() - 2);
    EXPECT_TRUE(sdp_addrs(m).empty());
}

TEST(Rfc4475, UnreasonNonAsciiReasonPhrase) {  // 3.1.1.12
    Parsed m = load("unreason");
    ASSERT_TRUE(m->complete());
    EXPECT_EQ(m->start.status, 200);
    EXPECT_EQ(m.t(m->start.reason).substr(0, 13), "= 2**3 * 5**2");
    EXPECT_EQ(sdp_addrs(m).size(), 2u);
}

TEST(Rfc4475, NoreasonEmptyReasonPhrase) {  // 3.1.1.13
    Parsed m = load("noreason");
    ASSERT_TRUE(m->complete());
    EXPECT_EQ(m->start.status, 100);
    EXPECT_TRUE(m->start.reason.empty());
}

// ---- 3.1.2 invalid messages that still index: the broken part is flagged where it is ----

TEST(Rfc4475, Badinv01ExtraneousSeparators) {  // 3.1.2.1
    Parsed m = load("badinv01");
    ASSERT_TRUE(m->complete());
    const auto v = all_vias(m);
    ASSERT_FALSE(v.empty());
    EXPECT_FALSE(v[0].valid);  // "192.0.2.15;;,;,,"
    const auto c = all_contacts(m);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_FALSE(c[0].valid);  // "<sip:joe@example.org>;;;;"
}

TEST(Rfc4475, ScalarFieldsOverlarge) {  // 3.1.2.4, 3.1.2.5: fields farend does not read
    for (const char* f : {"scalar02", "scalarlg"}) {
        Parsed m = load(f);
        EXPECT_TRUE(m->complete()) << f;
        EXPECT_EQ(m->body_len, 0u) << f;
    }
    Parsed m = load("scalar02");
    const auto c = all_contacts(m);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_TRUE(c[0].valid);
    EXPECT_EQ(m.t(c[0].expires.value), "280297596632815");
}

TEST(Rfc4475, QuotbalUnterminatedQuote) {  // 3.1.2.6: To is never parsed by farend; Contact is fine
    Parsed m = load("quotbal");
    ASSERT_TRUE(m->complete());
    const auto c = all_contacts(m);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_TRUE(c[0].valid);
}

TEST(Rfc4475, RegbadctUnbracketedUriWithHeaders) {  // 3.1.2.13
    Parsed m = load("regbadct");
    ASSERT_TRUE(m->complete());
    const auto c = all_contacts(m);
    ASSERT_EQ(c.size(), 1u);
    // "sip:user@example.com?Route=%3Csip:sip.example.com%3E" unbracketed: a URI with headers
    // must be in <> (RFC 3261 20.10), so the value is not understood and will not be touched.
    EXPECT_FALSE(c[0].valid);
}

TEST(Rfc4475, EscruriEscapedHeadersInRequestUri) {  // 3.1.2.11
    Parsed m = load("escruri");
    ASSERT_TRUE(m->complete());
    const Uri ruri = parse_uri(m.buf, m->start.uri);
    ASSERT_TRUE(ruri.valid);
    EXPECT_EQ(m.t(ruri.headers), "?Route=%3Csip:example.com%3E");
}

// ---- 3.3 application-layer cases ----

TEST(Rfc4475, UnknownSchemes) {  // 3.3.2 unkscm, 3.3.3 novelsc, 3.3.4 unksm2
    Parsed a = load("unkscm");
    ASSERT_TRUE(a->complete());
    EXPECT_EQ(parse_uri(a.buf, a->start.uri).scheme_id, Scheme::other);
    Parsed b = load("novelsc");
    ASSERT_TRUE(b->complete());
    EXPECT_EQ(b.t(parse_uri(b.buf, b->start.uri).scheme), "soap.beep");
    Parsed c = load("unksm2");
    const auto ct = all_contacts(c);
    ASSERT_EQ(ct.size(), 1u);
    EXPECT_TRUE(ct[0].valid);
    EXPECT_EQ(ct[0].uri.scheme_id, Scheme::other);
    EXPECT_EQ(ct[0].uri.host.kind, HostKind::none);
}

TEST(Rfc4475, Multi01MultipleContacts) {  // 3.3.8
    Parsed m = load("multi01");
    const auto c = all_contacts(m);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(m.t(c[0].uri.host.host), "host25.example.net");
    EXPECT_EQ(m.t(c[1].uri.host.host), "host36.example.net");
}

TEST(Rfc4475, BcastBroadcastVia) {  // 3.3.10
    Parsed m = load("bcast");
    const auto v = all_vias(m);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[1].sent_by.ip, *IpAddr::parse("255.255.255.255"));
}

TEST(Rfc4475, CparamContactVersusUriParams) {  // 3.3.12, 3.3.13
    Parsed a = load("cparam01");
    auto c = all_contacts(a);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(a.t(c[0].params), ";unknownparam");  // addr-spec: a contact parameter
    EXPECT_TRUE(c[0].uri.params.empty());
    Parsed b = load("cparam02");
    c = all_contacts(b);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(b.t(c[0].uri.params), ";unknownparam");  // name-addr: a URI parameter
    EXPECT_TRUE(c[0].params.empty());
}

TEST(Rfc4475, RegescrtEscapedHeaderInContact) {  // 3.3.14
    Parsed m = load("regescrt");
    const auto c = all_contacts(m);
    ASSERT_EQ(c.size(), 1u);
    ASSERT_TRUE(c[0].valid);
    EXPECT_EQ(m.t(c[0].uri.headers), "?Route=%3Csip:sip.example.com%3E");
}

TEST(Rfc4475, Inv2543NoContentLengthNoBranch) {  // 3.4
    Parsed m = load("inv2543");
    ASSERT_TRUE(m->complete());
    EXPECT_EQ(m->content_length.status, ContentLength::Status::absent);
    EXPECT_EQ(m->body_len, 105u);  // the rest of the datagram
    const auto v = all_vias(m);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_FALSE(v[0].branch.present);
    EXPECT_EQ(sdp_addrs(m).size(), 2u);
}

TEST(Rfc4475, SdpBodiesOfValidInvites) {
    for (const char* f : {"sdp01", "invut", "esc01", "lwsdisp", "badbranch", "zeromf"}) {
        Parsed m = load(f);
        ASSERT_TRUE(m->complete()) << f;
        for (const auto& a : sdp_addrs(m)) EXPECT_TRUE(a.ip.valid()) << f;
    }
    Parsed invut = load("invut");  // 3.3.6 Content-Type: application/unknownformat
    EXPECT_TRUE(sdp_addrs(invut).empty());
}
