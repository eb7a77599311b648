#include "fields.hpp"
#include "sip_helpers.hpp"

#include <farend/sip/via.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <vector>

using namespace farend;
using namespace farend::sip;
using farend::test::all_fields;
using farend::test::crlf;
using farend::test::Parsed;

namespace {

struct Vias {
    Parsed m;
    std::vector<Via> v;
    explicit Vias(const std::string& via_lines) : m(crlf("OPTIONS sip:x SIP/2.0\n" + via_lines + "l: 0\n\n")) {
        EXPECT_TRUE(m->complete()) << error_name(m->error);
        for (uint16_t i = 0; i < m->header_count; ++i) {
            if (m->headers[i].id != HeaderId::via) continue;
            Via out[16];
            size_t n = parse_via_values(m.buf, m.mv(), m->headers[i].value, out, 16);
            v.insert(v.end(), out, out + n);
        }
    }
    std::string_view t(Slice s) const { return m.t(s); }
};

}  // namespace

TEST(Via, Basic) {
    Vias x("Via: SIP/2.0/UDP 192.168.1.10:5062;branch=z9hG4bK776;rport\n");
    ASSERT_EQ(x.v.size(), 1u);
    const Via& v = x.v[0];
    ASSERT_TRUE(v.valid);
    EXPECT_EQ(x.t(v.protocol), "SIP");
    EXPECT_EQ(x.t(v.version), "2.0");
    EXPECT_EQ(x.t(v.transport), "UDP");
    EXPECT_EQ(v.sent_by.kind, HostKind::ipv4);
    EXPECT_EQ(x.t(v.sent_by.host), "192.168.1.10");
    EXPECT_EQ(v.sent_by.ip, *IpAddr::parse("192.168.1.10"));
    EXPECT_EQ(v.sent_by.port_num, 5062);
    EXPECT_EQ(x.t(v.sent_by.port), "5062");
    EXPECT_EQ(x.t(v.branch.value), "z9hG4bK776");
    EXPECT_TRUE(v.rport.present);
    EXPECT_FALSE(v.rport.has_value);
    EXPECT_EQ(x.t(v.rport.whole), ";rport");
    EXPECT_EQ(x.t(v.params), ";branch=z9hG4bK776;rport");
    EXPECT_EQ(x.t(v.value), "SIP/2.0/UDP 192.168.1.10:5062;branch=z9hG4bK776;rport");
    EXPECT_EQ(v.param_count, 2);
    EXPECT_FALSE(v.received.present);
}

TEST(Via, ListsAcrossAndWithinHeaders) {
    Vias x("Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com:5070;branch=z9hG4bK2\n"
           "v: SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bK3;received=2001:db8::1;rport=5061\n");
    ASSERT_EQ(x.v.size(), 3u);
    EXPECT_EQ(x.t(x.v[0].sent_by.host), "a.example.com");
    EXPECT_EQ(x.v[0].sent_by.kind, HostKind::name);
    EXPECT_FALSE(x.v[0].sent_by.has_port());
    EXPECT_EQ(x.v[0].effective_port(x.m.buf), 5060);
    EXPECT_EQ(x.t(x.v[1].transport), "TCP");
    EXPECT_EQ(x.v[1].sent_by.port_num, 5070);
    EXPECT_EQ(x.v[2].sent_by.kind, HostKind::ipv6);
    EXPECT_TRUE(x.v[2].sent_by.bracketed);
    EXPECT_EQ(x.t(x.v[2].sent_by.host), "[2001:db8::9]");
    EXPECT_EQ(x.v[2].sent_by.ip, *IpAddr::parse("2001:db8::9"));
    EXPECT_EQ(x.t(x.v[2].received.value), "2001:db8::1");
    EXPECT_EQ(x.t(x.v[2].rport.value), "5061");
}

TEST(Via, TlsDefaultPortIs5061) {
    Vias x("Via: SIP/2.0/TLS host.example.com;branch=z9hG4bK1\n");
    ASSERT_TRUE(x.v[0].valid);
    EXPECT_EQ(x.v[0].effective_port(x.m.buf), 5061);
}

