// Host/port, SIP URIs and the literal compare they use: the fast paths (dotted quad in one pass,
// one SSE2 pass for '@' '?' and bad bytes, word compares of parameter names) must decide every
// input exactly as the general rules do.
#include <farend/base/bytes.hpp>
#include <farend/sip/uri.hpp>

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "../../src/sip/quad.hpp"  // the dotted-quad reader is internal to the sip module

using namespace farend;
using namespace farend::sip;

namespace {

struct HostCase {
    const char* in;
    HostKind kind;
    const char* host;  // as written
    uint16_t port;
    std::size_t consumed;  // offset parse_hostport returns
};

}  // namespace

TEST(HostPort, DottedQuadsAndWhatOnlyLooksLikeOne) {
    const HostCase cases[] = {
        {"192.168.1.10:5060;x", HostKind::ipv4, "192.168.1.10", 5060, 17},
        {"192.168.1.10", HostKind::ipv4, "192.168.1.10", 0, 12},  // ends at the buffer's end
        {"192.168.1.10>", HostKind::ipv4, "192.168.1.10", 0, 12},
        {"01.02.03.004", HostKind::ipv4, "01.02.03.004", 0, 12},  // leading zeros: 1.2.3.4
        {"0.0.0.0:1", HostKind::ipv4, "0.0.0.0", 1, 9},
        {"255.255.255.255:65535", HostKind::ipv4, "255.255.255.255", 65535, 21},
        {"1.2.3.4a", HostKind::name, "1.2.3.4a", 0, 8},        // a host name after all
        {"1.2.3.4-x.example", HostKind::name, "1.2.3.4-x.example", 0, 17},
        {"1.2.3.4.example", HostKind::name, "1.2.3.4.example", 0, 15},
        {"1.2.3.4.5", HostKind::none, "", 0, 0},              // all digits and dots, not a quad
        {"1.2.3.0004", HostKind::none, "", 0, 0},
        {"256.1.1.1", HostKind::none, "", 0, 0},
        {"1.2.3", HostKind::none, "", 0, 0},
        {"1..2.3", HostKind::none, "", 0, 0},
        {"1.2.3.4.", HostKind::none, "", 0, 0},
        {"1.2.3.4:65536", HostKind::none, "1.2.3.4", 0, 0},   // port out of range
        {"1.2.3.4:000001", HostKind::none, "1.2.3.4", 0, 0},  // six digits
        {"1.2.3.4:", HostKind::none, "1.2.3.4", 0, 0},        // empty port
        {"1.2.3.4:50a", HostKind::ipv4, "1.2.3.4", 50, 10},   // the port ends where digits do
        {"1.2.3.4:0", HostKind::ipv4, "1.2.3.4", 0, 9},
        {"1.2.3.4:00000", HostKind::ipv4, "1.2.3.4", 0, 13},
        {"1.2.3.4:09999;x", HostKind::ipv4, "1.2.3.4", 9999, 13},
        {"1.2.3.4:12345", HostKind::ipv4, "1.2.3.4", 12345, 13},
        {"1.2.3.4:99999", HostKind::none, "1.2.3.4", 0, 0},
        {"1.2.3.4:1234567890", HostKind::none, "1.2.3.4", 0, 0},
        {"1.2.3.4:7/", HostKind::ipv4, "1.2.3.4", 7, 9},  // '/' and ':' sit next to the digits
        {"1.2.3.4:7:", HostKind::ipv4, "1.2.3.4", 7, 9},
        {"2001:db8::1", HostKind::ipv6, "2001:db8::1", 0, 11},
        {"[2001:db8::1]:5060", HostKind::ipv6, "[2001:db8::1]", 5060, 18},
        {"host.example:5070", HostKind::name, "host.example", 5070, 17},
        {"1.2.3.4.5.6.7.8.9.1", HostKind::none, "", 0, 0},      // a run of 16 and more
        {"111.222.233.244.1", HostKind::none, "", 0, 0},
        {"1.2.3.4444", HostKind::none, "", 0, 0},
        {"1234.2.3.4", HostKind::none, "", 0, 0},
        {".1.2.3.4", HostKind::none, "", 0, 0},
    };
    // Each alone (the buffer ends with it: the general path) and with more bytes after it in the
    // buffer (the 16-byte paths), digits and dots among them, which must not count.
    for (const auto& c : cases) {
        for (const char* after : {"", "1.2.3.4:5678901234567890", "\r\n\r\nabcdefghijklmnop"}) {
            SCOPED_TRACE(std::string(c.in) + " + " + after);
            const std::string buf = std::string(c.in) + after;
            const uint32_t len = static_cast<uint32_t>(std::strlen(c.in));
            HostPort hp;
            const uint32_t end = parse_hostport(buf, 0, len, hp, false);
            EXPECT_EQ(hp.kind, c.kind);
            EXPECT_EQ(end, c.consumed);
            if (c.kind == HostKind::none) continue;
            EXPECT_EQ(text(buf, hp.host), c.host);
            EXPECT_EQ(hp.port_num, c.port);
        }
    }
    // Every valid quad of octets 0-255 in each digit count, value checked.
    for (const char* q : {"0.9.10.99", "100.199.200.255", "9.99.255.0", "255.0.99.100"}) {
        for (const char* after : {"", ";transport=udp>\r\n\r\n"}) {
            const std::string buf = std::string(q) + after;
            HostPort hp;
            parse_hostport(buf, 0, static_cast<uint32_t>(std::strlen(q)), hp, false);
            ASSERT_EQ(hp.kind, HostKind::ipv4) << q;
            EXPECT_EQ(hp.ip, *IpAddr::parse_v4(q)) << q;
        }
    }
    // The quad's value, and Via's LWS around the colon.
    const std::string via = "10.0.0.254 : 5062;branch=z";
    HostPort hp;
    EXPECT_EQ(parse_hostport(via, 0, static_cast<uint32_t>(via.size()), hp, true), 17u);
    ASSERT_EQ(hp.kind, HostKind::ipv4);
    EXPECT_EQ(hp.ip, *IpAddr::parse_v4("10.0.0.254"));
    EXPECT_EQ(hp.port_num, 5062);
}

