#include "sip_helpers.hpp"

#include <farend/sip/content.hpp>

#include <gtest/gtest.h>

using namespace farend;
using namespace farend::sip;
using farend::test::crlf;
using farend::test::Parsed;

TEST(MediaType, Parses) {
    const std::string b = "multipart/mixed ; boundary=\"a b;c\";x=1";
    MediaType mt = parse_media_type(b, make_slice(0, b.size()));
    ASSERT_TRUE(mt.valid);
    EXPECT_EQ(text(b, mt.type), "multipart");
    EXPECT_EQ(text(b, mt.subtype), "mixed");
    EXPECT_EQ(text(b, mt.boundary), "a b;c");
    EXPECT_TRUE(mt.is_multipart(b));
    const std::string s = "Application/SDP";
    EXPECT_TRUE(parse_media_type(s, make_slice(0, s.size())).is_sdp(s));
    const std::string bad = "application";
    EXPECT_FALSE(parse_media_type(bad, make_slice(0, bad.size())).valid);
}

// "application/sdp" alone takes a two-word fast path; it and its near misses give the fields the
// general parse gives.
TEST(MediaType, SdpFastPathAndNearMisses) {
    struct Row {
        const char* value;
        const char* type;
        const char* subtype;
        bool valid;
        bool sdp;
    };
    const Row rows[] = {
        {"application/sdp", "application", "sdp", true, true},
        {"Application/SDP", "Application", "SDP", true, true},
        {"APPLICATION/sdp", "APPLICATION", "sdp", true, true},
        {"application/sdp;charset=x", "application", "sdp", true, true},
        {"application / sdp", "application", "sdp", true, true},
        {"application/sdq", "application", "sdq", true, false},
        {"application-sdp", "application-sdp", "", false, false},
        {"applicatioN/sdp ", "applicatioN", "sdp", true, true},
        {"application/sd", "application", "sd", true, false},
        {"application/sdpx", "application", "sdpx", true, false},
    };
    for (const Row& r : rows) {
        const std::string b = r.value;
        const MediaType mt = parse_media_type(b, make_slice(0, b.size()));
        EXPECT_EQ(text(b, mt.type), r.type) << r.value;
        EXPECT_EQ(text(b, mt.subtype), r.subtype) << r.value;
        EXPECT_EQ(mt.valid, r.valid) << r.value;
        EXPECT_EQ(mt.is_sdp(b), r.sdp) << r.value;
        if (r.valid && b.find(';') == std::string::npos) {
            EXPECT_TRUE(mt.params.empty()) << r.value;
            EXPECT_EQ(mt.params.off, b.size()) << r.value;
        }
    }
}

TEST(ContentLength, Variants) {
    Parsed a(crlf("OPTIONS sip:x SIP/2.0\nContent-Length:    12   \n\nhello world!"));
    ASSERT_TRUE(a->complete());
    EXPECT_EQ(a->content_length.value, 12u);
    EXPECT_EQ(a.t(a->content_length.digits), "12");
    Parsed b(crlf("OPTIONS sip:x SIP/2.0\nl: 0000\n\n"));
    ASSERT_TRUE(b->complete());
    EXPECT_TRUE(b->content_length.leading_zeros);
    EXPECT_EQ(b->content_length.value, 0u);
    Parsed c(crlf("OPTIONS sip:x SIP/2.0\nl: +5\n\nhello"));
    EXPECT_EQ(c->error, ParseError::bad_content_length);
}

