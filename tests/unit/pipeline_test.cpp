// The per-packet logic on frames built on the stack, no EAL: parse, rewrite, lengths and
// checksums, counters, the grow handshake.
#include <farend/net/checksum.hpp>
#include <farend/pipeline/worker.hpp>
#include <farend/rewrite/message_hosts.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <set>
#include <string>
#include <vector>

using namespace farend;
using namespace farend::pipeline;

namespace {

const char* kNatted =
    "REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\r\n"
    "Contact: <sip:a@192.168.1.10:5060>\r\nContent-Length: 0\r\n\r\n";

struct Built {
    std::vector<uint8_t> bytes;
    uint32_t l3 = 0;
};

// Ethernet [+ VLAN tags] + IPv4 or IPv6 [+ hop-by-hop] + UDP + payload, checksums set.
Built frame(const std::string& payload, bool v6 = false, int vlans = 0, bool hbh = false, uint16_t dport = 5060,
            bool zero_udp_checksum = false, uint16_t frag = 0) {
    Built b;
    auto& f = b.bytes;
    f.assign(12, 0x02);
    for (int i = 0; i < vlans; ++i) {
        f.insert(f.end(), {static_cast<uint8_t>(i == 0 && vlans > 1 ? 0x88 : 0x81), static_cast<uint8_t>(i == 0 && vlans > 1 ? 0xa8 : 0x00), 0x00, 0x64});
    }
    f.insert(f.end(), {static_cast<uint8_t>(v6 ? 0x86 : 0x08), static_cast<uint8_t>(v6 ? 0xdd : 0x00)});
    b.l3 = static_cast<uint32_t>(f.size());
    const uint32_t udp_len = 8 + static_cast<uint32_t>(payload.size());
    const IpAddr src = v6 ? *IpAddr::parse("2001:db8::5") : *IpAddr::parse("203.0.113.5");
    const IpAddr dst = v6 ? *IpAddr::parse("2001:db8::10") : *IpAddr::parse("198.51.100.10");
    if (v6) {
        const uint32_t plen = udp_len + (hbh ? 8 : 0);
        f.insert(f.end(), {0x60, 0, 0, 0, static_cast<uint8_t>(plen >> 8), static_cast<uint8_t>(plen),
                           static_cast<uint8_t>(hbh ? 0 : 17), 64});
        f.insert(f.end(), src.bytes().begin(), src.bytes().end());
        f.insert(f.end(), dst.bytes().begin(), dst.bytes().end());
        if (hbh) f.insert(f.end(), {17, 0, 1, 4, 0, 0, 0, 0});  // next header UDP, PadN
    } else {
        const uint32_t total = 20 + udp_len;
        f.insert(f.end(), {0x45, 0, static_cast<uint8_t>(total >> 8), static_cast<uint8_t>(total), 0, 1,
                           static_cast<uint8_t>(frag >> 8), static_cast<uint8_t>(frag), 64, 17, 0, 0});
        f.insert(f.end(), src.bytes().begin(), src.bytes().begin() + 4);
        f.insert(f.end(), dst.bytes().begin(), dst.bytes().begin() + 4);
        net::fix_ipv4_header_checksum(f.data() + b.l3, 20);
    }
    const std::size_t l4 = f.size();
    f.insert(f.end(), {0x9c, 0x40, static_cast<uint8_t>(dport >> 8), static_cast<uint8_t>(dport),
                       static_cast<uint8_t>(udp_len >> 8), static_cast<uint8_t>(udp_len), 0, 0});
    f.insert(f.end(), payload.begin(), payload.end());
    if (!zero_udp_checksum) net::fix_udp_checksum(src, dst, f.data() + l4, udp_len, false);
    return b;
}

struct Outcome {
    Action action;
    std::vector<uint8_t> out;
};

Outcome run(Worker& w, const Built& b, Direction d = Direction::access_to_core, uint32_t extra = 512, bool may_grow = false) {
    std::vector<uint8_t> buf = b.bytes;
    buf.resize(b.bytes.size() + extra);
    Frame f{buf.data(), static_cast<uint32_t>(b.bytes.size()), static_cast<uint32_t>(buf.size()), may_grow, 0};
    const Action a = w.process(f, d);
    buf.resize(f.len);
    return {a, buf};
}

void expect_valid(const std::vector<uint8_t>& f) {
    net::FrameView v;
    ASSERT_EQ(net::parse_frame(f.data(), static_cast<uint32_t>(f.size()), v), net::FrameStatus::udp);
    EXPECT_EQ(v.ip_end, f.size());
    if (!v.ipv6) {
        EXPECT_EQ(net::ones_sum(f.data() + v.l3_off, 20), 0xffff) << "IPv4 header checksum";
    }
    const uint32_t udp_len = net::load_be16(f.data() + v.l4_off + 4);
    if (net::load_be16(f.data() + v.l4_off + 6) != 0) {
        // Receiver's check over pseudo-header and datagram.
        const std::size_t alen = v.ipv6 ? 16 : 4;
        uint32_t s = net::ones_sum(v.src.bytes().data(), alen) + net::ones_sum(v.dst.bytes().data(), alen) + 17u + udp_len +
                     net::ones_sum(f.data() + v.l4_off, udp_len);
        while (s >> 16) s = (s & 0xffff) + (s >> 16);
        EXPECT_EQ(s, 0xffffu) << "UDP checksum";
    }
}

std::string payload_of(const std::vector<uint8_t>& f) {
    net::FrameView v;
    EXPECT_EQ(net::parse_frame(f.data(), static_cast<uint32_t>(f.size()), v), net::FrameStatus::udp);
    return std::string(reinterpret_cast<const char*>(f.data() + v.payload_off()), v.payload_len());
}

}  // namespace

TEST(Pipeline, Ipv4NatRewriteFixesLengthsAndChecksums) {
    Config cfg;
    Worker w(cfg);
    const Built b = frame(kNatted);
    const Outcome r = run(w, b);
    EXPECT_EQ(r.action, Action::forward);
    EXPECT_GT(r.out.size(), b.bytes.size());
    expect_valid(r.out);
    EXPECT_NE(payload_of(r.out).find("received=203.0.113.5;rport=40000"), std::string::npos);
    EXPECT_NE(payload_of(r.out).find("<sip:a@203.0.113.5:40000>"), std::string::npos);
    EXPECT_EQ(w.counters().get(Counter::sip_messages), 1u);
    EXPECT_EQ(w.counters().get(Counter::rewritten), 1u);
    // Each test that fired counted once under its own name, the others not at all (the default
    // tests: contact-port-mismatch and the SDP ones are off, the source is public).
    for (size_t t = 0; t < nat::kTestCount; ++t) {
        const auto test = static_cast<nat::Test>(t);
        const bool fired = test == nat::Test::contact_private || test == nat::Test::via_source_mismatch ||
                           test == nat::Test::via_private || test == nat::Test::contact_source_mismatch;
        EXPECT_EQ(w.counters().settled().v[kNatBase + t], fired ? 1u : 0u) << nat::test_name(test);
    }
}

