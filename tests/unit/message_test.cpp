#include "header_names.hpp"
#include "sip_helpers.hpp"

#include <farend/sip/chars.hpp>
#include <farend/sip/message.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace farend;
using namespace farend::sip;
using farend::test::crlf;
using farend::test::Parsed;

TEST(Message, IndexesARequest) {
    Parsed m(crlf("REGISTER sip:example.com SIP/2.0\n"
                  "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1;rport\n"
                  "From: <sip:alice@example.com>;tag=1\n"
                  "To: <sip:alice@example.com>\n"
                  "Call-ID: abc@192.168.1.10\n"
                  "CSeq: 1 REGISTER\n"
                  "Contact: <sip:alice@192.168.1.10:5060>\n"
                  "Content-Length: 0\n"
                  "\n"));
    ASSERT_EQ(m->verdict, Verdict::complete) << error_name(m->error);
    EXPECT_TRUE(m->start.is_request);
    EXPECT_EQ(m.t(m->start.method), "REGISTER");
    EXPECT_EQ(m->start.method_id, Method::register_);
    EXPECT_EQ(m.t(m->start.uri), "sip:example.com");
    EXPECT_EQ(m.t(m->start.version), "SIP/2.0");
    ASSERT_EQ(m->header_count, 7);
    EXPECT_EQ(m->headers[0].id, HeaderId::via);
    EXPECT_EQ(m.t(m->headers[0].value), "SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1;rport");
    EXPECT_EQ(m->headers[3].id, HeaderId::call_id);
    EXPECT_EQ(m->find(HeaderId::contact), &m->headers[5]);
    EXPECT_EQ(m->find(HeaderId::route), nullptr);
    EXPECT_EQ(m->content_length.status, ContentLength::Status::ok);
    EXPECT_EQ(m->content_length.value, 0u);
    EXPECT_EQ(m->body_off, m->size);
    EXPECT_EQ(m->body_len, 0u);
    EXPECT_EQ(m->headers[0].line_off(), 34u);
    EXPECT_EQ(m.buf.substr(m->headers[0].line_end, 5), "From:");
}

TEST(Message, IndexesAResponse) {
    Parsed m(crlf("SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nl: 4\n\nabcd"));
    ASSERT_TRUE(m->complete());
    EXPECT_FALSE(m->start.is_request);
    EXPECT_EQ(m->start.status, 200);
    EXPECT_EQ(m.t(m->start.reason), "OK");
    EXPECT_EQ(m.t(m->body()), "abcd");
}

TEST(Message, MapsCompactAndMixedCaseNames) {
    Parsed m(crlf("OPTIONS sip:x SIP/2.0\nv: SIP/2.0/UDP h\nf: a\nt: b\nm: <sip:c>\ni: id\nl: 0\nc: text/plain\n"
                  "k: path\ns: hi\ne: gzip\no: ev\nr: <sip:r>\nu: ev\nb: <sip:b>\nx: 90\nVIA: SIP/2.0/UDP h\n"
                  "cOnTaCt: <sip:d>\nX-Custom: 1\nCSEQ: 1 OPTIONS\n\n"));
    ASSERT_TRUE(m->complete());
    const HeaderId expect[] = {HeaderId::via,          HeaderId::from,      HeaderId::to,       HeaderId::contact,
                               HeaderId::call_id,      HeaderId::content_length, HeaderId::content_type,
                               HeaderId::supported,    HeaderId::subject,   HeaderId::content_encoding,
                               HeaderId::event,        HeaderId::refer_to,  HeaderId::allow_events,
                               HeaderId::referred_by,  HeaderId::session_expires, HeaderId::via,
                               HeaderId::contact,      HeaderId::other,     HeaderId::cseq};
    ASSERT_EQ(m->header_count, std::size(expect));
    for (size_t i = 0; i < std::size(expect); ++i) EXPECT_EQ(m->headers[i].id, expect[i]) << i;
}

TEST(Message, JoinsFoldedLines) {
    Parsed m(crlf("INVITE sip:x SIP/2.0\nSubject: first\n  second\n\tthird\nTo :\n sip:a@b\nl: 0\n\n"));
    ASSERT_TRUE(m->complete());
    ASSERT_EQ(m->header_count, 3);
    EXPECT_TRUE(m->headers[0].folded);
    EXPECT_EQ(m.t(m->headers[0].value), "first\r\n  second\r\n\tthird");
    EXPECT_EQ(m.t(m->headers[1].name), "To");
    EXPECT_EQ(m.t(m->headers[1].value), "sip:a@b");
    EXPECT_EQ(m.buf.substr(m->headers[1].line_end, 4), "l: 0");
}

