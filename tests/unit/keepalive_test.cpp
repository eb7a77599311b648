// NAT keepalive frames (exact bytes) and the consumption of answers to OPTIONS keepalives.
#include <farend/net/checksum.hpp>
#include <farend/net/frame.hpp>
#include <farend/pipeline/keepalive.hpp>
#include <farend/pipeline/worker.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

using namespace farend;
using namespace farend::pipeline;

namespace {

flow::Entry entry(const char* pub, uint16_t pub_port, const char* peer, uint16_t vlan = 0) {
    flow::Entry e;
    e.key = flow::Key::of(*IpAddr::parse(pub), pub_port, vlan);
    e.peer = *IpAddr::parse(peer);
    e.peer_port = 5060;
    // The agent's frames came from the NAT's router (02:..:0a) to the switch's (02:..:0c), as a
    // frame holds them: destination first.
    e.macs = {0x02, 0, 0, 0, 0, 0x0c, 0x02, 0, 0, 0, 0, 0x0a};
    return e;
}

std::vector<uint8_t> build(const flow::Entry& e, KeepaliveMethod m, uint32_t seq) {
    std::vector<uint8_t> buf(2048);
    const uint32_t n = build_keepalive(e, m, seq, buf.data(), static_cast<uint32_t>(buf.size()));
    buf.resize(n);
    return buf;
}

void expect_checksums(const std::vector<uint8_t>& f, const net::FrameView& v) {
    if (!v.ipv6) {
        EXPECT_EQ(net::ones_sum(f.data() + v.l3_off, 20), 0xffff);
    }
    const uint32_t udp_len = net::load_be16(f.data() + v.l4_off + 4);
    const std::size_t alen = v.ipv6 ? 16 : 4;
    uint32_t s = net::ones_sum(v.src.bytes().data(), alen) + net::ones_sum(v.dst.bytes().data(), alen) + 17u + udp_len +
                 net::ones_sum(f.data() + v.l4_off, udp_len);
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    EXPECT_EQ(s, 0xffffu);
}

}  // namespace

TEST(Keepalive, OptionsOverIpv4FromTheSwitchToThePublicAddress) {
    const auto f = build(entry("203.0.113.5", 40001, "198.51.100.10"), KeepaliveMethod::options, 0x2a);
    ASSERT_GT(f.size(), 42u);
    EXPECT_EQ(std::vector<uint8_t>(f.begin(), f.begin() + 14),
              (std::vector<uint8_t>{0x02, 0, 0, 0, 0, 0x0a, 0x02, 0, 0, 0, 0, 0x0c, 0x08, 0x00}))
        << "MACs swapped: back the way the agent's frames came";
    net::FrameView v;
    ASSERT_EQ(net::parse_frame(f.data(), static_cast<uint32_t>(f.size()), v), net::FrameStatus::udp);
    EXPECT_EQ(v.src, *IpAddr::parse("198.51.100.10"));
    EXPECT_EQ(v.dst, *IpAddr::parse("203.0.113.5"));
    EXPECT_EQ(v.src_port, 5060);
    EXPECT_EQ(v.dst_port, 40001);
    EXPECT_EQ(f[v.l3_off + 8], 64) << "TTL";
    EXPECT_EQ(net::load_be16(f.data() + v.l3_off + 4), 0x2a) << "IP id = seq";
    expect_checksums(f, v);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(f.data() + v.payload_off()), v.payload_len()),
              "OPTIONS sip:203.0.113.5:40001 SIP/2.0\r\n"
              "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bK-farend-ka-0000002a\r\n"
              "Max-Forwards: 70\r\n"
              "From: <sip:farend@198.51.100.10:5060>;tag=farend-ka\r\n"
              "To: <sip:203.0.113.5:40001>\r\n"
              "Call-ID: farend-ka-0000002a@198.51.100.10\r\n"
              "CSeq: 1 OPTIONS\r\n"
              "Content-Length: 0\r\n\r\n");
}