// A worker counts each NATed message once, under the set of tests that fired; each test's counter
// is made from those sets by settle(), in a copy (the worker's own never holds them), and summed
// across workers as the sets are.
TEST(Counters, EachTestCountsTheVerdictsItIsPartOf) {
    using nat::bit;
    using nat::Test;
    Counters a, b;
    const nat::TestMask one = bit(Test::via_private) | bit(Test::via_source_mismatch);
    const nat::TestMask two = bit(Test::via_private) | bit(Test::contact_private) | bit(Test::sdp_source_mismatch);
    a.verdict(one);
    a.verdict(one);
    a.verdict(two);
    b.verdict(two);
    b.verdict(nat::kAllTests);
    EXPECT_EQ(a.v[kNatBase + static_cast<size_t>(Test::via_private)], 0u) << "a worker's counters are not settled";
    const Counters s = a.settled();
    std::array<uint64_t, nat::kTestCount> want{};
    want[static_cast<size_t>(Test::via_private)] = 3;
    want[static_cast<size_t>(Test::via_source_mismatch)] = 2;
    want[static_cast<size_t>(Test::contact_private)] = 1;
    want[static_cast<size_t>(Test::sdp_source_mismatch)] = 1;
    for (size_t t = 0; t < nat::kTestCount; ++t)
        EXPECT_EQ(s.v[kNatBase + t], want[t]) << nat::test_name(static_cast<Test>(t));
    Counters sum;
    sum += a;
    sum += b;
    sum.settle();
    for (size_t t = 0; t < nat::kTestCount; ++t) {
        const size_t b_count = 1 + (t == static_cast<size_t>(Test::via_private) || t == static_cast<size_t>(Test::contact_private) ||
                                    t == static_cast<size_t>(Test::sdp_source_mismatch));
        EXPECT_EQ(sum.v[kNatBase + t], want[t] + b_count) << nat::test_name(static_cast<Test>(t));
    }
    sum.settle();  // settling twice changes nothing
    EXPECT_EQ(sum.v[kNatBase + static_cast<size_t>(Test::via_private)], 5u);
}

TEST(Pipeline, VlanQinQAndIpv6ExtensionHeaders) {
    Config cfg;
    Worker w(cfg);
    for (const Built& b : {frame(kNatted, false, 1), frame(kNatted, false, 2), frame(kNatted, true, 0, true),
                           frame(kNatted, true, 1, false)}) {
        const Outcome r = run(w, b);
        expect_valid(r.out);
        EXPECT_EQ(std::vector<uint8_t>(r.out.begin(), r.out.begin() + b.l3), std::vector<uint8_t>(b.bytes.begin(), b.bytes.begin() + b.l3))
            << "L2 header and tags are kept";
    }
    EXPECT_EQ(w.counters().get(Counter::rewritten), 4u);
}

namespace {
// An IPv6 frame whose extension header is a fragment header with `frag_data` (offset << 3 | M)
// in place of the hop-by-hop header: the same 8 bytes, so lengths and checksums stay right.
Built ipv6_fragment_header(uint16_t frag_data) {
    Built b = frame(kNatted, true, 0, true);
    b.bytes[b.l3 + 6] = 44;  // next header: fragment
    const std::size_t h = b.l3 + 40;
    const uint8_t fh[8] = {17, 0, static_cast<uint8_t>(frag_data >> 8), static_cast<uint8_t>(frag_data), 0, 0, 0x12, 0x34};
    std::copy(fh, fh + 8, b.bytes.begin() + static_cast<std::ptrdiff_t>(h));
    return b;
}
}  // namespace

// RFC 6946: an IPv6 atomic fragment (a fragment header with offset 0 and M clear) is a whole
// datagram, processed on its own: rewritten as any other, its fragment header kept. A real piece
// (M set, or an offset) is forwarded as it came; a fragment header cut short is a bad frame.
TEST(Pipeline, Ipv6AtomicFragmentIsAWholeDatagram) {
    Config cfg;
    Worker w(cfg);
    const Built atomic = ipv6_fragment_header(0);
    const Outcome r = run(w, atomic);
    EXPECT_EQ(r.action, Action::forward);
    expect_valid(r.out);
    // L2 and the IPv6 header but its payload length (grown), then the fragment header: as they came.
    const auto l3 = static_cast<std::ptrdiff_t>(atomic.l3);
    EXPECT_EQ(std::vector<uint8_t>(r.out.begin(), r.out.begin() + l3 + 4), std::vector<uint8_t>(atomic.bytes.begin(), atomic.bytes.begin() + l3 + 4));
    EXPECT_EQ(std::vector<uint8_t>(r.out.begin() + l3 + 6, r.out.begin() + l3 + 48),
              std::vector<uint8_t>(atomic.bytes.begin() + l3 + 6, atomic.bytes.begin() + l3 + 48))
        << "the fragment header is kept";
    const std::string out = payload_of(r.out);
    EXPECT_NE(out.find("Contact: <sip:a@[2001:db8::5]:40000>"), std::string::npos) << out;
    EXPECT_NE(out.find(";received=2001:db8::5;rport=40000"), std::string::npos) << out;
    EXPECT_EQ(w.counters().get(Counter::rewritten), 1u);

    for (const uint16_t piece : {uint16_t{1}, uint16_t{8}, uint16_t{9}}) {  // M set; offset 8 bytes; both
        const Built b = ipv6_fragment_header(piece);
        net::FrameView v;
        EXPECT_EQ(net::parse_frame(b.bytes.data(), static_cast<uint32_t>(b.bytes.size()), v), net::FrameStatus::fragment) << piece;
        const Outcome p = run(w, b);
        EXPECT_EQ(p.action, Action::forward);
        EXPECT_EQ(p.out, b.bytes) << "a piece goes on as it came";
    }
    EXPECT_EQ(w.counters().get(Counter::fragments), 3u) << "the pieces, not the atomic fragment";
    EXPECT_EQ(w.counters().get(Counter::fragments_passed), 3u);
    Built cut = ipv6_fragment_header(0);
    cut.bytes.resize(cut.l3 + 44);  // 4 bytes of the fragment header
    cut.bytes[cut.l3 + 4] = 0;
    cut.bytes[cut.l3 + 5] = 4;  // payload length: those 4 bytes
    net::FrameView v;
    EXPECT_EQ(net::parse_frame(cut.bytes.data(), static_cast<uint32_t>(cut.bytes.size()), v), net::FrameStatus::truncated);
    const Outcome c = run(w, cut);
    EXPECT_EQ(c.out, cut.bytes);
    EXPECT_EQ(w.counters().get(Counter::rewritten), 1u);
    EXPECT_EQ(w.counters().get(Counter::bad_frames), 1u);
}