TEST(Message, EmptyValueAndBareLf) {
    Parsed m("OPTIONS sip:x SIP/2.0\nSubject:\nl: 0\n\n");
    ASSERT_TRUE(m->complete());
    EXPECT_TRUE(has_bare_lf(m.buf, *m));
    EXPECT_TRUE(m->headers[0].value.empty());
    EXPECT_EQ(m.t(m->headers[1].value), "0");
}

// A bare LF anywhere from the start line to the empty line counts; CRLFs before the start line
// and bare LFs in the body do not.
TEST(Message, BareLfInTheHeaderSectionOnly) {
    const auto bare = [](std::string msg) {
        Parsed m(std::move(msg));
        EXPECT_TRUE(m->complete()) << m.buf;
        return has_bare_lf(m.buf, *m);
    };
    EXPECT_FALSE(bare("\r\nOPTIONS sip:x SIP/2.0\r\nl: 4\r\n\r\na\nb\n"));
    EXPECT_TRUE(bare("OPTIONS sip:x SIP/2.0\nl: 4\r\n\r\na\nb\n"));
    EXPECT_TRUE(bare("OPTIONS sip:x SIP/2.0\r\nSubject: s\nl: 4\r\n\r\na\nb\n"));
    EXPECT_TRUE(bare("OPTIONS sip:x SIP/2.0\r\nl: 4\r\n\na\nb\n"));
    EXPECT_TRUE(bare("SIP/2.0 200 OK\r\nSubject: a\r\n b\nl: 0\r\n\r\n"));
}

TEST(Message, BodyFollowsContentLengthAndIgnoresTrailingBytes) {
    Parsed m(crlf("MESSAGE sip:x SIP/2.0\nContent-Length: 005\n\nhelloEXTRA"));
    ASSERT_TRUE(m->complete());
    EXPECT_EQ(m.t(m->body()), "hello");
    EXPECT_EQ(m->trailing, 5u);
    EXPECT_TRUE(m->content_length.leading_zeros);
    EXPECT_EQ(m.t(m->content_length.digits), "005");
}

TEST(Message, BodyWithoutContentLengthIsTheRest) {
    Parsed m(crlf("MESSAGE sip:x SIP/2.0\nTo: a\n\nhello"));
    ASSERT_TRUE(m->complete());
    EXPECT_EQ(m->content_length.status, ContentLength::Status::absent);
    EXPECT_EQ(m.t(m->body()), "hello");
}

// White space around the colon and at the value's ends (RFC 3261 7.3.1 HCOLON, LWS), for known
// and unknown names: each line's id, name and value.
TEST(Message, WhiteSpaceAroundColonAndValue) {
    Parsed m(crlf("OPTIONS sip:x SIP/2.0\nVia : SIP/2.0/UDP a\nVia\t:\tSIP/2.0/UDP b  \nVia:SIP/2.0/UDP c\n"
                  "Contact:   <sip:d>\t\nX-Foo : bar \nX-Bar:baz\nTo:\nFrom: \nl :  0\nCSeq: 1\n  OPTIONS\n\n"));
    ASSERT_TRUE(m->complete()) << error_name(m->error);
    struct Want {
        HeaderId id;
        const char* name;
        const char* value;
    };
    const Want want[] = {{HeaderId::via, "Via", "SIP/2.0/UDP a"},   {HeaderId::via, "Via", "SIP/2.0/UDP b"},
                         {HeaderId::via, "Via", "SIP/2.0/UDP c"},   {HeaderId::contact, "Contact", "<sip:d>"},
                         {HeaderId::other, "X-Foo", "bar"},         {HeaderId::other, "X-Bar", "baz"},
                         {HeaderId::to, "To", ""},                  {HeaderId::from, "From", ""},
                         {HeaderId::content_length, "l", "0"},      {HeaderId::cseq, "CSeq", "1\r\n  OPTIONS"}};
    ASSERT_EQ(m->header_count, std::size(want));
    for (std::size_t i = 0; i < std::size(want); ++i) {
        EXPECT_EQ(m->headers[i].id, want[i].id) << i;
        EXPECT_EQ(m.t(m->headers[i].name), want[i].name) << i;
        EXPECT_EQ(m.t(m->headers[i].value), want[i].value) << i;
    }
    EXPECT_TRUE(m->headers[9].folded);
}

TEST(Message, LeadingLineEndsAreSkipped) {
    Parsed m(crlf("\n\nOPTIONS sip:x SIP/2.0\nl: 0\n\n"));
    ASSERT_TRUE(m->complete());
    EXPECT_EQ(m->start.line.off, 4u);
}

