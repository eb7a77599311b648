#include <farend/base/ip_addr.hpp>
#include <farend/sip/sdp.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace farend;
using namespace farend::sip;

namespace {
Sdp parse(const std::string& s) {
    Sdp out;
    parse_sdp(s, make_slice(0, s.size()), out);
    return out;
}
}  // namespace

TEST(Sdp, FindsEveryAddress) {
    const std::string s =
        "v=0\r\n"
        "o=alice 2890844526 2890844526 IN IP4 192.168.1.10\r\n"
        "s=-\r\n"
        "c=IN IP4 192.168.1.10\r\n"
        "t=0 0\r\n"
        "m=audio 49170 RTP/AVP 0\r\n"
        "a=rtcp:53020 IN IP4 192.168.1.10\r\n"
        "m=video 51372/2 RTP/AVP 31\r\n"
        "c=IN IP6 fd00::10\r\n"
        "a=rtcp:53021\r\n"
        "m=audio 0 RTP/AVP 0\r\n"
        "c=IN IP4 224.2.1.1/127/3\r\n"
        "c=IN IP4 0.0.0.0\r\n";
    Sdp sdp = parse(s);
    EXPECT_FALSE(sdp.malformed);
    ASSERT_EQ(sdp.addr_count, 6);
    EXPECT_EQ(sdp.addrs[0].kind, SdpAddrKind::origin);
    EXPECT_EQ(text(s, sdp.addrs[0].addr), "192.168.1.10");
    EXPECT_EQ(sdp.addrs[0].media, -1);
    EXPECT_EQ(sdp.addrs[1].kind, SdpAddrKind::connection);
    EXPECT_EQ(sdp.addrs[1].media, -1);
    EXPECT_EQ(sdp.addrs[1].ip, *IpAddr::parse("192.168.1.10"));
    EXPECT_EQ(sdp.addrs[2].kind, SdpAddrKind::rtcp);
    EXPECT_EQ(sdp.addrs[2].media, 0);
    EXPECT_EQ(sdp.addrs[3].media, 1);
    EXPECT_EQ(text(s, sdp.addrs[3].addrtype), "IP6");
    EXPECT_EQ(sdp.addrs[3].ip, *IpAddr::parse("fd00::10"));
    EXPECT_EQ(text(s, sdp.addrs[4].addr), "224.2.1.1");  // "/127/3" is not part of the address
    EXPECT_EQ(sdp.addrs[5].ip, *IpAddr::parse("0.0.0.0"));
    ASSERT_EQ(sdp.media_count, 3);
    EXPECT_EQ(sdp.media[0].port_num, 49170);
    EXPECT_EQ(text(s, sdp.media[1].port), "51372");
    EXPECT_EQ(sdp.media[2].port_num, 0);
}

TEST(Sdp, AnAddressRepeatedOrNearlyRepeatedIsReadForItself) {
    // The parser reuses the last literal read when a field has the same bytes: each line below
    // differs from the one before it by one byte, its length, its '/' suffix or its family, and
    // must still get its own address; the lines that repeat one get that one, at their own offset.
    const std::string s =
        "o=- 1 1 IN IP4 192.168.1.10\r\n"
        "c=IN IP4 192.168.1.10\r\n"    // the same
        "c=IN IP4 192.168.1.11\r\n"    // one byte
        "c=IN IP4 192.168.1.1\r\n"     // shorter, a prefix
        "c=IN IP4 192.168.1.1/127\r\n" // the same with a TTL
        "c=IN IP4 192.168.1.100\r\n"   // longer
        "c=IN IP6 192.168.1.100\r\n"   // the same bytes, another family: no address
        "a=rtcp:9 IN IP4 192.168.1.100\r\n"
        "c=IN IP4 192.168.1.300\r\n";  // the same length, no literal
    Sdp sdp = parse(s);
    ASSERT_EQ(sdp.addr_count, 9);
    const char* want[] = {"192.168.1.10", "192.168.1.10", "192.168.1.11", "192.168.1.1", "192.168.1.1",
                          "192.168.1.100", "", "192.168.1.100", ""};
    uint32_t from = 0;
    for (int i = 0; i < 9; ++i) {
        const SdpAddress& a = sdp.addrs[i];
        const uint32_t line = static_cast<uint32_t>(s.find('\n', from)) + 1;
        EXPECT_EQ(a.line.off, from) << i;
        EXPECT_TRUE(a.addr.off > from && a.addr.end() < line) << i;  // its own line's field
        from = line;
        if (*want[i]) {
            EXPECT_EQ(a.ip, *IpAddr::parse(want[i])) << i;
        } else {
            EXPECT_FALSE(a.ip.valid()) << i;
        }
    }
    EXPECT_EQ(text(s, sdp.addrs[4].addr), "192.168.1.1");  // cut at the '/'
    EXPECT_EQ(text(s, sdp.addrs[8].addr), "192.168.1.300");
}