TEST(Pipeline, ZeroUdpChecksumStaysZeroOverIpv4) {
    Config cfg;
    Worker w(cfg);
    const Built b = frame(kNatted, false, 0, false, 5060, true);
    const Outcome r = run(w, b);
    net::FrameView v;
    ASSERT_EQ(net::parse_frame(r.out.data(), static_cast<uint32_t>(r.out.size()), v), net::FrameStatus::udp);
    EXPECT_EQ(net::load_be16(r.out.data() + v.l4_off + 6), 0);
    EXPECT_EQ(w.counters().get(Counter::rewritten), 1u);
}

namespace {
// Flips a bit of the Via branch's last digit after the checksums were summed: a message still
// sound to parse and rewrite, in a datagram damaged on the way.
void damage_branch(Built& b) {
    b.bytes[std::string(b.bytes.begin(), b.bytes.end()).find("bK1") + 2] ^= 0x02;
}
}  // namespace

// A datagram damaged on the way (its checksums wrong) is never rewritten: new checksums summed
// over its damaged bytes would vouch for them, where its receiver would have discarded it. It is
// forwarded as it came and counted, unread: not a SIP message, no flow learnt from it.
TEST(Pipeline, DamagedDatagramsPassByteIdenticalAndCounted) {
    Config cfg;
    Worker w(cfg);
    Built payload = frame(kNatted);  // a byte of the SIP flipped after the UDP checksum was summed
    damage_branch(payload);
    Built header = frame(kNatted);  // the IPv4 header's TTL changed, its checksum not
    header.bytes[header.l3 + 8] ^= 0x10;
    Built v6 = frame(kNatted, true);  // IPv6 with a payload byte flipped
    v6.bytes[v6.bytes.size() - 1] ^= 0x20;
    Built v6_zero = frame(kNatted, true, 0, false, 5060, true);  // IPv6 without one: not allowed (RFC 8200 8.1)
    Built vlan = frame(kNatted, false, 1);
    vlan.bytes[vlan.bytes.size() - 40] ^= 0x80;
    for (const Built* b : std::initializer_list<const Built*>{&payload, &header, &v6, &v6_zero, &vlan}) {
        const Outcome r = run(w, *b);
        EXPECT_EQ(r.action, Action::forward);
        EXPECT_EQ(r.out, b->bytes);
        EXPECT_FALSE(w.observation(0).rewritten);
    }
    const auto& c = w.counters();
    EXPECT_EQ(c.get(Counter::bad_checksum), 5u);
    EXPECT_EQ(c.get(Counter::passed_unmodified), 5u);
    EXPECT_EQ(c.get(Counter::sip_messages), 0u);
    EXPECT_EQ(c.get(Counter::rewritten), 0u);
    EXPECT_EQ(c.get(Counter::nat_detected), 0u);
    // The same frames undamaged are rewritten (and an IPv4 one without a UDP checksum).
    for (const Built& b : {frame(kNatted), frame(kNatted, true), frame(kNatted, false, 1), frame(kNatted, false, 0, false, 5060, true)})
        EXPECT_NE(run(w, b).out, b.bytes);
    EXPECT_EQ(c.get(Counter::rewritten), 4u);
    EXPECT_EQ(c.get(Counter::bad_checksum), 5u);
    // --checksums ignore: rewritten all the same, the checksums summed anew.
    Config ignore;
    ignore.verify_checksums = false;
    Worker wi(ignore);
    const Outcome r = run(wi, payload);
    EXPECT_NE(r.out, payload.bytes);
    expect_valid(r.out);
    EXPECT_EQ(wi.counters().get(Counter::rewritten), 1u);
    EXPECT_EQ(wi.counters().get(Counter::bad_checksum), 0u);
}

// The UDP checksum of the payload is summed by the parser's scan, whose last partial 64-byte
// block is summed from a load that starts at an odd byte when the length is odd: every payload
// length from 1 byte (NAT keepalive-sized) to 5 blocks, damaged in its first, middle or last byte
// or in the UDP header, is caught; undamaged, each is read (a SIP message, counted). With
// --malformed drop, a damaged datagram is forwarded all the same: it was never read.
TEST(Pipeline, DamagedAtEveryPayloadLengthIsCaught) {
    Config cfg;
    cfg.malformed = MalformedAction::drop;
    Worker w(cfg);
    uint64_t sound = 0, damaged = 0;
    for (size_t len = 1; len <= 320; ++len) {
        std::string payload = kNatted;
        payload.resize(len, 'x');  // a message cut or padded: malformed mostly, summed all the same
        if (len > 120) payload[len - 1] = '\xff';
        for (const bool v6 : {false, true}) {
            const Built b = frame(payload, v6);
            const size_t l4 = b.bytes.size() - len - 8;
            for (const size_t at : {l4 + 1, l4 + 8, l4 + 8 + len / 2, b.bytes.size() - 1}) {
                Built d = b;
                d.bytes[at] ^= 0x01;
                const Outcome r = run(w, d);
                ASSERT_EQ(r.action, Action::forward) << "len " << len << " byte " << at;
                ASSERT_EQ(r.out, d.bytes) << "len " << len << " byte " << at;
                ++damaged;
                ASSERT_EQ(w.counters().get(Counter::bad_checksum), damaged) << "len " << len << " byte " << at;
            }
            run(w, b);
            ++sound;
            ASSERT_EQ(w.counters().get(Counter::sip_messages), sound) << "len " << len;
        }
    }
    EXPECT_EQ(w.counters().get(Counter::bad_checksum), damaged);
}