// A STUN message (RFC 5389 6): type, length, magic cookie, transaction ID, then length bytes of
// attributes (here XOR-MAPPED-ADDRESS-like filler). No LF in it, so what is not STUN has no end
// of headers.
std::string stun(uint16_t type, uint16_t length, uint32_t cookie = 0x2112A442) {
    std::string m = {static_cast<char>(type >> 8), static_cast<char>(type), static_cast<char>(length >> 8),
                     static_cast<char>(length), static_cast<char>(cookie >> 24), static_cast<char>(cookie >> 16),
                     static_cast<char>(cookie >> 8), static_cast<char>(cookie)};
    m += "\x5a\x1f\x03\x77\x21\x9c\x44\x01\xee\x30\x6b\x12";
    for (uint16_t i = 0; i < length; ++i) m += static_cast<char>(0x20 + i);
    return m;
}

struct BadCase {
    const char* what;
    std::string msg;
    Verdict verdict;
    ParseError error;
};

class MessageErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(MessageErrors, GetTheRightVerdict) {
    const BadCase& c = GetParam();
    Parsed m(c.msg);
    EXPECT_EQ(m->verdict, c.verdict) << c.what;
    EXPECT_EQ(m->error, c.error) << c.what << ": got " << error_name(m->error);
}

INSTANTIATE_TEST_SUITE_P(
    All, MessageErrors,
    ::testing::Values(
        BadCase{"empty", "", Verdict::error, ParseError::empty},
        BadCase{"keepalive", "\r\n\r\n", Verdict::error, ParseError::empty},
        BadCase{"null keepalive", std::string(4, '\0'), Verdict::error, ParseError::empty},
        BadCase{"zeros and CRLF", std::string("\r\n\0\0 \t", 6), Verdict::error, ParseError::empty},
        BadCase{"zeros then junk", std::string("\0\0\0\0x", 5), Verdict::incomplete, ParseError::no_end_of_headers},
        // RFC 5626 4.4.2's STUN keepalive: a Binding request (type 0x0001, no attributes, the
        // magic cookie, a 12-byte transaction ID), and a success response with one attribute.
        BadCase{"STUN binding request", stun(0x0001, 0), Verdict::error, ParseError::stun},
        BadCase{"STUN success response", stun(0x0101, 12), Verdict::error, ParseError::stun},
        // Not STUN: the cookie wrong (RFC 3489's classic STUN has none), the length not the
        // datagram's, the length not a multiple of 4, a first byte of 4 or more.
        BadCase{"STUN without cookie", stun(0x0001, 0, 0x2112A443), Verdict::incomplete, ParseError::no_end_of_headers},
        BadCase{"STUN length short", stun(0x0001, 8).substr(0, 24), Verdict::incomplete, ParseError::no_end_of_headers},
        BadCase{"STUN length odd", stun(0x0001, 6), Verdict::incomplete, ParseError::no_end_of_headers},
        BadCase{"STUN type 0x0401", stun(0x0401, 0), Verdict::incomplete, ParseError::no_end_of_headers},
        BadCase{"no end of headers", crlf("OPTIONS sip:x SIP/2.0\nTo: a\n"), Verdict::incomplete,
                ParseError::no_end_of_headers},
        BadCase{"no line end", "OPTIONS sip:x SIP/2.0", Verdict::incomplete, ParseError::no_end_of_headers},
        BadCase{"junk", crlf("\x01\x02junk\nl: 0\n\n"), Verdict::error, ParseError::bad_start_line},
        BadCase{"bad method", crlf("INV\x01TE sip:x SIP/2.0\n\n"), Verdict::error, ParseError::bad_method},
        BadCase{"no version", crlf("INVITE sip:x\n\n"), Verdict::error, ParseError::bad_version},
        BadCase{"version 3", crlf("INVITE sip:x SIP/3.0\n\n"), Verdict::error, ParseError::bad_version},
        BadCase{"uri in <>", crlf("INVITE <sip:x> SIP/2.0\n\n"), Verdict::error, ParseError::bad_request_uri},
        BadCase{"two spaces", crlf("INVITE  sip:x SIP/2.0\n\n"), Verdict::error, ParseError::bad_request_uri},
        BadCase{"tab", crlf("INVITE\tsip:x SIP/2.0\n\n"), Verdict::error, ParseError::bad_start_line},
        BadCase{"status 4 digits", crlf("SIP/2.0 2000 OK\n\n"), Verdict::error, ParseError::bad_status_code},
        BadCase{"status 099", crlf("SIP/2.0 099 OK\n\n"), Verdict::error, ParseError::bad_status_code},
        BadCase{"status 700", crlf("SIP/2.0 700 OK\n\n"), Verdict::error, ParseError::bad_status_code},
        BadCase{"status missing", crlf("SIP/2.0\n\n"), Verdict::error, ParseError::bad_status_code},
        BadCase{"response version", crlf("SIP/1.0 200 OK\n\n"), Verdict::error, ParseError::bad_version},
        BadCase{"no colon", crlf("OPTIONS sip:x SIP/2.0\nTo a\n\n"), Verdict::error, ParseError::header_without_colon},
        // The index looks for the colon in the 16 bytes at the line's start: one on the next line
        // is not this line's.
        BadCase{"colon on the next line", crlf("OPTIONS sip:x SIP/2.0\nTo a\nVia: x\n\n"), Verdict::error,
                ParseError::header_without_colon},
        // A line of one byte is not the empty line (only CR LF or LF is): it has no colon.
        BadCase{"one-byte line", std::string("OPTIONS sip:x SIP/2.0\r\nx\n\r\nVia: SIP/2.0/UDP h\r\n\r\n"), Verdict::error,
                ParseError::header_without_colon},
        BadCase{"space in name", crlf("OPTIONS sip:x SIP/2.0\nMax Forwards: 1\n\n"), Verdict::error,
                ParseError::bad_header_name},
        BadCase{"CR for dash", crlf("OPTIONS sip:x SIP/2.0\nCall\rID: 1\n\n"), Verdict::error,
                ParseError::bad_header_name},
        BadCase{"NUL in name", std::string("OPTIONS sip:x SIP/2.0\r\nV\0a: 1\r\n\r\n", 32), Verdict::error,
                ParseError::bad_header_name},
        BadCase{"empty name", crlf("OPTIONS sip:x SIP/2.0\n: 1\n\n"), Verdict::error, ParseError::bad_header_name},
        BadCase{"fold first", crlf("OPTIONS sip:x SIP/2.0\n folded\n\n"), Verdict::error,
                ParseError::fold_before_first_header},
        BadCase{"negative CL", crlf("OPTIONS sip:x SIP/2.0\nl: -1\n\n"), Verdict::error, ParseError::bad_content_length},
        BadCase{"text CL", crlf("OPTIONS sip:x SIP/2.0\nl: ten\n\n"), Verdict::error, ParseError::bad_content_length},
        BadCase{"empty CL", crlf("OPTIONS sip:x SIP/2.0\nContent-Length:\n\n"), Verdict::error,
                ParseError::bad_content_length},
        BadCase{"huge CL", crlf("OPTIONS sip:x SIP/2.0\nl: 99999999999999999999\n\n"), Verdict::error,
                ParseError::content_length_too_large},
        BadCase{"65536 CL", crlf("OPTIONS sip:x SIP/2.0\nl: 65536\n\n"), Verdict::error,
                ParseError::content_length_too_large},
        BadCase{"two CLs", crlf("OPTIONS sip:x SIP/2.0\nl: 1\nContent-Length: 2\n\nab"), Verdict::error,
                ParseError::content_length_conflict},
        BadCase{"short body", crlf("OPTIONS sip:x SIP/2.0\nl: 10\n\nabc"), Verdict::incomplete,
                ParseError::body_truncated},
        BadCase{"too large", std::string(70000, 'a'), Verdict::error, ParseError::too_large}));