TEST(Sdp, BareLfAndHostnames) {
    const std::string s = "v=0\no=- 1 1 IN IP4 host.example.com\nc=IN IP4 host.example.com\n";
    Sdp sdp = parse(s);
    ASSERT_EQ(sdp.addr_count, 2);
    EXPECT_FALSE(sdp.addrs[1].ip.valid());
    EXPECT_EQ(text(s, sdp.addrs[1].addr), "host.example.com");
}

TEST(Sdp, FamilyMismatchIsNotAnAddress) {
    const std::string s = "c=IN IP4 fd00::1\r\nc=IN IP6 10.0.0.1\r\n";
    Sdp sdp = parse(s);
    ASSERT_EQ(sdp.addr_count, 2);
    EXPECT_FALSE(sdp.addrs[0].ip.valid());
    EXPECT_FALSE(sdp.addrs[1].ip.valid());
}

// An address slot is not cleared before it is read into: a malformed address line (read, then not
// counted) leaves its slot to the next address line, and a table read again takes its slots anew.
// Nothing a slot held before may show through: the fields the new line has no value for (an
// address that is no literal) read as none.
TEST(Sdp, ASlotIsReadIntoWholeWhateverItHeldBefore) {
    const std::string s =
        "c=IN IP4 10.0.0.1 extra\r\n"  // four fields: its address read, then the line found malformed
        "a=rtcp:9 IN IP4 host.example\r\n";
    Sdp sdp = parse(s);
    EXPECT_TRUE(sdp.malformed);
    ASSERT_EQ(sdp.addr_count, 1);
    EXPECT_EQ(sdp.addrs[0].kind, SdpAddrKind::rtcp);
    EXPECT_EQ(sdp.addrs[0].line.off, s.find("a=rtcp"));
    EXPECT_EQ(text(s, sdp.addrs[0].addr), "host.example");
    EXPECT_FALSE(sdp.addrs[0].ip.valid());

    const std::string first = "m=audio 9 RTP/AVP 0\r\nc=IN IP4 10.0.0.2\r\nc=IN IP6 fd00::3\r\n";
    parse_sdp(first, make_slice(0, first.size()), sdp);
    ASSERT_EQ(sdp.addr_count, 2);
    ASSERT_TRUE(sdp.addrs[0].ip.valid() && sdp.addrs[1].ip.valid());
    const std::string again = "o=- 1 1 IN IP4 other.example\r\nc=IN XY zz\r\n";
    parse_sdp(again, make_slice(0, again.size()), sdp);
    ASSERT_EQ(sdp.addr_count, 2);
    EXPECT_EQ(sdp.addrs[0].kind, SdpAddrKind::origin);
    EXPECT_EQ(sdp.addrs[0].media, -1);
    EXPECT_EQ(text(again, sdp.addrs[0].addr), "other.example");
    EXPECT_FALSE(sdp.addrs[0].ip.valid());
    EXPECT_EQ(sdp.addrs[1].media, -1);
    EXPECT_EQ(text(again, sdp.addrs[1].addrtype), "XY");
    EXPECT_EQ(text(again, sdp.addrs[1].addr), "zz");
    EXPECT_FALSE(sdp.addrs[1].ip.valid());
}

TEST(Sdp, MalformedLinesAreFlagged) {
    EXPECT_TRUE(parse("c=IN IP4\r\n").malformed);
    EXPECT_TRUE(parse("o=a b c IN IP4\r\n").malformed);
    EXPECT_TRUE(parse("m=audio\r\n").malformed);
    EXPECT_TRUE(parse("m=audio 99999 RTP/AVP 0\r\n").malformed);
    EXPECT_TRUE(parse("a=rtcp:1 IN IP4\r\n").malformed);
    EXPECT_FALSE(parse("m =video 1 RTP/AVP 0\r\n").malformed);  // not an m= line at all (RFC 4475 dblreq)
    // One field too many (the parser reads one past what a line may hold, and no further).
    EXPECT_TRUE(parse("c=IN IP4 10.0.0.1 x\r\n").malformed);
    EXPECT_TRUE(parse("o=a 1 1 IN IP4 10.0.0.1 x\r\n").malformed);
    EXPECT_TRUE(parse("a=rtcp:1 IN IP4 10.0.0.1 x\r\n").malformed);
    EXPECT_TRUE(parse("a=rtcp:1 IN\r\n").malformed);
    EXPECT_FALSE(parse("a=rtcp:1\r\n").malformed);
    EXPECT_FALSE(parse("m=audio 1 RTP/AVP 0 8 101 9 18 4 3 97 98 99\r\n").malformed);  // any number of formats
}