// After a rewrite, a verified IPv4 header's checksum is adjusted for the new total length (RFC
// 1624) instead of summed anew: the same bytes as the full sum, for every growth and shrinkage
// (odd ones too) of messages of every length parity; a damaged one is summed anew by the worker
// only under --checksums ignore, and comes out right.
TEST(Pipeline, AdjustedIpv4HeaderChecksumIsTheFullSum) {
    for (size_t len = 60; len < 200; len += 7) {
        std::string payload = kNatted;
        payload.resize(len, 'y');
        const Built b = frame(payload);
        net::FrameView v;
        ASSERT_EQ(net::parse_frame(b.bytes.data(), static_cast<uint32_t>(b.bytes.size()), v), net::FrameStatus::udp);
        for (uint32_t new_len : {uint32_t{1}, static_cast<uint32_t>(len - 1), static_cast<uint32_t>(len + 1),
                                 static_cast<uint32_t>(len + 100), static_cast<uint32_t>(len + 1001)}) {
            std::vector<uint8_t> adjusted = b.bytes, summed = b.bytes;
            adjusted.resize(b.bytes.size() + 1100);
            summed.resize(b.bytes.size() + 1100);
            const uint32_t n = net::fix_after_resize(adjusted.data(), v, new_len, false, nullptr, true);
            ASSERT_EQ(n, net::fix_after_resize(summed.data(), v, new_len, false, nullptr, false));
            ASSERT_EQ(adjusted, summed) << "len " << len << " -> " << new_len;
            ASSERT_EQ(net::ones_sum(adjusted.data() + b.l3, 20), 0xffff) << "len " << len << " -> " << new_len;
        }
    }
    Config ignore;
    ignore.verify_checksums = false;
    Worker w(ignore);
    Built damaged = frame(kNatted);
    damaged.bytes[damaged.l3 + 11] ^= 0x40;  // the header checksum itself
    const Outcome r = run(w, damaged);
    EXPECT_EQ(w.counters().get(Counter::rewritten), 1u);
    expect_valid(r.out);
}

// The port's RX checksum offload: a UDP checksum it found right is not summed again (a damaged
// one it vouches for is taken at its word); without its word, farend sums it. The IPv4 header is
// summed by farend always.
TEST(Pipeline, PortVerifiedUdpChecksumIsTaken) {
    Config cfg;
    Worker w(cfg);
    const auto port_says_good = [&w](const Built& b) {  // run() with the port's word on the UDP checksum
        std::vector<uint8_t> buf = b.bytes;
        buf.resize(b.bytes.size() + 512);
        Frame f{buf.data(), static_cast<uint32_t>(b.bytes.size()), static_cast<uint32_t>(buf.size()), false, 0};
        f.udp_checksum_good = true;
        const Action a = w.process(f, Direction::access_to_core);
        buf.resize(f.len);
        return Outcome{a, buf};
    };
    Built b = frame(kNatted);
    damage_branch(b);
    EXPECT_EQ(port_says_good(b).action, Action::forward);
    EXPECT_EQ(w.counters().get(Counter::rewritten), 1u);
    EXPECT_EQ(w.counters().get(Counter::bad_checksum), 0u);
    Built h = frame(kNatted);
    h.bytes[h.l3 + 8] ^= 0x10;  // the IPv4 header damaged: the port's word is on the UDP checksum only
    const Outcome r = port_says_good(h);
    EXPECT_EQ(r.action, Action::forward);
    EXPECT_EQ(r.out, h.bytes);
    EXPECT_EQ(w.counters().get(Counter::bad_checksum), 1u);
}

TEST(Pipeline, OtherTrafficPassesByteIdentical) {
    Config cfg;
    Worker w(cfg);
    const Built other_port = frame(kNatted, false, 0, false, 5080);
    const Built fragment = frame(kNatted, false, 0, false, 5060, false, 0x2000);  // MF set
    Built tcp = frame(kNatted);
    tcp.bytes[tcp.l3 + 9] = 6;
    net::fix_ipv4_header_checksum(tcp.bytes.data() + tcp.l3, 20);
    Built arp;
    arp.bytes.assign(42, 0);
    arp.bytes[12] = 0x08;
    arp.bytes[13] = 0x06;
    Built truncated = frame(kNatted);
    truncated.bytes.resize(30);  // the IPv4 header is cut
    for (const Built* b : std::initializer_list<const Built*>{&other_port, &fragment, &tcp, &arp, &truncated}) {
        const Outcome r = run(w, *b);
        EXPECT_EQ(r.action, Action::forward);
        EXPECT_EQ(r.out, b->bytes);
    }
    const Outcome back = run(w, frame(kNatted), Direction::core_to_access);
    EXPECT_EQ(back.out, frame(kNatted).bytes);
    const auto& c = w.counters();
    // An access port's fragments are reassembled by the dataplane first: one that comes here is
    // a piece it could not read (an IPv6 fragment header after other extension headers).
    EXPECT_EQ(c.get(Counter::fragments), 1u);
    EXPECT_EQ(c.get(Counter::fragments_passed), 1u);
    EXPECT_EQ(c.get(Counter::not_udp), 2u);
    EXPECT_EQ(c.get(Counter::bad_frames), 1u);
    EXPECT_EQ(c.get(Counter::core_to_access), 1u);
    EXPECT_EQ(c.get(Counter::passed_unmodified), 6u);
    EXPECT_EQ(c.get(Counter::sip_messages), 0u);
}

TEST(Pipeline, MalformedPassOrDrop) {
    const Built bad = frame("INVITE  sip:x SIP/2.0\r\n\r\n");
    Config pass;
    Worker wp(pass);
    EXPECT_EQ(run(wp, bad).action, Action::forward);
    EXPECT_EQ(wp.counters().get(Counter::malformed), 1u);
    EXPECT_EQ(wp.counters().v[kMalformedBase + static_cast<size_t>(sip::ParseError::bad_request_uri)], 1u);
    Config drop;
    drop.malformed = MalformedAction::drop;
    Worker wd(drop);
    EXPECT_EQ(run(wd, bad).action, Action::drop);
    EXPECT_EQ(wd.counters().get(Counter::drop_malformed), 1u);
    EXPECT_EQ(wd.counters().get(Counter::dropped), 1u);
    // An agent's CRLF keepalive is counted (malformed_empty) but forwarded byte-identical even so.
    const Built keepalive = frame("\r\n\r\n");
    const Outcome k = run(wd, keepalive);
    EXPECT_EQ(k.action, Action::forward);
    EXPECT_EQ(k.out, keepalive.bytes);
    EXPECT_EQ(wd.counters().v[kMalformedBase + static_cast<size_t>(sip::ParseError::empty)], 1u);
    EXPECT_EQ(wd.counters().get(Counter::drop_malformed), 1u);
    // So is one of four zero bytes (what farend's own --keepalive-method null4 sends); "hello"
    // and zeros is junk, dropped.
    const Built null4 = frame(std::string(4, '\0'));
    const Outcome z = run(wd, null4);
    EXPECT_EQ(z.action, Action::forward);
    EXPECT_EQ(z.out, null4.bytes);
    EXPECT_EQ(wd.counters().v[kMalformedBase + static_cast<size_t>(sip::ParseError::empty)], 2u);
    EXPECT_EQ(run(wd, frame(std::string("hello\0\0\0\0\0\0\0\0\0", 14))).action, Action::drop);
    EXPECT_EQ(wd.counters().get(Counter::drop_malformed), 2u);
    // So is a STUN Binding request (RFC 5626 4.4.2's keepalive over UDP, which the switch
    // answers): malformed_stun, forwarded byte-identical. The same 20 bytes with another magic
    // cookie are junk, dropped.
    const std::string binding("\x00\x01\x00\x00\x21\x12\xa4\x42\x5a\x1f\x03\x77\x21\x9c\x44\x01\xee\x30\x6b\x12", 20);
    const Built stun = frame(binding);
    const Outcome st = run(wd, stun);
    EXPECT_EQ(st.action, Action::forward);
    EXPECT_EQ(st.out, stun.bytes);
    EXPECT_EQ(wd.counters().v[kMalformedBase + static_cast<size_t>(sip::ParseError::stun)], 1u);
    std::string classic = binding;
    classic[7] = '\x43';
    EXPECT_EQ(run(wd, frame(classic)).action, Action::drop);
    EXPECT_EQ(wd.counters().get(Counter::drop_malformed), 3u);
    EXPECT_EQ(wd.counters().get(Counter::malformed), 6u);
}