// Names of 1 to 40 bytes, the colon inside and past the 16 bytes the index loads at a line's
// start, with and without 16 bytes left after the name, and with the colon's line followed by
// lines with colons: every name ends at its own colon and its value is the rest of the line.
TEST(Message, NamesOfEveryLengthEndAtTheirColon) {
    MessageParser parser;
    for (size_t len = 1; len <= 40; ++len) {
        std::string name = "Q";  // no compact form
        for (size_t i = 1; i < len; ++i) name += static_cast<char>('a' + i % 26);
        for (const std::string& tail : {std::string("\r\nMax-Forwards: 70\r\nTo: <sip:a@b>\r\n\r\n"), std::string("\r\n\r\n")}) {
            const std::string msg = "OPTIONS sip:x SIP/2.0\r\n" + name + ": v:1\r\n" + tail.substr(2);
            const MessageIndex& idx = parser.parse(msg);
            ASSERT_TRUE(idx.complete()) << msg;
            EXPECT_EQ(idx.headers[0].id, HeaderId::other);
            EXPECT_EQ(text(msg, idx.headers[0].name), name);
            EXPECT_EQ(text(msg, idx.headers[0].value), "v:1");
            EXPECT_EQ(idx.header_count, tail.size() > 4 ? 3 : 1);
        }
    }
}