// IPv4 literals, read with one vector load where 16 bytes of the buffer remain and byte by byte
// near its end: both ways give IpAddr::parse_v4's answer, for addresses and near-addresses.
TEST(Sdp, ConnectionAddressesNearAndFarFromTheEnd) {
    const char* addrs[] = {"10.0.0.1",     "192.168.100.200", "255.255.255.255", "0.0.0.0",       "1.2.3.4",
                           "01.002.3.4",   "256.1.1.1",       "1.2.3",           "1.2.3.4.5",     "1.2.3.0004",
                           "1..2.3",       "1.2.3.",          "host.example",    "1.2.3.4x",      "999.1.1.1",
                           "10.0.0.1/127", "224.2.1.1/127/3", "100.64.0.1"};
    for (const char* addr : addrs) {
        const std::string a(addr);
        const std::string bare = a.substr(0, a.find('/'));
        const auto want = IpAddr::parse_v4(bare);
        for (const std::string& s : {"c=IN IP4 " + a + "\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n",
                                     "c=IN IP4 " + a + "\r\n"}) {
            const Sdp sdp = parse(s);
            ASSERT_EQ(sdp.addr_count, 1) << s;
            EXPECT_EQ(text(s, sdp.addrs[0].addr), bare) << s;
            EXPECT_EQ(sdp.addrs[0].ip.valid(), want.has_value()) << s;
            if (want) {
                EXPECT_EQ(sdp.addrs[0].ip, *want) << s;
            }
        }
    }
}

TEST(Sdp, TooManyAddressesIsTruncatedNotOverrun) {
    std::string s;
    for (int i = 0; i < 40; ++i) s += "c=IN IP4 10.0.0.1\r\n";
    Sdp sdp = parse(s);
    EXPECT_EQ(sdp.addr_count, Sdp::kMaxAddrs);
    EXPECT_TRUE(sdp.truncated);
}

TEST(Sdp, TooManyMediaLinesKeepsReadingAddresses) {
    // m= lines past the table are not kept, but the addresses after them are read (the rewrite
    // needs every one): media_truncated, not truncated.
    std::string s = "v=0\r\n";
    for (int i = 0; i < 20; ++i) s += "m=audio " + std::to_string(4000 + 2 * i) + " RTP/AVP 0\r\nc=IN IP4 10.0.0.1\r\n";
    const Sdp sdp = parse(s);
    EXPECT_EQ(sdp.media_count, Sdp::kMaxMedia);
    EXPECT_TRUE(sdp.media_truncated);
    EXPECT_FALSE(sdp.truncated);
    ASSERT_EQ(sdp.addr_count, 20);
    EXPECT_EQ(sdp.addrs[19].media, 19);
}