// Every shape of value, through the one-header fast path and the general one alike: the status,
// value, leading-zero flag, count and digits each must have.
TEST(ContentLength, EveryShapeOfValue) {
    using S = ContentLength::Status;
    struct Row {
        const char* headers;
        S status;
        uint32_t value;
        bool zeros;
        uint8_t count;
    };
    const Row rows[] = {
        {"Content-Length: 0\n", S::ok, 0, false, 1},        {"l: 7\n", S::ok, 7, false, 1},
        {"Content-Length: 10\n", S::ok, 10, false, 1},      {"Content-Length: 9999\n", S::ok, 9999, false, 1},
        {"Content-Length: 10000\n", S::ok, 10000, false, 1}, {"Content-Length: 65535\n", S::ok, 65535, false, 1},
        {"Content-Length: 00\n", S::ok, 0, true, 1},        {"Content-Length: 0009\n", S::ok, 9, true, 1},
        {"Content-Length: 01\n", S::ok, 1, true, 1},        {"Content-Length: 65536\n", S::too_large, 0, false, 1},
        {"Content-Length: 99999999\n", S::too_large, 0, false, 1},
        {"Content-Length: a\n", S::bad_value, 0, false, 1}, {"Content-Length: 1a\n", S::bad_value, 0, false, 1},
        {"Content-Length: 12:\n", S::bad_value, 0, false, 1}, {"Content-Length: 1/\n", S::bad_value, 0, false, 1},
        {"Content-Length: -1\n", S::bad_value, 0, false, 1}, {"Content-Length: +5\n", S::bad_value, 0, false, 1},
        {"Content-Length: 1 2\n", S::bad_value, 0, false, 1}, {"Content-Length: 1\n 2\n", S::bad_value, 0, false, 1},
        {"Content-Length: 5\nX: y\nl: 5\n", S::ok, 5, false, 2},
        {"Content-Length: 5\nl: 005\n", S::ok, 5, false, 2},
        {"Content-Length: 5\nX: y\nl: 6\n", S::conflict, 5, false, 2},
        {"Content-Length: 5\nl: x\n", S::bad_value, 5, false, 2},
        {"X: y\n", S::absent, 0, false, 0},
    };
    for (const Row& r : rows) {
        Parsed m(crlf(std::string("OPTIONS sip:x SIP/2.0\n") + r.headers + "\n" + std::string(100, 'b')));
        const ContentLength& cl = m->content_length;
        EXPECT_EQ(cl.status, r.status) << r.headers;
        EXPECT_EQ(cl.count, r.count) << r.headers;
        if (r.status == S::ok || r.status == S::conflict) {
            EXPECT_EQ(cl.value, r.value) << r.headers;
        }
        if (r.status == S::ok) {
            EXPECT_EQ(cl.leading_zeros, r.zeros) << r.headers;
            EXPECT_EQ(cl.header, m->first[static_cast<std::size_t>(HeaderId::content_length)]) << r.headers;
            const std::string_view d = m.t(cl.digits);
            EXPECT_FALSE(d.empty()) << r.headers;
            EXPECT_EQ(d.find_first_not_of("0123456789"), std::string_view::npos) << r.headers;
        }
    }
}

namespace {
const char* kMultipart =
    "MESSAGE sip:x SIP/2.0\n"
    "Content-Type: multipart/mixed;boundary=zz\n"
    "\n"
    "preamble\n"
    "--zz\n"
    "Content-Type: text/plain\n"
    "\n"
    "hi\n"
    "--zz\n"
    "Content-Type: application/sdp\n"
    "\n"
    "v=0\n"
    "c=IN IP4 192.168.1.10\n"
    "--zz\n"
    "c: multipart/alternative; boundary=\"in ner\"\n"
    "\n"
    "--in ner\n"
    "Content-Type: application/SDP\n"
    "\n"
    "v=0\n"
    "--in ner--\n"
    "--zz\n"
    "\n"
    "no headers\n"
    "--zz--\n"
    "epilogue";
}

TEST(Multipart, SplitsParts) {
    Parsed m(crlf(kMultipart));
    ASSERT_TRUE(m->complete());
    const MediaType mt = parse_media_type(m.buf, m->find(HeaderId::content_type)->value);
    Multipart mp;
    split_multipart(m.buf, m->body(), text(m.buf, mt.boundary), mp);
    ASSERT_EQ(mp.status, MultipartStatus::ok);
    ASSERT_EQ(mp.count, 4);
    EXPECT_EQ(m.t(mp.parts[0].body), "hi");
    EXPECT_TRUE(mp.parts[0].type.is(m.buf, "text", "plain"));
    EXPECT_EQ(m.t(mp.parts[1].body), "v=0\r\nc=IN IP4 192.168.1.10");
    EXPECT_TRUE(mp.parts[1].type.is_sdp(m.buf));
    EXPECT_TRUE(mp.parts[2].type.is_multipart(m.buf));
    EXPECT_EQ(m.t(mp.parts[3].body), "no headers");
    EXPECT_FALSE(mp.parts[3].type.valid);
}

TEST(Multipart, FindsNestedSdpBodies) {
    Parsed m(crlf(kMultipart));
    SdpBodies b;
    find_sdp_bodies(m.buf, *m, b);
    ASSERT_EQ(b.count, 2);
    EXPECT_FALSE(b.truncated);
    EXPECT_EQ(m.t(b.bodies[0]), "v=0\r\nc=IN IP4 192.168.1.10");
    EXPECT_EQ(m.t(b.bodies[1]), "v=0");
}