TEST(Message, SameContentLengthTwiceIsAccepted) {
    Parsed m(crlf("OPTIONS sip:x SIP/2.0\nl: 2\nContent-Length: 02\n\nab"));
    ASSERT_TRUE(m->complete());
    EXPECT_EQ(m->content_length.count, 2);
    EXPECT_EQ(m->body_len, 2u);
}

TEST(Message, TooManyHeaders) {
    std::string s = "OPTIONS sip:x SIP/2.0\r\n";
    for (size_t i = 0; i < kMaxHeaders; ++i) s += "X: 1\r\n";
    s += "\r\n";
    EXPECT_TRUE(Parsed(s)->complete());
    s.insert(s.size() - 2, "X: 1\r\n");
    Parsed m(s);
    EXPECT_EQ(m->error, ParseError::too_many_headers);
}

// Too many headers: the error is at the first header past kMaxHeaders, whatever follows it (an
// error on a later line is not the one reported), an error on an earlier line wins, and the index
// keeps kMaxHeaders headers, its first/last tables pointing only at them. (Pins what any cheaper
// placement of the test, e.g. once a 64-byte block, must still give.)
TEST(Message, TooManyHeadersReportedAtTheFirstOnePast) {
    const std::string start = "OPTIONS sip:x SIP/2.0\r\n";
    for (const std::string tail : {"", "no colon here\r\n", "bad name: 1\r\n", " folded\r\n"}) {
        std::string s = start;
        for (size_t i = 0; i < kMaxHeaders - 1; ++i) s += "Q:\r\n";
        s += "Via: SIP/2.0/UDP 192.0.2.1\r\n";  // the last one kept, header kMaxHeaders - 1
        const size_t past = s.size();
        s += "To: <sip:x>\r\n";  // the first one past: dropped, and where the error is
        s += tail;
        for (size_t i = 0; i < 40; ++i) s += "Q:\r\n";
        s += "\r\n";
        Parsed m(s);
        SCOPED_TRACE(tail);
        EXPECT_EQ(m->verdict, Verdict::error);
        EXPECT_EQ(m->error, ParseError::too_many_headers);
        EXPECT_EQ(m->error_off, past);
        ASSERT_EQ(m->header_count, kMaxHeaders);
        EXPECT_EQ(m->find(HeaderId::to), nullptr);
        ASSERT_NE(m->find(HeaderId::via), nullptr);
        EXPECT_EQ(m->find(HeaderId::via), &m->headers[kMaxHeaders - 1]);
        EXPECT_EQ(m->last[static_cast<size_t>(HeaderId::other)], static_cast<int16_t>(kMaxHeaders - 2));
    }
    // An error on a line before the one past kMaxHeaders is the one reported.
    std::string s = start;
    for (size_t i = 0; i < kMaxHeaders; ++i) s += "Q:\r\n";
    const size_t bad = s.size();
    s += "no colon here\r\n";
    for (size_t i = 0; i < 10; ++i) s += "Q:\r\n";
    s += "\r\n";
    Parsed m(s);
    EXPECT_EQ(m->error, ParseError::header_without_colon);
    EXPECT_EQ(m->error_off, bad);
    // Hundreds of the shortest lines (21 in a block) and no end of the headers.
    std::string many = start;
    for (size_t i = 0; i < 1000; ++i) many += "Q:\n";
    Parsed big(many);
    EXPECT_EQ(big->error, ParseError::too_many_headers);
    EXPECT_EQ(big->error_off, start.size() + 3 * kMaxHeaders);
    EXPECT_EQ(big->header_count, kMaxHeaders);
}