TEST(Via, LwsEverywhere) {
    Vias x("Via  : SIP  /   2.0\n /UDP\n    192.0.2.2 : 5070 ;  branch = z9hG4bK1 ; rport\n");
    ASSERT_EQ(x.v.size(), 1u);
    ASSERT_TRUE(x.v[0].valid);
    EXPECT_EQ(x.t(x.v[0].transport), "UDP");
    EXPECT_EQ(x.t(x.v[0].sent_by.host), "192.0.2.2");
    EXPECT_EQ(x.v[0].sent_by.port_num, 5070);
    EXPECT_EQ(x.t(x.v[0].branch.value), "z9hG4bK1");
    EXPECT_TRUE(x.v[0].rport.present);
}

TEST(Via, QuotedAndBracketedParamValues) {
    Vias x("Via: SIP/2.0/UDP h;x=\"a;b,c\";maddr=[::1];ttl=1\n");
    ASSERT_TRUE(x.v[0].valid);
    EXPECT_EQ(x.v[0].param_count, 3);
    EXPECT_EQ(x.t(x.v[0].maddr.value), "[::1]");
    EXPECT_EQ(x.t(x.v[0].ttl.value), "1");
}

TEST(Via, UnbracketedIpv6IsReadButMarked) {
    Vias x("Via: SIP/2.0/UDP fe80::2:5060;branch=z9hG4bK1\nVia: SIP/2.0/UDP 2001:db8::1:2:3:4:5:5060;branch=z9hG4bK2\n");
    ASSERT_EQ(x.v.size(), 2u);
    ASSERT_TRUE(x.v[0].valid);
    EXPECT_EQ(x.v[0].sent_by.kind, HostKind::ipv6);
    EXPECT_FALSE(x.v[0].sent_by.bracketed);
    // The whole run is a valid address, so it is read as one with no port (RFC 5118 4.2).
    EXPECT_EQ(x.v[0].sent_by.ip, *IpAddr::parse("fe80::2:5060"));
    EXPECT_FALSE(x.v[0].sent_by.has_port());
    ASSERT_TRUE(x.v[1].valid);
    EXPECT_EQ(x.v[1].sent_by.ip, *IpAddr::parse("2001:db8::1:2:3:4:5"));
    EXPECT_EQ(x.v[1].sent_by.port_num, 5060);
}

TEST(Via, BadValuesAreFlagged) {
    for (const char* bad : {"Via: SIP/2.0/UDP 192.0.2.15;;,;,,\n", "Via: SIP/2.0 192.0.2.1\n", "Via: SIP/2.0/UDP\n",
                            "Via: SIP/2.0/UDP host:99999\n", "Via: SIP/2.0/UDP host:\n", "Via: SIP/2.0/UDP [::1\n",
                            "Via: SIP/2.0/UDP 999.1.1.1\n", "Via: SIP/2.0/UDP h;x=\"open\n",
                            "Via: SIP/2.0/UDP h junk\n", "Via: SIP/2.0/UDPh\n"}) {
        Vias x(bad);
        ASSERT_FALSE(x.v.empty()) << bad;
        EXPECT_FALSE(x.v.back().valid) << bad;
    }
}

TEST(Via, TopVia) {
    Parsed m(crlf("SIP/2.0 200 OK\nTo: a\nv: SIP/2.0/UDP first;branch=1, SIP/2.0/UDP second\nVia: SIP/2.0/UDP third\n\n"));
    Via v;
    ASSERT_TRUE(top_via(m.buf, m.mv(), *m, v));
    EXPECT_EQ(m.t(v.sent_by.host), "first");
    Parsed none(crlf("SIP/2.0 200 OK\nTo: a\n\n"));
    EXPECT_FALSE(top_via(none.buf, none.mv(), *none, v));
}

TEST(Via, CapacityIsRespected) {
    Vias x("Via: SIP/2.0/UDP a, SIP/2.0/UDP b, SIP/2.0/UDP c\n");
    ASSERT_EQ(x.v.size(), 3u);
    Via one[2];
    EXPECT_EQ(parse_via_values(x.m.buf, x.m.mv(), x.m->headers[0].value, one, 2), 2u);
}