TEST(Keepalive, CrlfOverIpv6AndNull4WithVlan) {
    const auto f6 = build(entry("2001:db8::5", 40002, "2001:db8::10"), KeepaliveMethod::crlf, 1);
    net::FrameView v;
    ASSERT_EQ(net::parse_frame(f6.data(), static_cast<uint32_t>(f6.size()), v), net::FrameStatus::udp);
    EXPECT_TRUE(v.ipv6);
    EXPECT_EQ(f6.size(), 14u + 40 + 8 + 4);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(f6.data() + v.payload_off()), 4), "\r\n\r\n");
    EXPECT_EQ(f6[v.l3_off + 7], 64) << "hop limit";
    expect_checksums(f6, v);
    const auto fv = build(entry("203.0.113.5", 40003, "198.51.100.10", 100), KeepaliveMethod::null4, 2);
    EXPECT_EQ(fv.size(), 18u + 20 + 8 + 4);
    EXPECT_EQ(std::vector<uint8_t>(fv.begin() + 12, fv.begin() + 18), (std::vector<uint8_t>{0x81, 0x00, 0x00, 100, 0x08, 0x00}));
    ASSERT_EQ(net::parse_frame(fv.data(), static_cast<uint32_t>(fv.size()), v), net::FrameStatus::udp);
    EXPECT_EQ(std::vector<uint8_t>(fv.end() - 4, fv.end()), (std::vector<uint8_t>{0, 0, 0, 0}));
    expect_checksums(fv, v);
    // IPv6 OPTIONS: addresses in brackets in the SIP text.
    const auto o6 = build(entry("2001:db8::5", 40002, "2001:db8::10"), KeepaliveMethod::options, 3);
    ASSERT_EQ(net::parse_frame(o6.data(), static_cast<uint32_t>(o6.size()), v), net::FrameStatus::udp);
    const std::string p(reinterpret_cast<const char*>(o6.data() + v.payload_off()), v.payload_len());
    EXPECT_EQ(p.substr(0, p.find("\r\n")), "OPTIONS sip:[2001:db8::5]:40002 SIP/2.0");
    EXPECT_NE(p.find("Via: SIP/2.0/UDP [2001:db8::10]:5060;branch=z9hG4bK-farend-ka-00000003\r\n"), std::string::npos);
}

TEST(Keepalive, NothingWithoutAPeerOfTheFamilyOrRoom) {
    flow::Entry e = entry("203.0.113.5", 40001, "198.51.100.10");
    std::vector<uint8_t> small(40);
    EXPECT_EQ(build_keepalive(e, KeepaliveMethod::null4, 0, small.data(), 40), 0u);
    e.peer = *IpAddr::parse("2001:db8::10");
    EXPECT_TRUE(build(e, KeepaliveMethod::options, 0).empty());
    e.peer = IpAddr{};
    EXPECT_TRUE(build(e, KeepaliveMethod::crlf, 0).empty());
}

TEST(Keepalive, MethodNames) {
    for (auto m : {KeepaliveMethod::options, KeepaliveMethod::crlf, KeepaliveMethod::null4})
        EXPECT_EQ(parse_keepalive_method(keepalive_method_name(m)), m);
    EXPECT_FALSE(parse_keepalive_method("ping"));
}

namespace {

// The agent's answer, as it comes back through its NAT to the switch's SIP port.
std::vector<uint8_t> answer_frame(const std::string& branch) {
    const std::string sip = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.51.100.10:5060;branch=" + branch +
                            "\r\nFrom: <sip:farend@198.51.100.10:5060>;tag=farend-ka\r\nTo: <sip:203.0.113.5:40001>;tag=9\r\n"
                            "Call-ID: farend-ka-0000002a@198.51.100.10\r\nCSeq: 1 OPTIONS\r\n"
                            "Contact: <sip:alice@192.168.1.10:5060>\r\nContent-Length: 0\r\n\r\n";
    flow::Entry e = entry("198.51.100.10", 5060, "203.0.113.5");  // reversed: from the agent
    e.peer_port = 40001;
    std::vector<uint8_t> f = build(e, KeepaliveMethod::crlf, 0);
    net::FrameView v;
    EXPECT_EQ(net::parse_frame(f.data(), static_cast<uint32_t>(f.size()), v), net::FrameStatus::udp);
    f.resize(v.payload_off());
    f.insert(f.end(), sip.begin(), sip.end());
    net::store_be16(f.data() + v.l3_off + 2, static_cast<uint16_t>(f.size() - v.l3_off));
    net::store_be16(f.data() + v.l3_off + 10, 0);
    net::fix_ipv4_header_checksum(f.data() + v.l3_off, 20);
    net::store_be16(f.data() + v.l4_off + 4, static_cast<uint16_t>(f.size() - v.l4_off));
    net::fix_udp_checksum(v.dst, v.src, f.data() + v.l4_off, f.size() - v.l4_off, false);
    return f;
}

Action run(Worker& w, std::vector<uint8_t> f, Frame* out = nullptr) {
    f.resize(f.size() + 256);
    Frame fr{f.data(), static_cast<uint32_t>(f.size() - 256), static_cast<uint32_t>(f.size()), false, 0};
    const Action a = w.process(fr, Direction::access_to_core);
    if (out) *out = fr;
    return a;
}

}  // namespace