// An index that keeps some headers (MessageParser::parse(msg, keep), as the rewrite path does):
// the same verdict, body and line count as with every header kept, the kept headers exactly as
// there, the others not stored, and a continuation line going with its own header.
TEST(Message, KeepsOnlyTheHeadersAskedFor) {
    const std::string msg = crlf(
        "INVITE sip:bob@example.com SIP/2.0\n"
        "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\n"
        "From: <sip:alice@example.com>\n"
        "  ;tag=folded-under-From\n"
        "Contact: <sip:alice@192.168.1.10>\n"
        "\t;expires=60\n"
        "Call-ID: c1\n"
        "X-Unknown: 1\n"
        " more\n"
        "v: SIP/2.0/UDP 192.168.1.10:5062\n"
        "Content-Length: 4\n"
        "\n"
        "body");
    const HeaderSet keep = header_set({HeaderId::via, HeaderId::contact});
    Parsed all(msg);
    sip::MessageParser some_parser;
    const MessageIndex& some = some_parser.parse(msg, keep);
    ASSERT_TRUE(all->complete());
    ASSERT_TRUE(some.complete());
    EXPECT_EQ(all->line_count, 7);
    EXPECT_EQ(all->header_count, 7);
    EXPECT_EQ(some.line_count, 7);
    ASSERT_EQ(some.header_count, 4);  // Via, Contact, v, and Content-Length (always kept)
    EXPECT_EQ(some.kept, keep | header_set({HeaderId::content_length}));
    EXPECT_EQ(all->kept, kAllHeaders);
    EXPECT_EQ(some.headers[0].id, HeaderId::via);
    EXPECT_EQ(text(msg, some.headers[0].value), "SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1");  // From's fold not in it
    EXPECT_EQ(some.headers[1].id, HeaderId::contact);
    EXPECT_TRUE(some.headers[1].folded);
    EXPECT_EQ(text(msg, some.headers[1].value), "<sip:alice@192.168.1.10>\r\n\t;expires=60");
    EXPECT_EQ(some.headers[2].id, HeaderId::via);
    EXPECT_EQ(text(msg, some.headers[2].value), "SIP/2.0/UDP 192.168.1.10:5062");  // X-Unknown's fold not in it
    EXPECT_EQ(some.headers[3].id, HeaderId::content_length);
    EXPECT_EQ(some.find(HeaderId::from), nullptr);
    EXPECT_EQ(some.find(HeaderId::call_id), nullptr);
    EXPECT_EQ(some.find(HeaderId::other), nullptr);
    ASSERT_NE(some.find(HeaderId::via), nullptr);
    EXPECT_EQ(some.next(*some.find(HeaderId::via)), &some.headers[2]);
    EXPECT_EQ(test::describe_kept(some, keep), test::describe_kept(*all, keep));
    EXPECT_EQ(text(msg, some.body()), "body");
    // No header kept but Content-Length: the body is still where it says.
    const MessageIndex& none = some_parser.parse(msg, 0);
    ASSERT_TRUE(none.complete());
    EXPECT_EQ(none.header_count, 1);
    EXPECT_EQ(none.line_count, 7);
    EXPECT_EQ(text(msg, none.body()), "body");
}

// The errors of a line are decided whatever the set: a left header's line fails as it would kept.
TEST(Message, KeptOrNotALineFailsAlike) {
    const std::string start = "OPTIONS sip:x SIP/2.0\r\n";
    std::vector<std::string> cases = {
        start + " folded first\r\nVia: x\r\n\r\n",  // a fold before any header
        start + "Call-ID: 1\r\nno colon here\r\n\r\n",
        start + "Call-ID: 1\r\nbad name: 1\r\n\r\n",
        start + "Call-ID : spaced\r\nCSeq:\t1 OPTIONS\r\nVia :x\r\n\r\n",  // white space around colons
        start + "Call-ID: 1\r\n\tfold of a left one\r\nContent-Length: 0\r\n\r\n",
        start + "Call-ID: 1\r\n",  // no end of headers
    };
    for (const HeaderSet first_kept : {HeaderSet{0}, header_set({HeaderId::call_id})}) {
        std::string s = start;  // kMaxHeaders lines, the last a Via; then one past it
        for (size_t i = 0; i < kMaxHeaders - 1; ++i) s += i % 2 ? "Call-ID: 1\r\n" : "Q:\r\n";
        s += "Via: SIP/2.0/UDP 192.0.2.1\r\n";
        cases.push_back(s + "\r\n");
        cases.push_back(s + "To: <sip:x>\r\n\r\n");
        cases.push_back(s + "Via: SIP/2.0/UDP 192.0.2.2\r\n\r\n");  // the one past is a kept header
        for (const std::string& c : cases) {
            SCOPED_TRACE(c.substr(0, 80));
            const HeaderSet keep = first_kept | header_set({HeaderId::via});
            Parsed all(c);
            sip::MessageParser p;
            const MessageIndex& some = p.parse(c, keep);
            EXPECT_EQ(test::describe_kept(some, keep), test::describe_kept(*all, keep));
            EXPECT_EQ(some.line_count, all->line_count);
        }
    }
}

TEST(Message, ErrorNamesAreUniqueAndDescribed) {
    for (size_t i = 0; i < kParseErrorCount; ++i) {
        const auto e = static_cast<ParseError>(i);
        EXPECT_FALSE(error_name(e).empty());
        EXPECT_FALSE(error_description(e).empty());
        for (size_t j = 0; j < i; ++j) EXPECT_NE(error_name(e), error_name(static_cast<ParseError>(j)));
    }
}