// Fields of a line are split two ways: from one word of white-space bits (values of up to 64
// bytes with single spaces) and byte by byte (everything else). A value with one trailing space
// takes the second way and has the same fields, so both give one answer, wherever the line
// sits against the 64-byte blocks; irregular spacing keeps the byte-wise answer.
TEST(Sdp, FieldsTheSameWhereverTheLineSitsAndHoweverItIsSplit) {
    const std::string long_user(50, 'u');
    const char* lines[] = {"o=alice 2890844526 2890844526 IN IP4 192.168.1.10", "c=IN IP4 10.0.0.1",
                           "m=audio 49170 RTP/AVP 0 8 101", "a=rtcp:49171 IN IP4 192.168.1.10",
                           "c=IN IP4 10.0.0.1 x", "o=a 1 1 IN IP4", "c=IN IP6 fd00::1",
                           // a value of exactly 64 bytes, and one of 65
                           "c=IN IP4 host-with-a-long-name-that-fills-the-line.example.com1",
                           "c=IN IP4 host-with-a-long-name-that-fills-the-line.example.com12",
                           // address lines read from their white-space bits (one word), against
                           // the same with a trailing space (split field by field)
                           "c=IN IP4 224.2.1.1/127/3", "c=in ip4 010.001.0.9", "c=IN IP4 1.2.3.4x",
                           "c=IN IP4 256.1.1.1", "c=IN IP4 1.2.3.4.5", "o=- 0 0 IN IP4 0.0.0.0",
                           "o=- 0 0 IN IP6 ::1", "a=rtcp:53020 IN IP6 fd00::10", "a=rtcp:1 IN IP4 9.8.7.6/2",
                           "a=rtcp:1 IN IP4 10.0.0.1 x", "a=rtcp:1 IN", "o=a 1 1 IN IP4 10.0.0.1 x",
                           // a tab anywhere sends a line the general way (split field by field)
                           "c=IN IP4\t10.0.0.1", "o=a 1 1\tIN IP4 10.0.0.1", "a=rtcp:1\tIN IP4 1.2.3.4",
                           "m=audio\t4000 RTP/AVP 0", "m=audio 4000\tRTP/AVP 0", "o=a\t1 1 IN IP4 10.0.0.1 x",
                           "c=IN IP4 1.2.3.4\tx", "m=audio 4000 RTP/AVP\t0"};
    auto summary = [](const std::string& s, const Sdp& sdp) {
        std::string out = sdp.malformed ? "malformed" : "ok";
        for (uint8_t i = 0; i < sdp.addr_count; ++i) {
            out.append(" ").append(text(s, sdp.addrs[i].addrtype)).append("/").append(text(s, sdp.addrs[i].addr));
            out.append("/").append(sdp.addrs[i].ip.valid() ? sdp.addrs[i].ip.to_string() : "-");
        }
        for (uint8_t i = 0; i < sdp.media_count; ++i)
            out.append(" ").append(text(s, sdp.media[i].media)).append(":").append(std::to_string(sdp.media[i].port_num));
        return out;
    };
    auto parse_at = [&](std::size_t k, const std::string& line) {
        std::string s(k, 'x');
        s.append(line).append("\r\n");
        Sdp sdp;
        parse_sdp(s, make_slice(k, s.size()), sdp);
        return summary(s, sdp);
    };
    EXPECT_EQ(parse_at(0, lines[0]), "ok IP4/192.168.1.10/192.168.1.10");
    EXPECT_EQ(parse_at(0, lines[2]), "ok audio:49170");
    EXPECT_EQ(parse_at(0, lines[4]), "malformed");
    EXPECT_EQ(parse_at(0, lines[5]), "malformed");
    EXPECT_EQ(parse_at(0, lines[7]), "ok IP4/host-with-a-long-name-that-fills-the-line.example.com1/-");
    for (const char* l : lines) {
        const std::string line(l);
        const std::string want = parse_at(0, line);
        for (std::size_t k = 0; k < 140; ++k) {
            ASSERT_EQ(parse_at(k, line), want) << k << ": " << line;
            ASSERT_EQ(parse_at(k, std::string(line).append(" ")), want) << k << ": " << line << " (trailing space)";
        }
    }
    // Irregular spacing: extra spaces are skipped, a tab ends a field and starts none.
    EXPECT_EQ(parse_at(3, "c=IN  IP4 10.0.0.1"), "ok IP4/10.0.0.1/10.0.0.1");
    EXPECT_EQ(parse_at(3, "c= IN IP4 10.0.0.1"), "ok IP4/10.0.0.1/10.0.0.1");
    EXPECT_EQ(parse_at(3, "c=IN\tIP4 10.0.0.1"), "malformed");
    EXPECT_EQ(parse_at(3, std::string("o=").append(long_user).append(" 1 1 IN IP4 10.0.0.1")), "ok IP4/10.0.0.1/10.0.0.1");
    // The addrtype IP4 in any case (its letters only): read by one word, both ways of reading a line.
    for (const char* type : {"ip4", "Ip4", "iP4"}) {
        const std::string t(type);
        EXPECT_EQ(parse_at(5, "c=IN " + t + " 10.0.0.1"), "ok " + t + "/10.0.0.1/10.0.0.1") << t;
        EXPECT_EQ(parse_at(5, "c=IN  " + t + " 10.0.0.1"), "ok " + t + "/10.0.0.1/10.0.0.1") << t;
    }
    for (const char* type : {"IP5", "IQ4", "IP\x14", "IP6", "IP44", "IP", "I"}) {
        const std::string t(type);
        EXPECT_EQ(parse_at(5, "c=IN " + t + " 10.0.0.1"), "ok " + t + "/10.0.0.1/-") << t;
        EXPECT_EQ(parse_at(5, "c=IN  " + t + " 10.0.0.1"), "ok " + t + "/10.0.0.1/-") << t;
    }
}