TEST(Multipart, BrokenBodiesAreReported) {
    Multipart mp;
    const std::string no_close = "--b\r\n\r\nx\r\n";
    split_multipart(no_close, make_slice(0, no_close.size()), "b", mp);
    EXPECT_EQ(mp.status, MultipartStatus::no_close_delimiter);
    const std::string none = "hello";
    split_multipart(none, make_slice(0, none.size()), "b", mp);
    EXPECT_EQ(mp.status, MultipartStatus::no_boundary);
    split_multipart(none, make_slice(0, none.size()), "", mp);
    EXPECT_EQ(mp.status, MultipartStatus::no_boundary);
}

TEST(SdpBodies, PlainAndEncodedAndNone) {
    Parsed plain(crlf("INVITE sip:x SIP/2.0\nc: application/sdp\nl: 3\n\nv=0"));
    SdpBodies b;
    find_sdp_bodies(plain.buf, *plain, b);
    ASSERT_EQ(b.count, 1);
    EXPECT_EQ(plain.t(b.bodies[0]), "v=0");
    Parsed gz(crlf("INVITE sip:x SIP/2.0\nc: application/sdp\ne: gzip\nl: 3\n\nv=0"));
    find_sdp_bodies(gz.buf, *gz, b);
    EXPECT_EQ(b.count, 0);
    EXPECT_TRUE(b.encoded);
    Parsed text(crlf("MESSAGE sip:x SIP/2.0\nc: text/plain\nl: 3\n\nv=0"));
    find_sdp_bodies(text.buf, *text, b);
    EXPECT_EQ(b.count, 0);
}

// The usual type, "application/sdp", is taken without parsing it (in any case); every other
// spelling goes through parse_media_type(), as before that short cut.
TEST(SdpBodies, TypeSpellings) {
    const std::pair<std::string, int> cases[] = {
        {"application/sdp", 1},         {"APPLICATION/SDP", 1},   {"Application/Sdp", 1},
        {"application/sdp;x=1", 1},     {"application / sdp", 1}, {"application/sdpx", 0},
        {"application/sd", 0},          {"applicatio/sdpp", 0},   {"application_sdp", 0},
        {"text/plain", 0},
    };
    for (const auto& [type, bodies] : cases) {
        Parsed m(crlf("INVITE sip:x SIP/2.0\nContent-Type: " + type + "\nl: 3\n\nv=0"));
        SdpBodies b;
        find_sdp_bodies(m.buf, *m, b);
        EXPECT_EQ(b.count, bodies) << type;
        if (bodies) {
            EXPECT_EQ(m.t(b.bodies[0]), "v=0") << type;
        }
    }
}

TEST(Multipart, FoldedPartContentTypeAndTooManyParts) {
    // A part's Content-Type folded onto a second line is read whole (RFC 5322 folding, as
    // RFC 2045 part headers allow).
    const std::string folded = "--b\r\nContent-Type:\r\n application/sdp\r\n\r\nv=0\r\n--b--\r\n";
    Multipart mp;
    split_multipart(folded, make_slice(0, folded.size()), "b", mp);
    ASSERT_EQ(mp.status, MultipartStatus::ok);
    ASSERT_EQ(mp.count, 1);
    EXPECT_TRUE(mp.parts[0].type.is_sdp(folded));
    EXPECT_EQ(text(folded, mp.parts[0].body), "v=0");
    // kMaxParts parts split; one more is reported, with the parts before it kept.
    for (const std::size_t n : {Multipart::kMaxParts, Multipart::kMaxParts + 1}) {
        std::string body;
        for (std::size_t i = 0; i < n; ++i) body += "--b\r\n\r\npart " + std::to_string(i) + "\r\n";
        body += "--b--\r\n";
        split_multipart(body, make_slice(0, body.size()), "b", mp);
        EXPECT_EQ(mp.status, n > Multipart::kMaxParts ? MultipartStatus::too_many_parts : MultipartStatus::ok) << n;
        ASSERT_EQ(mp.count, Multipart::kMaxParts) << n;
        EXPECT_EQ(text(body, mp.parts[Multipart::kMaxParts - 1].body), "part " + std::to_string(Multipart::kMaxParts - 1));
    }
}