TEST(Pipeline, GrowHandshake) {
    Config cfg;
    Worker w(cfg);
    const Built b = frame(kNatted);
    // No room and allowed to grow: nothing counted, the capacity that would do is reported.
    const Outcome g = run(w, b, Direction::access_to_core, 0, true);
    EXPECT_EQ(g.action, Action::grow);
    EXPECT_EQ(g.out, b.bytes);
    EXPECT_EQ(w.counters().get(Counter::sip_messages), 0u);
    // Without growing: counted as no room, forwarded unmodified.
    const Outcome n = run(w, b, Direction::access_to_core, 0, false);
    EXPECT_EQ(n.action, Action::forward);
    EXPECT_EQ(n.out, b.bytes);
    EXPECT_EQ(w.counters().get(Counter::rewrite_no_room), 1u);
    EXPECT_EQ(w.counters().get(Counter::passed_unmodified), 1u);
}

TEST(Pipeline, KindClassesOfTheUsualMessagesDiffer) {
    std::set<uint8_t> seen;
    for (const char* start : {"REGISTER ", "INVITE ", "SIP/2.0 200", "ACK ", "BYE ", "OPTIONS "}) {
        const uint8_t c = kind_class(reinterpret_cast<const uint8_t*>(start), static_cast<uint32_t>(std::strlen(start)));
        EXPECT_LT(c, kKindClasses) << start;
        EXPECT_TRUE(seen.insert(c).second) << start << " shares class " << int{c};
    }
    // Fewer than four bytes: one class, nothing read past them.
    const uint8_t three[3] = {'A', 'C', 'K'};
    EXPECT_EQ(kind_class(three, 3), kind_class(nullptr, 0));
}

// Records the order in which a worker reads its messages: each message's To host, as the rules
// would ask for it. No rule: the global settings apply, as without rules.
class OrderRecorder final : public rewrite::PolicySource {
public:
    std::vector<std::string> to_hosts;
    [[nodiscard]] bool wants_domains() const noexcept override { return true; }
    [[nodiscard]] bool uses_alias() const noexcept override { return false; }
    const rewrite::Policy* resolve(const rewrite::PolicyQuery& q, unsigned) noexcept override {
        to_hosts.emplace_back(q.message->to());
        return nullptr;
    }
};

TEST(Pipeline, BurstIsReadKindByKindWithEachFramesOwnResults) {
    // Six kinds interleaved, with frames that are no SIP candidate (another port), malformed,
    // damaged and a keepalive among them; each message's To host names its place in the burst.
    std::vector<Built> burst;
    std::vector<std::string> payloads;
    const char* kinds[] = {"REGISTER sip:x SIP/2.0", "INVITE sip:b@x SIP/2.0", "SIP/2.0 200 OK", "ACK sip:b@x SIP/2.0",
                           "BYE sip:b@x SIP/2.0", "OPTIONS sip:x SIP/2.0"};
    const char* sdp = "v=0\r\no=a 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    for (int i = 0; i < 40; ++i) {
        const int kind = (i * 5 + i / 6) % 6;  // interleaved, not in turns
        std::string body = kind == 1 || kind == 2 ? sdp : "";
        std::string msg = std::string(kinds[kind]) + "\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK" +
                          std::to_string(i) + "\r\nTo: <sip:b@h" + std::to_string(i) +
                          ".example>\r\nFrom: <sip:a@x>;tag=1\r\nCall-ID: c\r\nCSeq: 1 X\r\n" +
                          (kind == 3 || kind == 4 ? "" : "Contact: <sip:a@192.168.1.10:5060>\r\n") +
                          (body.empty() ? "" : "Content-Type: application/sdp\r\n") +
                          "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        Built b = frame(msg);
        if (i == 7) b.bytes.back() ^= 0x20;  // damaged on the way: the UDP checksum no longer holds
        payloads.push_back(msg);
        burst.push_back(std::move(b));
    }
    burst[11] = frame(payloads[11], false, 0, false, 9999);  // not SIP's port: not read
    burst[13] = frame("INVITE  sip:x SIP/2.0\r\n\r\n");      // malformed
    burst[17] = frame("\r\n\r\n");                           // a keepalive
    // The frames read as SIP messages: all but the damaged one, the other port's, the malformed
    // one and the keepalive.
    const auto read = [](uint16_t i) { return i != 7 && i != 11 && i != 13 && i != 17; };
    const auto n = static_cast<uint16_t>(burst.size());
    ASSERT_LE(n, Worker::kMaxBurst);

    Config cfg;
    OrderRecorder one_by_one, in_a_burst;
    std::atomic<rewrite::PolicySource*> rules_a{&one_by_one}, rules_b{&in_a_burst};
    Worker a(cfg), b(cfg);
    a.set_rules(&rules_a, 0);
    b.set_rules(&rules_b, 0);
    std::vector<std::vector<uint8_t>> bufs_b(n);
    std::vector<Frame> frames(n);
    std::vector<Action> actions(n);
    for (uint16_t i = 0; i < n; ++i) {
        bufs_b[i] = burst[i].bytes;
        bufs_b[i].resize(burst[i].bytes.size() + 512);
        frames[i] = Frame{bufs_b[i].data(), static_cast<uint32_t>(burst[i].bytes.size()),
                          static_cast<uint32_t>(bufs_b[i].size()), false, 0};
    }
    b.process_burst(frames.data(), actions.data(), n, Direction::access_to_core);
    for (uint16_t i = 0; i < n; ++i) {
        SCOPED_TRACE(i);
        const Outcome alone = run(a, burst[i]);
        EXPECT_EQ(actions[i], alone.action);
        bufs_b[i].resize(frames[i].len);
        EXPECT_EQ(bufs_b[i], alone.out);
        EXPECT_EQ(frames[i].observed, read(i));
        if (!read(i)) continue;
        const flow::Observation& x = b.observation(i);
        const flow::Observation& y = a.observation(0);
        EXPECT_EQ(x.agent, y.agent);
        EXPECT_EQ(x.fired, y.fired);
        EXPECT_EQ(x.rewritten, y.rewritten);
        EXPECT_EQ(x.is_register, y.is_register);
        EXPECT_EQ(x.bytes, y.bytes);
    }
    EXPECT_EQ(a.counters().v, b.counters().v);
    EXPECT_EQ(a.counters().verdicts, b.counters().verdicts);
    EXPECT_EQ(b.counters().get(Counter::rewritten), 36u);
    // The burst's messages were read kind by kind, each kind in the burst's order.
    std::vector<std::pair<uint8_t, std::string>> want;
    for (uint16_t i = 0; i < n; ++i)
        if (read(i))
            want.emplace_back(kind_class(reinterpret_cast<const uint8_t*>(payloads[i].data()), static_cast<uint32_t>(payloads[i].size())),
                              "h" + std::to_string(i) + ".example");
    std::stable_sort(want.begin(), want.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    std::vector<std::string> want_hosts;
    for (const auto& w : want) want_hosts.push_back(w.second);
    EXPECT_EQ(in_a_burst.to_hosts, want_hosts);
    EXPECT_NE(in_a_burst.to_hosts, one_by_one.to_hosts);  // the burst's own order was another
    EXPECT_EQ(one_by_one.to_hosts.size(), want_hosts.size());
}