TEST(Keepalive, AnswersToOptionsKeepalivesAreConsumedAndObserved) {
    Config cfg;
    cfg.keepalive_interval = 30;
    Worker w(cfg);
    Frame fr;
    EXPECT_EQ(run(w, answer_frame("z9hG4bK-farend-ka-0000002a"), &fr), Action::drop);
    EXPECT_TRUE(fr.observed);
    EXPECT_TRUE(w.observation().keepalive_answer);
    EXPECT_EQ(w.observation().src, *IpAddr::parse("203.0.113.5"));
    EXPECT_EQ(w.observation().src_port, 40001);
    EXPECT_EQ(w.counters().get(Counter::keepalive_answers), 1u);
    EXPECT_EQ(w.counters().get(Counter::dropped), 0u) << "consumed, not lost";
    EXPECT_EQ(w.counters().get(Counter::sip_messages), 0u);
    // Another branch: an ordinary NATed response, rewritten and forwarded.
    EXPECT_EQ(run(w, answer_frame("z9hG4bK-other")), Action::forward);
    EXPECT_EQ(w.counters().get(Counter::rewritten), 1u);
    EXPECT_FALSE(w.observation().keepalive_answer) << "the slot's earlier answer does not stick to the next message";
    // crlf keepalives get no answers: nothing is consumed.
    Config crlf = cfg;
    crlf.keepalive_method = KeepaliveMethod::crlf;
    Worker wc(crlf);
    EXPECT_EQ(run(wc, answer_frame("z9hG4bK-farend-ka-0000002a")), Action::forward);
    Config off;
    Worker wo(off);
    EXPECT_EQ(run(wo, answer_frame("z9hG4bK-farend-ka-0000002a")), Action::forward);
    EXPECT_EQ(wo.counters().get(Counter::keepalive_answers), 0u);
}

// A damaged answer (a payload byte flipped after its UDP checksum was summed) is not taken for
// one: not consumed, not observed; forwarded as it came and counted as damaged.
TEST(Keepalive, DamagedAnswerIsForwardedNotConsumed) {
    Config cfg;
    cfg.keepalive_interval = 30;
    Worker w(cfg);
    std::vector<uint8_t> f = answer_frame("z9hG4bK-farend-ka-0000002a");
    f[f.size() - 30] ^= 0x04;
    std::vector<uint8_t> buf = f;
    buf.resize(f.size() + 256);
    Frame fr{buf.data(), static_cast<uint32_t>(f.size()), static_cast<uint32_t>(buf.size()), false, 0};
    EXPECT_EQ(w.process(fr, Direction::access_to_core), Action::forward);
    EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + fr.len), f);
    EXPECT_FALSE(fr.observed);
    EXPECT_EQ(w.counters().get(Counter::keepalive_answers), 0u);
    EXPECT_EQ(w.counters().get(Counter::bad_checksum), 1u);
    EXPECT_EQ(w.counters().get(Counter::passed_unmodified), 1u);
}

// The MACs a flow keeps are the last frame's, each where it belongs: the keepalive goes back to
// the MAC the agent's frames came from (its NAT's router), from the one they were sent to.
TEST(Keepalive, GoesBackToTheMacTheAgentsFramesCameFrom) {
    Config cfg;
    Worker w(cfg);
    std::vector<uint8_t> f = answer_frame("z9hG4bK-other");  // an ordinary NATed message
    const std::array<uint8_t, 6> to{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}, from{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
    std::memcpy(f.data(), to.data(), 6);
    std::memcpy(f.data() + 6, from.data(), 6);
    Frame fr;
    ASSERT_EQ(run(w, f, &fr), Action::forward);
    ASSERT_TRUE(fr.observed);
    flow::Entry e;
    e.start(w.observation(), 1);
    EXPECT_EQ(e.src_mac(), from);
    EXPECT_EQ(e.dst_mac(), to);
    const std::vector<uint8_t> ka = build(e, KeepaliveMethod::crlf, 0);
    ASSERT_GE(ka.size(), 12u);
    EXPECT_EQ(std::vector<uint8_t>(ka.begin(), ka.begin() + 6), std::vector<uint8_t>(from.begin(), from.end()));
    EXPECT_EQ(std::vector<uint8_t>(ka.begin() + 6, ka.begin() + 12), std::vector<uint8_t>(to.begin(), to.end()));
}