// Every known name, and every name one byte away from one (each byte replaced by each token
// byte, one byte dropped, one added), through header_id() and through the index: with the name
// far from the datagram's end (the index reads 16 bytes from the name's start) and as the last
// line (fewer than 16 bytes left).
TEST(HeaderIds, EveryNameAndEveryNameOneByteAwayGetsTheRightId) {
    const std::vector<std::string> names = test::names_near_known();
    MessageParser parser;
    size_t known = 0;
    for (const std::string& name : names) {
        if (name.empty()) continue;
        const HeaderId want = test::reference_header_id(name);
        known += want != HeaderId::other;
        ASSERT_EQ(header_id(name), want) << name;
        for (const std::string& msg : {"OPTIONS sip:x SIP/2.0\r\n" + name + ": 0\r\nMax-Forwards: 70\r\n\r\n",
                                      "OPTIONS sip:x SIP/2.0\r\n" + name + ":0\r\n\r\n"}) {
            const MessageIndex& idx = parser.parse(msg);
            ASSERT_TRUE(idx.complete()) << msg;
            ASSERT_EQ(idx.headers[0].id, want) << msg;
            ASSERT_EQ(text(msg, idx.headers[0].name), name);
        }
    }
    EXPECT_GT(known, 800u);  // every letter of every name in both cases (881 in all)
}

// The index looks names under 16 bytes up without testing their length: a known name followed by
// NUL bytes (zeros, as its pattern is past its end) is still no name of it, at every length up to
// 16 bytes, and as the last line too.
TEST(HeaderIds, AKnownNameFollowedByNulsIsABadName) {
    MessageParser parser;
    size_t checked = 0;
    for (size_t i = 1; i < kHeaderIdCount; ++i) {
        const std::string name(header_name(static_cast<HeaderId>(i)));
        for (size_t nuls = 1; name.size() + nuls <= 16; ++nuls) {
            const std::string bad = name + std::string(nuls, '\0');
            for (const std::string& msg : {"OPTIONS sip:x SIP/2.0\r\n" + bad + ": 0\r\nMax-Forwards: 70\r\n\r\n",
                                          "OPTIONS sip:x SIP/2.0\r\n" + bad + ":0\r\n\r\n"}) {
                const MessageIndex& idx = parser.parse(msg);
                EXPECT_EQ(idx.error, ParseError::bad_header_name) << name << " + " << nuls << " NULs";
                ++checked;
            }
            EXPECT_EQ(header_id(bad), HeaderId::other) << name << " + " << nuls << " NULs";
        }
    }
    EXPECT_GT(checked, 400u);  // 486 with the 40 names of today
}

TEST(HeaderIds, FullAndCompactFormsRoundTrip) {
    for (size_t i = 1; i < kHeaderIdCount; ++i) {
        const auto id = static_cast<HeaderId>(i);
        EXPECT_EQ(header_id(header_name(id)), id) << header_name(id);
    }
    EXPECT_EQ(header_id("v"), HeaderId::via);
    EXPECT_EQ(header_id("V"), HeaderId::via);
    EXPECT_EQ(header_id("q"), HeaderId::other);
    EXPECT_EQ(header_id("Vias"), HeaderId::other);
    EXPECT_EQ(header_id(""), HeaderId::other);
    EXPECT_EQ(method_id("INVITE"), Method::invite);
    EXPECT_EQ(method_id("invite"), Method::other);  // methods are case-sensitive
}

// Every method by its name, and every near miss (any byte changed to any other printable byte, the
// name one byte shorter or longer) as other; each name is read from a buffer of its own size, so
// the sanitizer builds catch a read past it.
TEST(Methods, EveryNameAndEveryNearMiss) {
    const std::pair<std::string_view, Method> methods[] = {
        {"INVITE", Method::invite},   {"ACK", Method::ack},         {"BYE", Method::bye},
        {"CANCEL", Method::cancel},   {"REGISTER", Method::register_}, {"OPTIONS", Method::options},
        {"PRACK", Method::prack},     {"SUBSCRIBE", Method::subscribe}, {"NOTIFY", Method::notify},
        {"PUBLISH", Method::publish}, {"INFO", Method::info},       {"REFER", Method::refer},
        {"MESSAGE", Method::message}, {"UPDATE", Method::update}};
    const auto id_of = [](const std::string& s) {
        const std::vector<char> own(s.begin(), s.end());  // exactly s.size() bytes
        return method_id({own.data(), own.size()});
    };
    std::set<Method> seen;
    for (const auto& [name, id] : methods) {
        const std::string s(name);
        EXPECT_EQ(id_of(s), id) << s;
        seen.insert(id);
        EXPECT_EQ(id_of(s.substr(0, s.size() - 1)), Method::other) << s;
        EXPECT_EQ(id_of(s + "S"), Method::other) << s;
        EXPECT_EQ(id_of("X" + s), Method::other) << s;
        for (size_t i = 0; i < s.size(); ++i)
            for (int c = 0x21; c < 0x7f; ++c) {
                if (c == s[i]) continue;
                std::string t = s;
                t[i] = static_cast<char>(c);
                const Method m = id_of(t);
                // a change can only land on another method's name ("BYE" -> "ACK" needs three)
                const bool other_name = std::any_of(std::begin(methods), std::end(methods),
                                                    [&](const auto& x) { return x.first == t; });
                if (!other_name) {
                    EXPECT_EQ(m, Method::other) << t;
                }
            }
    }
    EXPECT_EQ(seen.size(), std::size(methods));
    EXPECT_EQ(id_of(""), Method::other);
    EXPECT_EQ(id_of("SUBSCRIBES"), Method::other);
}