TEST(Uri, AtAndQuestionMarkAreFoundOnceEach) {
    // '?' may stand in a user part (user-unreserved); only one after the host starts headers.
    const std::string a = "sip:a?b@host.example;transport=udp?subject=x";
    Uri u = parse_uri(a, Slice{0, static_cast<uint32_t>(a.size())});
    ASSERT_TRUE(u.valid);
    EXPECT_EQ(text(a, u.user), "a?b");
    EXPECT_EQ(text(a, u.host.host), "host.example");
    EXPECT_EQ(text(a, u.transport.value), "udp");
    EXPECT_EQ(text(a, u.headers), "?subject=x");
    // The first '@' ends the user part.
    const std::string b = "SIP:alice@host@example";
    u = parse_uri(b, Slice{0, static_cast<uint32_t>(b.size())});
    EXPECT_EQ(u.scheme_id, Scheme::sip);
    EXPECT_EQ(text(b, u.user), "alice");
    EXPECT_FALSE(u.valid);  // "host@example" is no host
    // "sips:" and other schemes take the general way.
    const std::string c = "sIpS:bob@10.1.2.3:5061";
    u = parse_uri(c, Slice{0, static_cast<uint32_t>(c.size())});
    ASSERT_TRUE(u.valid);
    EXPECT_EQ(u.scheme_id, Scheme::sips);
    EXPECT_EQ(u.host.port_num, 5061);
}

// The first '@' and the first '?' at every offset across the SSE2 chunks and the byte-wise tail,
// with a second of each after it, in a buffer that ends with the URI and one that goes on.
TEST(Uri, AtAndQuestionMarkAtEveryOffset) {
    for (std::size_t k = 1; k <= 48; ++k) {
        for (const char* tail : {"", ">\r\n\r\n0123456789abcdef"}) {
            const std::string uri = "sip:" + std::string(k, 'u') + "@h.example;p=v?x=1@y?z";
            const std::string s = uri + tail;
            const Uri u = parse_uri(s, Slice{0, static_cast<uint32_t>(uri.size())});
            ASSERT_TRUE(u.valid) << k;
            EXPECT_EQ(u.user.len, k) << k;
            EXPECT_EQ(text(s, u.host.host), "h.example") << k;
            EXPECT_EQ(text(s, u.headers), "?x=1@y?z") << k;
        }
    }
}

TEST(Uri, ABadByteAnywhereMakesItInvalid) {
    // Every position across the SSE2 chunks and the byte-wise tail, in a buffer that ends with
    // the URI and in one that goes on after it.
    const std::string base = "sip:alice@192.168.1.10:5060;transport=udp;rinstance=0123456789abcdef";
    for (const char bad : {' ', '\t', '\r', '\x01', '\x7f', '\x80', '\xff'}) {
        for (std::size_t i = 4; i < base.size(); ++i) {
            for (const char* tail : {"", ">\r\n\r\n0123456789abcdef"}) {
                std::string s = base;
                s[i] = bad;
                s += tail;
                const Uri u = parse_uri(s, Slice{0, static_cast<uint32_t>(base.size())});
                EXPECT_FALSE(u.valid) << "byte " << int(static_cast<unsigned char>(bad)) << " at " << i;
            }
        }
    }
    const Uri ok = parse_uri(base, Slice{0, static_cast<uint32_t>(base.size())});
    ASSERT_TRUE(ok.valid);
    EXPECT_EQ(ok.param_count, 2);
}