TEST(Pipeline, CounterNamesAreUniqueAndDescribed) {
    for (size_t i = 0; i < kAllCounters; ++i) {
        EXPECT_FALSE(counter_name(i).empty());
        EXPECT_FALSE(counter_description(i).empty());
        for (size_t j = 0; j < i; ++j) EXPECT_NE(counter_name(i), counter_name(j));
    }
    EXPECT_EQ(counter_name(kNatBase), "nat_contact_private");
}

TEST(Pipeline, ChecksumOffloadLeavesWhatTheNicNeeds) {
    Config cfg;
    Worker w(cfg);
    for (bool v6 : {false, true}) {
        const Built b = frame(kNatted, v6);
        std::vector<uint8_t> buf = b.bytes;
        buf.resize(b.bytes.size() + 512);
        Frame f{buf.data(), static_cast<uint32_t>(b.bytes.size()), static_cast<uint32_t>(buf.size()), false, 0};
        f.offload = true;
        ASSERT_EQ(w.process(f, Direction::access_to_core), Action::forward);
        buf.resize(f.len);
        ASSERT_TRUE(f.offloaded);
        EXPECT_EQ(f.offload_ipv6, v6);
        EXPECT_TRUE(f.offload_udp);
        EXPECT_EQ(f.offload_l2, b.l3);
        net::FrameView v;
        ASSERT_EQ(net::parse_frame(buf.data(), f.len, v), net::FrameStatus::udp);
        EXPECT_EQ(f.offload_l3, v.l4_off - v.l3_off);
        if (!v6) {
            EXPECT_EQ(net::load_be16(buf.data() + v.l3_off + 10), 0) << "IPv4 header checksum left to the NIC";
        }
        // Do what the NIC does: sum the datagram (its checksum field holds the pseudo-header sum)
        // and store the complement; the result must verify.
        uint8_t* udp = buf.data() + v.l4_off;
        const uint32_t udp_len = net::load_be16(udp + 4);
        net::store_be16(udp + 6, static_cast<uint16_t>(~net::ones_sum(udp, udp_len)));
        if (!v6) net::fix_ipv4_header_checksum(buf.data() + v.l3_off, 20);
        expect_valid(buf);
    }
}

namespace {

// A frame from the switch: source port 5060, to dport on the agent side.
Built from_switch(const std::string& payload, bool v6 = false, uint16_t dport = 5060) {
    Built b = frame(payload, v6, 0, false, dport);
    net::FrameView v;
    EXPECT_EQ(net::parse_frame(b.bytes.data(), static_cast<uint32_t>(b.bytes.size()), v), net::FrameStatus::udp);
    net::store_be16(b.bytes.data() + v.l4_off, 5060);
    net::fix_udp_checksum(v.src, v.dst, b.bytes.data() + v.l4_off, 8 + v.payload_len(), false);
    return b;
}

class FakeDirectory final : public FlowDirectory {
public:
    // Knows one source (untagged).
    FakeDirectory(const char* ip, uint16_t port) : keys{flow::Key::of(*IpAddr::parse(ip), port, 0)} {}
    std::vector<flow::Key> keys;
    bool known(const flow::Key& k) const noexcept override {
        for (const auto& x : keys)
            if (std::memcmp(&x, &k, sizeof k) == 0) return true;
        return false;
    }
};

Config alias_config() {
    Config cfg;
    cfg.rewrite.rewrite.contact_mode = rewrite::ContactMode::alias;
    return cfg;
}

}  // namespace

TEST(PipelineAlias, RequestToAKnownAliasIsRetargetedWithTheParameterRemoved) {
    const Config cfg = alias_config();
    Worker w(cfg);
    FakeDirectory d("198.51.100.77", 40123);
    w.set_flow_directory(&d);
    const std::string in =
        "INVITE sip:alice@192.168.1.10:5060;alias=198.51.100.77~40123~1;transport=udp SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 198.51.100.10;branch=z9hG4bK77\r\nContent-Length: 4\r\n\r\nbody";
    const Built b = from_switch(in);
    const Outcome r = run(w, b, Direction::core_to_access, 0);
    EXPECT_EQ(r.action, Action::forward);
    expect_valid(r.out);
    EXPECT_EQ(payload_of(r.out),
              "INVITE sip:alice@192.168.1.10:5060;transport=udp SIP/2.0\r\n"
              "Via: SIP/2.0/UDP 198.51.100.10;branch=z9hG4bK77\r\nContent-Length: 4\r\n\r\nbody");
    net::FrameView v;
    ASSERT_EQ(net::parse_frame(r.out.data(), static_cast<uint32_t>(r.out.size()), v), net::FrameStatus::udp);
    EXPECT_EQ(v.dst, *IpAddr::parse("198.51.100.77"));
    EXPECT_EQ(v.dst_port, 40123);
    EXPECT_EQ(v.src, *IpAddr::parse("203.0.113.5")) << "the source stays the switch's";
    EXPECT_EQ(v.src_port, 5060);
    EXPECT_EQ(std::vector<uint8_t>(r.out.begin(), r.out.begin() + b.l3), std::vector<uint8_t>(b.bytes.begin(), b.bytes.begin() + b.l3))
        << "L2 unchanged";
    EXPECT_EQ(r.out.size(), b.bytes.size() - std::string(";alias=198.51.100.77~40123~1").size());
    EXPECT_EQ(w.counters().get(Counter::alias_retargeted), 1u);
    EXPECT_EQ(w.counters().get(Counter::passed_unmodified), 0u);
}