// ";branch=" and ";rport" are told from one 8-byte load (via.cpp); with white space after the ';'
// the same parameter takes the general path. Both must read the same names, values and slots,
// for the usual spellings and for every near miss of them.
TEST(Via, KnownParamsReadAsTheGeneralPathDoes) {
    const auto summary = [](const Vias& x) {
        std::string s;
        for (const Via& v : x.v) {
            s += v.valid ? "valid " : "invalid ";
            s += "count=" + std::to_string(v.param_count);
            const auto one = [&](const char* slot, const Param& p) {
                s += std::string(" ") + slot + (p.present ? "=" : ":absent");
                if (p.present) s += std::string(x.t(p.name)) + (p.has_value ? "[" + std::string(x.t(p.value)) + "]" : "");
            };
            one("branch", v.branch);
            one("rport", v.rport);
            one("received", v.received);
            s += "; ";
        }
        return s;
    };
    for (const char* params :
         {";branch=z9hG4bK1;rport", ";BRANCH=z9hG4bK1;RPort", ";rport=5060;branch=z9", ";rportx;branch=b", ";rport-1",
          ";branchy=1", ";branch;rport", ";branch =z9", ";branch= z9", ";branch=\"q;v\"", ";branch=", ";rport",
          ";rport ", ";rport=", ";rport =7", ";rport;received=10.0.0.1", ";branch=a,SIP/2.0/UDP h2;rport",
          ";brAnch=x;rPORT=1", ";branch\t=x", ";rport\"", ";rport<"}) {
        const std::string fast = std::string("Via: SIP/2.0/UDP 10.0.0.1:5060") + params + "\n";
        std::string general;  // a space after every ';' outside quotes: the general path
        bool quoted = false;
        for (char c : fast) {
            general += c;
            quoted ^= c == '"';
            if (c == ';' && !quoted) general += ' ';
        }
        Vias a(fast), b(general);
        EXPECT_EQ(summary(a), summary(b)) << params;
    }
    Vias x("Via: SIP/2.0/UDP 10.0.0.1;BRANCH=z9hG4bK7;RPORT=5062\n");
    ASSERT_TRUE(x.v[0].valid);
    EXPECT_EQ(x.t(x.v[0].branch.value), "z9hG4bK7");
    EXPECT_EQ(x.t(x.v[0].branch.whole), ";BRANCH=z9hG4bK7");
    EXPECT_EQ(x.t(x.v[0].rport.value), "5062");
    Vias y("Via: SIP/2.0/UDP 10.0.0.1;rportx;branchy=1\n");
    EXPECT_FALSE(y.v[0].rport.present);
    EXPECT_FALSE(y.v[0].branch.present);
    EXPECT_EQ(y.v[0].param_count, 2);
}

// A Via value that ends with the datagram: fewer than 8 bytes after the ';' (no word to load).
TEST(Via, ParamsAtTheEndOfTheBuffer) {
    for (const std::string& buf : {std::string("SIP/2.0/UDP h;rport"), std::string("SIP/2.0/UDP h;branch=z"),
                                  std::string("SIP/2.0/UDP h;rport=1"), std::string("SIP/2.0/UDP h;branch")}) {
        std::vector<simd::BlockMasks> masks(simd::blocks_for(buf.size()));
        simd::scan_scalar(reinterpret_cast<const uint8_t*>(buf.data()), buf.size(), masks.data());
        Via v;
        ASSERT_EQ(parse_via_values(buf, MaskView{masks.data(), static_cast<uint32_t>(buf.size())},
                                   Slice{0, static_cast<uint32_t>(buf.size())}, &v, 1),
                  1u)
            << buf;
        EXPECT_TRUE(v.valid) << buf;
        EXPECT_EQ(v.param_count, 1) << buf;
        EXPECT_TRUE(v.rport.present || v.branch.present) << buf;
    }
}