// find_any against a byte loop: every [from, to) of buffers of 0-100 bytes (32-byte steps while
// 32 bytes remain, the byte loop after), one byte looked for and the nine that end a token value.
TEST(Bytes, FindAnyAgreesWithAByteLoop) {
    std::mt19937 rng(11);
    const std::string alphabet = "ab;,\" <>\t\r\n=";
    for (uint32_t n = 0; n <= 100; ++n) {
        std::string buf(n, 'x');
        for (char& c : buf) c = (rng() % 4 == 0) ? alphabet[rng() % alphabet.size()] : 'x';
        const auto loop = [&](uint32_t from, uint32_t to, std::string_view set) {
            for (uint32_t i = from; i < to; ++i)
                if (set.find(buf[i]) != std::string_view::npos) return i;
            return to;
        };
        for (uint32_t from = 0; from <= n; ++from) {
            for (uint32_t to = from; to <= n; ++to) {
                ASSERT_EQ((find_any<';'>(buf.data(), n, from, to)), loop(from, to, ";")) << n << " " << from << " " << to;
                ASSERT_EQ((find_any<';', ',', ' ', '\t', '\r', '\n', '"', '<', '>'>(buf.data(), n, from, to)),
                          loop(from, to, std::string_view(";, \t\r\n\"<>", 9)))
                    << n << " " << from << " " << to;
            }
        }
    }
}

// Sets of five bytes and more are searched by nibble tables (pshufb) where SSSE3 is built in: every
// byte value 0-255 at every offset of a 64-byte buffer of printable non-members, against a byte
// loop (so every byte that shares a high or a low nibble with a member is tried). Two sets: the
// nine ends of a token value and five bytes from five high nibbles, 0x7f among them.
TEST(Bytes, FindAnyTellsEveryByteValue) {
    constexpr std::string_view kEnds(";, \t\r\n\"<>", 9);
    constexpr std::string_view kSpread("\x01+@Z\x7f", 5);
    const auto check = [](std::string_view set, auto find) {
        for (int value = 0; value < 256; ++value) {
            for (uint32_t at = 0; at < 64; ++at) {
                // Filler: printable bytes, none of them a member.
                std::string buf(64, 'x');
                for (uint32_t i = 0; i < 64; ++i) {
                    char c = static_cast<char>(0x20 + (i * 7) % 0x5f);
                    while (set.find(c) != std::string_view::npos) c = static_cast<char>(c + 1);
                    buf[i] = c;
                }
                buf[at] = static_cast<char>(value);
                const bool member = set.find(static_cast<char>(value)) != std::string_view::npos;
                uint32_t want = 64;
                for (uint32_t i = 0; i < 64; ++i)
                    if (set.find(buf[i]) != std::string_view::npos) {
                        want = i;
                        break;
                    }
                ASSERT_EQ(find(buf), want) << "value " << value << " at " << at;
                if (member) {
                    ASSERT_EQ(want, at) << "value " << value;
                }
            }
        }
    };
    check(kEnds, [](const std::string& b) {
        return find_any<';', ',', ' ', '\t', '\r', '\n', '"', '<', '>'>(b.data(), 64, 0, 64);
    });
    check(kSpread, [](const std::string& b) { return find_any<'\x01', '+', '@', 'Z', '\x7f'>(b.data(), 64, 0, 64); });
}