// From the switch too: a damaged request is not retargeted (its new checksums would vouch for
// its damaged bytes), but forwarded as it came and counted.
TEST(PipelineAlias, DamagedRequestIsLeftAloneAndCounted) {
    const Config cfg = alias_config();
    Worker w(cfg);
    FakeDirectory d("198.51.100.77", 40123);
    w.set_flow_directory(&d);
    Built b = from_switch("INVITE sip:alice@192.168.1.10:5060;alias=198.51.100.77~40123~1 SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 198.51.100.10;branch=z9hG4bK77\r\nContent-Length: 4\r\n\r\nbody");
    b.bytes.back() ^= 0x04;  // "bodx"
    const Outcome r = run(w, b, Direction::core_to_access, 0);
    EXPECT_EQ(r.action, Action::forward);
    EXPECT_EQ(r.out, b.bytes);
    EXPECT_EQ(w.counters().get(Counter::bad_checksum), 1u);
    EXPECT_EQ(w.counters().get(Counter::alias_retargeted), 0u);
    EXPECT_EQ(w.counters().get(Counter::passed_unmodified), 1u);
}

TEST(PipelineAlias, Ipv6AliasInBracketsAndUpperCaseName) {
    const Config cfg = alias_config();
    Worker w(cfg);
    FakeDirectory d("2001:db8::77", 40000);
    w.set_flow_directory(&d);
    const Built b = from_switch("BYE sip:bob@[fd00::10];ALIAS=[2001:db8::77]~40000~1 SIP/2.0\r\nContent-Length: 0\r\n\r\n", true);
    const Outcome r = run(w, b, Direction::core_to_access, 0);
    expect_valid(r.out);
    EXPECT_EQ(payload_of(r.out), "BYE sip:bob@[fd00::10] SIP/2.0\r\nContent-Length: 0\r\n\r\n");
    net::FrameView v;
    ASSERT_EQ(net::parse_frame(r.out.data(), static_cast<uint32_t>(r.out.size()), v), net::FrameStatus::udp);
    EXPECT_EQ(v.dst, *IpAddr::parse("2001:db8::77"));
    EXPECT_EQ(v.dst_port, 40000);
    EXPECT_EQ(w.counters().get(Counter::alias_retargeted), 1u);
}

TEST(PipelineAlias, UnknownBadAndOtherMessagesAreLeftAloneAndCounted) {
    const Config cfg = alias_config();
    Worker w(cfg);
    FakeDirectory d("198.51.100.77", 40123);
    w.set_flow_directory(&d);
    struct Case {
        std::string payload;
        Counter counter;
    };
    const std::vector<Case> cases = {
        // never seen from the access side (stale, or forged to aim the switch elsewhere)
        {"INVITE sip:a@10.0.0.1;alias=198.51.100.77~40124~1 SIP/2.0\r\nContent-Length: 0\r\n\r\n", Counter::alias_unknown},
        {"INVITE sip:a@10.0.0.1;alias=192.0.2.99~40123~1 SIP/2.0\r\nContent-Length: 0\r\n\r\n", Counter::alias_unknown},
        // not a UDP alias, no port, junk, IPv6 alias in an IPv4 packet
        {"INVITE sip:a@10.0.0.1;alias=198.51.100.77~40123~2 SIP/2.0\r\nContent-Length: 0\r\n\r\n", Counter::alias_bad},
        {"INVITE sip:a@10.0.0.1;alias=198.51.100.77 SIP/2.0\r\nContent-Length: 0\r\n\r\n", Counter::alias_bad},
        {"INVITE sip:a@10.0.0.1;alias=198.51.100.77~0~1 SIP/2.0\r\nContent-Length: 0\r\n\r\n", Counter::alias_bad},
        {"INVITE sip:a@10.0.0.1;alias SIP/2.0\r\nContent-Length: 0\r\n\r\n", Counter::alias_bad},
        {"INVITE sip:a@10.0.0.1;alias=[2001:db8::1]~5060~1 SIP/2.0\r\nContent-Length: 0\r\n\r\n", Counter::alias_bad},
        {"INVITE sip:a@10.0.0.1;alias=198.51.100.77~40123~1;alias=198.51.100.77~40123~1 SIP/2.0\r\nContent-Length: 0\r\n\r\n",
         Counter::alias_bad},  // twice: ambiguous
        // no alias: responses, a Request-URI without one, an alias only in a header
        {"SIP/2.0 200 OK\r\nContact: <sip:a@10.0.0.1;alias=198.51.100.77~40123~1>\r\nContent-Length: 0\r\n\r\n", Counter::passed_unmodified},
        {"OPTIONS sip:a@10.0.0.1;aliasx=1 SIP/2.0\r\nContent-Length: 0\r\n\r\n", Counter::passed_unmodified},
        {"OPTIONS sip:a@10.0.0.1 SIP/2.0\r\nX: ;alias=198.51.100.77~40123~1\r\nContent-Length: 0\r\n\r\n", Counter::passed_unmodified},
        {"INVITE  bad\r\n\r\n", Counter::passed_unmodified},
    };
    for (const Case& k : cases) {
        const uint64_t before = w.counters().get(k.counter);
        const Built b = from_switch(k.payload);
        const Outcome r = run(w, b, Direction::core_to_access);
        EXPECT_EQ(r.action, Action::forward);
        EXPECT_EQ(r.out, b.bytes) << k.payload;
        EXPECT_EQ(w.counters().get(k.counter), before + 1) << k.payload;
    }
    EXPECT_EQ(w.counters().get(Counter::alias_unknown), 2u);
    EXPECT_EQ(w.counters().get(Counter::alias_bad), 6u);
    EXPECT_EQ(w.counters().get(Counter::alias_retargeted), 0u);
    EXPECT_EQ(w.counters().get(Counter::passed_unmodified), cases.size());
    EXPECT_EQ(w.counters().get(Counter::core_to_access), cases.size());
}