// parse_via_values reads the usual via-parm ("SIP/2.0/UDP", an IPv4 literal, ";branch=" and
// ";rport" only) by a fast path of its own. Every field it fills must be what the general path
// fills, for the usual spellings, their near misses and random mutations of both, at the end of
// the buffer and before more bytes (the fast path's loads read ahead of the value).
TEST(Via, UsualViaParmReadAsTheGeneralPathDoes) {
    const std::vector<std::string> seeds = {
        "SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK0x;rport",
        "SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK0x;rport",
        "SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bK-524287-1---a3f5c9d2e1b0",
        "SIP/2.0/UDP 10.0.0.1:5060;rport=40000;branch=z9hG4bKabc",
        "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc,SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKdef;rport",
        "SIP/2.0/UDP 10.0.0.1:5060;BRANCH=z9hG4bKabc;RPORT",
        "SIP/2.0/UDP 10.0.0.1:5060;branch=z9;rport;received=1.2.3.4",
        "SIP/2.0/UDP 10.0.0.1:5060",
        "SIP/2.0/UDP 10.0.0.1",
        "SIP/2.0/UDP 10.0.0.1:65535;branch=x",
        "SIP/2.0/UDP 10.0.0.1:50601;branch=x",
        "SIP/2.0/UDP 10.0.0.1:506;branch=x",
        "SIP/2.0/UDP 10.0.0.1:65536;branch=x",
        "SIP/2.0/UDP 10.0.0.1:0;branch=x",
        "SIP/2.0/UDP 10.0.0.1:123456;branch=x",
        "SIP/2.0/UDP 10.0.0.1: 5060;branch=x",
        "SIP/2.0/UDP 10.0.0.1 ;branch=x",
        "SIP/2.0/UDP 10.0.0.1;branch=x ;rport",
        "SIP/2.0/UDP 10.0.0.1;branch=\"x;y\";rport",
        "SIP/2.0/UDP 10.0.0.1;branch=;rport",
        "SIP/2.0/UDP 10.0.0.1;branch;rport=",
        "SIP/2.0/UDP 10.0.0.1;rportx;branch=x",
        "SIP/2.0/UDP 10.0.0.1a;branch=x",
        "SIP/2.0/UDP 256.0.0.1;branch=x",
        "SIP/2.0/UDP 1.2.3;branch=x",
        "SIP/2.0/UDP 1.2.3.4.5;branch=x",
        "SIP/2.0/UDP\t10.0.0.1;branch=x",
        "SIP/2.0/UDP  10.0.0.1;branch=x",
        "SIP/2.0/TCP 10.0.0.1;branch=x",
        "SIP/2.0/udp 10.0.0.1;branch=x",
        "SIP/2.0/UDP [2001:db8::1]:5060;branch=x",
        "SIP/2.0/UDP pbx.example.com:5060;branch=x;rport",
        "SIP/2.0/UDP 10.0.0.1;branch=x;rport;rport=7;branch=y",
        "SIP/2.0/UDP 10.0.0.1;branch=x,",
        "SIP/2.0/UDP 10.0.0.1;branch=x<",
        "SIP/2.0/UDP 10.0.0.1;branch=x\x01y",
    };
    const std::string kNearMisses = ";,:=. \t\"<>/0123456789abrtpUDPSI\r\n\x01\x7f";  // what a mutation puts in
    std::mt19937_64 rng(20261203);
    std::size_t cases = 0, usual = 0;
    for (const std::string& seed : seeds) {
        for (int round = 0; round < 400; ++round) {
            const std::string value = round == 0 ? seed : test::mutate(seed, rng, kNearMisses);
            for (const std::string& after : {std::string(), std::string("\r\nMax-Forwards: 70\r\n\r\n")}) {
                const std::string buf = value + after;
                const Slice s{0, static_cast<uint32_t>(value.size())};
                std::vector<simd::BlockMasks> masks(simd::blocks_for(buf.size()) + 1);
                simd::scan_scalar(reinterpret_cast<const uint8_t*>(buf.data()), buf.size(), masks.data());
                const MaskView mv{masks.data(), static_cast<uint32_t>(buf.size())};
                Via a[4], b[4];
                const std::size_t na = parse_via_values(buf, mv, s, a, 4);
                const std::size_t nb = detail::parse_via_values_general(buf, s, b, 4);
                ASSERT_EQ(na, nb) << value;
                for (std::size_t k = 0; k < na; ++k) ASSERT_EQ(all_fields(a[k]), all_fields(b[k])) << value;
                ++cases;
                if (na > 0 && a[0].valid && a[0].sent_by.kind == HostKind::ipv4 && text(buf, a[0].transport) == "UDP" &&
                    !a[0].received.present && !a[0].maddr.present && !a[0].ttl.present)
                    ++usual;
            }
        }
    }
    EXPECT_EQ(cases, seeds.size() * 400 * 2);
    EXPECT_GT(usual, cases / 10) << "too few usual via-parms: the fast path was hardly tried";
    std::printf("[ via ] %zu values compared, %zu of them usual\n", cases, usual);
}