// The lines of a body come from the LF bits, kept a block's word at a time: the same addresses
// wherever the body starts against the 64-byte blocks, when it spans several of them, when some
// lines end in a bare LF, when the last has no line end, and when the datagram has lines of its
// own before and after the body (not the body's: they are never read).
TEST(Sdp, LinesTheSameWhereverTheBodySitsAndWhateverFollowsIt) {
    const std::string body =
        "v=0\r\n"
        "o=alice 2890844526 2890844526 IN IP4 192.168.1.10\r\n"
        "s=-\n"
        "c=IN IP4 192.168.1.11\r\n"
        "t=0 0\r\n"
        "a=some-long-attribute-line-that-is-longer-than-one-whole-block-of-sixty-four-bytes\r\n"
        "m=audio 49170 RTP/AVP 0 8 101\r\n"
        "a=rtcp:49171 IN IP4 192.168.1.12\n"
        "\r\n"
        "m=video 51372 RTP/AVP 99\r\n"
        "c=IN IP4 192.168.1.13";  // no line end
    const std::string want =
        "IP4/192.168.1.10@-1 IP4/192.168.1.11@-1 IP4/192.168.1.12@0 IP4/192.168.1.13@1 audio:49170 video:51372";
    // Before the body, lines of another body: none of them is the body's.
    std::string before;
    while (before.size() < 140) before += "c=IN IP4 6.6.6.6\n";
    size_t checked = 0;
    for (size_t k = 0; k < 140; ++k) {
        for (const std::string& after : {std::string(), std::string("\r\nc=IN IP4 6.6.6.6\r\n\n\n"), std::string("x\n")}) {
            const std::string s = before.substr(0, k) + body + after;
            Sdp sdp;
            parse_sdp(s, make_slice(k, k + body.size()), sdp);
            std::string got;
            for (uint8_t i = 0; i < sdp.addr_count; ++i)
                got.append(got.empty() ? "" : " ")
                    .append(text(s, sdp.addrs[i].addrtype))
                    .append("/")
                    .append(sdp.addrs[i].ip.to_string())
                    .append("@")
                    .append(std::to_string(sdp.addrs[i].media));
            for (uint8_t i = 0; i < sdp.media_count; ++i)
                got.append(" ").append(text(s, sdp.media[i].media)).append(":").append(std::to_string(sdp.media[i].port_num));
            ASSERT_EQ(got, want) << "body at " << k << ", " << after.size() << " bytes after it";
            EXPECT_FALSE(sdp.malformed);
            ++checked;
        }
    }
    EXPECT_EQ(checked, 420u);
}

TEST(Sdp, MediaPortAgainstAByteWiseReading) {
    // m=<media> <port>[/<count>]: the usual port is read by digit_run (one load), the rest byte by
    // byte. Both must give what a plain reading of the field gives: the port up to the first '/',
    // valid when it is 1-5 digits of at most 65535. Each spelling on a line before more lines
    // (digit_run's word path) and on a short last line, "m=audio <port> R 0" ending the body
    // (its byte path, under 8 bytes left, for ports of up to 3 bytes).
    const char* const ports[] = {"0",         "9",     "49170",  "65535",  "65536",     "99999",   "123456",
                                 "00049170",  "4917a", "a",      "-1",     "49170/2",   "5/",      "/2",
                                 "1/2/3",     "12345678/2",      "123456789", "070",    "000001",  "00000",
                                 "0000001/2", "6553x/2", "+5",   "49170/", "9/9",       "07"};
    int checked = 0;
    for (const char* port : ports) {
        for (const bool last : {true, false}) {
            const std::string line = std::string("m=audio ") + port + (last ? " R 0" : " RTP/AVP 0");
            const std::string s = "v=0\r\n" + line + (last ? "" : "\r\nc=IN IP4 192.168.1.10\r\na=sendrecv\r\n");
            const Sdp sdp = parse(s);
            // The reference: the port field up to its first '/', read byte by byte.
            const std::string field = port;
            const std::string p = field.substr(0, field.find('/'));
            bool ok = !p.empty() && p.size() <= 5;
            uint32_t num = 0;
            for (char c : p) {
                ok = ok && c >= '0' && c <= '9';
                num = num * 10 + static_cast<uint32_t>(c - '0');
            }
            ok = ok && num <= 65535;
            SCOPED_TRACE(std::string("port '") + port + (last ? "' on the last line" : "' before more lines"));
            ASSERT_EQ(sdp.media_count, 1);
            EXPECT_EQ(text(s, sdp.media[0].port), p);
            EXPECT_EQ(sdp.media[0].port_num, ok ? num : 0u);
            EXPECT_EQ(sdp.malformed, !ok);
            ++checked;
        }
    }
    EXPECT_EQ(checked, 52);
}