// MessageIndex::next() gives every header of one id in order, whatever lies between them and
// whichever id came last, and nothing of another id; checked against a plain walk of all headers,
// on a message indexed after another (the index is reused: nothing of the first may leak).
TEST(Message, NextWalksEveryHeaderOfOneIdAndNoOther) {
    MessageParser parser;
    const std::string before = crlf("OPTIONS sip:x SIP/2.0\nContact: <sip:a>\nX-A: 1\nX-B: 2\nX-C: 3\n"
                                     "Contact: <sip:b>\nVia: SIP/2.0/UDP h\nm: <sip:c>\nContent-Length: 0\n\n");
    ASSERT_TRUE(parser.parse(before).complete());
    const std::string msg = crlf("INVITE sip:x SIP/2.0\nv: SIP/2.0/UDP a\nContact: <sip:1>\nVia: SIP/2.0/UDP b\n"
                                 "X-Other: y\nm: <sip:2>\nTo: <sip:t>\nVIA: SIP/2.0/UDP c\nContact: <sip:3>\n"
                                 "From: <sip:f>\nX-Other: z\nl: 0\n\n");
    const MessageIndex& idx = parser.parse(msg);
    ASSERT_TRUE(idx.complete()) << error_name(idx.error);
    const HeaderId ids[] = {HeaderId::via,  HeaderId::contact, HeaderId::to,    HeaderId::from,
                            HeaderId::other, HeaderId::content_length, HeaderId::route};
    for (HeaderId id : ids) {
        std::vector<const Header*> want, got;
        for (uint16_t i = 0; i < idx.header_count; ++i)
            if (idx.headers[i].id == id) want.push_back(&idx.headers[i]);
        for (const Header* h = idx.find(id); h; h = idx.next(*h)) got.push_back(h);
        EXPECT_EQ(got, want) << "id " << static_cast<int>(id);
    }
    std::vector<std::string> vias;
    for (const Header* h = idx.find(HeaderId::via); h; h = idx.next(*h)) vias.emplace_back(text(msg, h->value));
    EXPECT_EQ(vias, (std::vector<std::string>{"SIP/2.0/UDP a", "SIP/2.0/UDP b", "SIP/2.0/UDP c"}));
}

// The Request-URI's byte check: any byte below 0x21 or above 0x7e, at any position of strings of
// every length up to 70 (16-byte steps and the overlapping last 16; two overlapping words; the
// short byte loop), read from a buffer of exactly that size.
TEST(Chars, SpaceOrControlAnywhereInAnyLength) {
    for (size_t n = 0; n <= 70; ++n) {
        std::vector<char> good(n);
        for (size_t i = 0; i < n; ++i) good[i] = static_cast<char>(0x21 + (i * 7) % 94);  // 0x21..0x7e
        EXPECT_FALSE(chars::has_space_or_control(good.data(), n)) << n;
        for (size_t i = 0; i < n; ++i)
            for (int c : {0x00, 0x09, 0x0a, 0x0d, 0x20, 0x7f, 0x80, 0xc3, 0xff}) {
                std::vector<char> bad = good;
                bad[i] = static_cast<char>(c);
                EXPECT_TRUE(chars::has_space_or_control(bad.data(), n)) << n << " at " << i << " byte " << c;
            }
    }
}

TEST(Chars, WhiteSpaceClassesOfEveryByte) {
    for (int c = 0; c < 256; ++c) {
        const char ch = static_cast<char>(c);
        EXPECT_EQ(chars::is_ws(ch), c == ' ' || c == '\t') << c;
        EXPECT_EQ(chars::is_lws(ch), c == ' ' || c == '\t' || c == '\r' || c == '\n') << c;
        EXPECT_EQ(chars::kWsByte[static_cast<unsigned char>(c)] != 0, chars::is_ws(ch)) << c;
    }
}