TEST(Bytes, FoldedLiteralCompare) {
    EXPECT_TRUE(iequals_lit("BrAnCh", "branch"));
    EXPECT_TRUE(iequals_lit("branch", "branch"));
    EXPECT_FALSE(iequals_lit("branc", "branch"));
    EXPECT_FALSE(iequals_lit("branchx", "branch"));
    EXPECT_FALSE(iequals_lit("bRanci", "branch"));
    EXPECT_TRUE(iequals_lit("Content-Type", "content-type"));
    EXPECT_FALSE(iequals_lit("Content\rType", "content-type"));  // '-' | 0x20 is still '-'
    EXPECT_FALSE(iequals_lit("CONTENT-TYPE\x01", "content-type"));
    EXPECT_TRUE(iequals_lit("lR", "lr"));
    EXPECT_FALSE(iequals_lit("l\x12", "l2"));  // only letters fold
    EXPECT_TRUE(iequals_lit("", ""));
    EXPECT_TRUE(iequals_lit("Q", "q"));
    EXPECT_FALSE(iequals_lit("1", "q"));
    EXPECT_TRUE(iequals_lit("SIP/", "sip/"));
    EXPECT_FALSE(iequals_lit("SIP\x0f", "sip/"));
    EXPECT_TRUE(iequals_lit("RECEIVED", "received"));
    // Every length 1-16, one byte changed at each position, against the byte-wise iequals.
    auto check = [](const FoldedLit& lit, std::string_view l) {
        std::string up(l);
        for (char& ch : up)
            if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 32);
        EXPECT_TRUE(iequals_lit(up, lit)) << up;
        for (std::size_t i = 0; i < l.size(); ++i) {
            for (int d : {1, 0x20, 0x40, -0x20}) {
                std::string m(l);
                m[i] = static_cast<char>(m[i] + d);
                EXPECT_EQ(iequals_lit(m, lit), iequals(m, l)) << m;
            }
        }
    };
    check("a", "a");
    check("ab", "ab");
    check("abc", "abc");
    check("abcd", "abcd");
    check("abcde", "abcde");
    check("abcdefg", "abcdefg");
    check("abcdefgh", "abcdefgh");
    check("abcdefgh-", "abcdefgh-");
    check("abcdefgh-ijklmno", "abcdefgh-ijklmno");
}

// The dotted-quad reader (src/sip/quad.hpp) against a plain one, on every string of up to 8
// bytes over digits, dots and a stop byte, and on random longer runs: the same length, or 0,
// and the same octets. Octets of 1-3 decimal digits up to 255, leading zeros allowed.
namespace {
uint32_t plain_quad(const std::string& s, uint32_t n, uint8_t (&out)[4]) {
    uint32_t len = 0;
    while (len < n && len < 16 && (std::isdigit(static_cast<unsigned char>(s[len])) || s[len] == '.')) ++len;
    if (len == 16) return 0;
    uint32_t part = 0, digits = 0, value = 0;
    for (uint32_t i = 0; i <= len; ++i) {
        if (i == len || s[i] == '.') {
            if (digits == 0 || digits > 3 || value > 255 || part > 3) return 0;
            out[part++] = static_cast<uint8_t>(value);
            digits = value = 0;
        } else {
            ++digits;
            value = value * 10 + static_cast<uint32_t>(s[i] - '0');
        }
    }
    return part == 4 ? len : 0;
}
void expect_quad_as_plain(const std::string& field, uint32_t n) {
    std::string buf = field;
    buf.resize(32, 'x');
    uint8_t want[4] = {}, got[4] = {};
    const uint32_t w = plain_quad(buf, n, want);
    const uint32_t g = farend::sip::detail::dotted_quad16(buf.data(), n, got);
    ASSERT_EQ(g, w) << field << " n " << n;
    if (w) {
        ASSERT_EQ(std::memcmp(got, want, 4), 0) << field;
    }
}
}  // namespace

TEST(Uri, DottedQuadAsAPlainReaderOnEveryShortStringAndRandomOnes) {
    const char alphabet[] = {'0', '1', '2', '5', '6', '9', '.', ':'};
    std::string s;
    std::size_t checked = 0;
    for (std::size_t len = 1; len <= 8; ++len) {
        std::size_t total = 1;
        for (std::size_t i = 0; i < len; ++i) total *= sizeof(alphabet);
        for (std::size_t code = 0; code < total; ++code) {
            s.clear();
            for (std::size_t i = 0, c = code; i < len; ++i, c /= sizeof(alphabet)) s += alphabet[c % sizeof(alphabet)];
            expect_quad_as_plain(s, static_cast<uint32_t>(len));
            expect_quad_as_plain(s, 16);
            checked += 2;
        }
    }
    std::mt19937_64 rng(20261202);
    for (int round = 0; round < 200000; ++round) {
        s.clear();
        for (int octet = 0; octet < 4 + (rng() % 8 == 0); ++octet) {
            if (octet) s += '.';
            for (uint64_t k = 1 + rng() % 4; k; --k) s += static_cast<char>('0' + rng() % 10);
        }
        if (rng() % 4 == 0) s[rng() % s.size()] = "0.9:"[rng() % 4];
        expect_quad_as_plain(s, 1 + static_cast<uint32_t>(rng() % 16));
        expect_quad_as_plain(s, 16);
        checked += 2;
    }
    std::printf("  %zu fields checked\n", checked);
}