TEST(PipelineAlias, RewriteModeAndNonSipFromTheSwitchPassAsTheyAre) {
    Config cfg;  // contact mode rewrite: the core side is never read
    Worker w(cfg);
    FakeDirectory d("198.51.100.77", 40123);
    w.set_flow_directory(&d);
    const Built b = from_switch("INVITE sip:a@10.0.0.1;alias=198.51.100.77~40123~1 SIP/2.0\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(run(w, b, Direction::core_to_access).out, b.bytes);
    const Config acfg = alias_config();
    Worker wa(acfg);
    wa.set_flow_directory(&d);
    // From another source port than a SIP port: not the switch's SIP.
    const Built other = frame("INVITE sip:a@10.0.0.1;alias=198.51.100.77~40123~1 SIP/2.0\r\nContent-Length: 0\r\n\r\n",
                              false, 0, false, 5060);
    EXPECT_EQ(run(wa, other, Direction::core_to_access).out, other.bytes);
    EXPECT_EQ(wa.counters().get(Counter::alias_retargeted), 0u);
}

TEST(Pipeline, ContactsLeftAloneAreCounted) {
    // A Contact value that does not parse, and more Contact values than the parts hold: the Via
    // is still rewritten, every Contact left as it came, and contacts_skipped counts each message.
    std::string many = "REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\r\nContact: ";
    for (std::size_t i = 0; i <= sip::MessageParts::kMaxContacts; ++i)
        many += (i ? ", <sip:u" : "<sip:u") + std::to_string(i) + "@192.168.1.10:5060>";
    many += "\r\nContent-Length: 0\r\n\r\n";
    const std::string bad =
        "REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\r\n"
        "Contact: <sip:a@192.168.1.10:5060>, <sip:b@192.168.1.10 :5060>\r\nContent-Length: 0\r\n\r\n";
    Config cfg;
    Worker w(cfg);
    for (const std::string& m : {many, bad}) {
        const Outcome r = run(w, frame(m));
        expect_valid(r.out);
        const std::string out = payload_of(r.out);
        EXPECT_NE(out.find("branch=z9hG4bK1;received=203.0.113.5;rport=40000\r\n"), std::string::npos) << out;
        EXPECT_EQ(out.substr(out.find("\r\nContact")), m.substr(m.find("\r\nContact")));
    }
    EXPECT_EQ(w.counters().get(Counter::rewritten), 2u);
    EXPECT_EQ(w.counters().get(Counter::contacts_skipped), 2u);
    const Outcome r = run(w, frame(kNatted));  // one that is read whole is not counted
    EXPECT_EQ(w.counters().get(Counter::rewritten), 3u);
    EXPECT_EQ(w.counters().get(Counter::contacts_skipped), 2u);
    EXPECT_NE(payload_of(r.out).find("<sip:a@203.0.113.5:40000>"), std::string::npos);
}

// An INVITE whose SDP has o= and `c_lines` c= lines of 192.168.1.10; encoding: a
// Content-Encoding, or none.
std::string invite_with_sdp(std::size_t c_lines, const std::string& encoding = "") {
    std::string sdp = "v=0\r\no=a 1 1 IN IP4 192.168.1.10\r\ns=-\r\nt=0 0\r\n";
    for (std::size_t i = 0; i < c_lines; ++i) sdp += "c=IN IP4 192.168.1.10\r\n";
    return "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\r\n"
           "Contact: <sip:a@192.168.1.10:5060>\r\nContent-Type: application/sdp\r\n" +
           (encoding.empty() ? "" : "Content-Encoding: " + encoding + "\r\n") + "Content-Length: " +
           std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
}

TEST(Pipeline, EverySdpAddressOrNoneAndCounted) {
    Config cfg;
    Worker w(cfg);
    // More addresses than the SDP's table holds: every one rewritten, Content-Length and the
    // checksums right.
    const std::string many = invite_with_sdp(sip::Sdp::kMaxAddrs + 8);
    Outcome r = run(w, frame(many), Direction::access_to_core, 2048);
    expect_valid(r.out);
    std::string out = payload_of(r.out);
    const std::size_t cl = out.find("Content-Length: ") + 16, body = out.find("\r\n\r\n") + 4;
    EXPECT_EQ(out.find("192.168.1.10", out.find("\r\nContact")), std::string::npos) << out;  // the Via's sent-by stays
    EXPECT_EQ(std::stoul(out.substr(cl)), out.size() - body);
    EXPECT_EQ(w.counters().get(Counter::rewritten), 1u);
    EXPECT_EQ(w.counters().get(Counter::sdp_skipped), 0u);
    // An encoded body (not readable text): the SDP and Content-Length as they came, the Via and
    // Contact rewritten, sdp_skipped counted.
    const std::string gz = invite_with_sdp(2, "gzip");
    r = run(w, frame(gz), Direction::access_to_core, 2048);
    expect_valid(r.out);
    out = payload_of(r.out);
    EXPECT_NE(out.find("<sip:a@203.0.113.5:40000>"), std::string::npos) << out;
    EXPECT_EQ(out.substr(out.find("Content-Type")), gz.substr(gz.find("Content-Type")));
    EXPECT_EQ(w.counters().get(Counter::rewritten), 2u);
    EXPECT_EQ(w.counters().get(Counter::sdp_skipped), 1u);
    // More edits than a plan holds: the message as it came, counted under its own name.
    const std::string huge = invite_with_sdp(rewrite::EditPlan::kMaxEdits);
    const Built hb = frame(huge);
    r = run(w, hb, Direction::access_to_core, 2048);
    EXPECT_EQ(r.out, hb.bytes);
    EXPECT_EQ(w.counters().get(Counter::rewrite_too_many_edits), 1u);
    EXPECT_EQ(w.counters().get(Counter::rewrite_plan_error), 0u);
    EXPECT_EQ(w.counters().get(Counter::rewritten), 2u);
    run(w, frame(kNatted));  // no SDP: nothing skipped
    EXPECT_EQ(w.counters().get(Counter::sdp_skipped), 1u);
    EXPECT_EQ(w.counters().get(Counter::rewritten), 3u);
}

// A rule set that may or may not set alias mode for some sources.
class AliasRules final : public rewrite::PolicySource {
public:
    explicit AliasRules(bool alias) : alias_(alias) {}
    [[nodiscard]] bool wants_domains() const noexcept override { return false; }
    [[nodiscard]] bool uses_alias() const noexcept override { return alias_; }
    const rewrite::Policy* resolve(const rewrite::PolicyQuery&, unsigned) noexcept override { return nullptr; }

private:
    bool alias_;
};

TEST(Pipeline, CoreSideIsReadOnlyForAliases) {
    // The dataplane reassembles the core side's fragments only when its SIP is read: in alias
    // mode, or while the rules loaded set it for someone (read anew each time: a reload swaps them).
    Config rewrite_mode;
    Worker w(rewrite_mode);
    EXPECT_FALSE(w.reads_core_side());
    AliasRules none(false), some(true);
    std::atomic<rewrite::PolicySource*> rules{&none};
    w.set_rules(&rules, 0);
    EXPECT_FALSE(w.reads_core_side());
    rules.store(&some);
    EXPECT_TRUE(w.reads_core_side());
    rules.store(nullptr);
    EXPECT_FALSE(w.reads_core_side());
    Config alias_mode;
    alias_mode.rewrite.rewrite.contact_mode = rewrite::ContactMode::alias;
    EXPECT_TRUE(Worker(alias_mode).reads_core_side());
}
