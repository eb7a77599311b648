#include <farend/flow/flow.hpp>

#include <gtest/gtest.h>

#include <cstring>

using namespace farend;

TEST(Flow, KeysDistinguishAddressPortVlanAndFamily) {
    const auto a = flow::Key::of(*IpAddr::parse("203.0.113.5"), 40000, 0);
    const auto b = flow::Key::of(*IpAddr::parse("203.0.113.5"), 40000, 100);
    const auto c = flow::Key::of(*IpAddr::parse("203.0.113.5"), 40001, 0);
    const auto d = flow::Key::of(*IpAddr::parse("::ffff:203.0.113.5"), 40000, 0);
    auto bytes = [](const flow::Key& k) { return std::string(reinterpret_cast<const char*>(&k), sizeof k); };
    EXPECT_EQ(bytes(a), bytes(flow::Key::of(*IpAddr::parse("203.0.113.5"), 40000, 0)));
    EXPECT_NE(bytes(a), bytes(b));
    EXPECT_NE(bytes(a), bytes(c));
    EXPECT_NE(bytes(a), bytes(d));
}

TEST(Flow, EntryGivesItsKeysSource) {
    for (const char* text : {"203.0.113.5", "2001:db8::5"}) {
        flow::Observation o;
        o.src = *IpAddr::parse(text);
        o.src_port = 40002;
        o.vlan = 100;
        flow::Entry e;
        e.start(o, 1);
        EXPECT_EQ(e.public_addr(), o.src) << text;
        EXPECT_EQ(e.public_addr().to_string(), text);
        EXPECT_EQ(e.public_port(), 40002);
        EXPECT_EQ(e.vlan(), 100);
    }
    EXPECT_FALSE(flow::Entry{}.public_addr().valid());
}

TEST(Flow, UpdateWritesLine2OnlyWhenItSaysSo) {
    // FlowTable::prefetch fetches an entry's line 2 only when updates_line_2(): update() must not
    // write it otherwise (nor leave it unwritten when it says it writes it).
    for (int kind = 0; kind < 3; ++kind) {
        flow::Observation o;
        o.src = *IpAddr::parse("203.0.113.5");
        o.src_port = 40000;
        o.is_register = kind == 1;
        o.keepalive_answer = kind == 2;
        flow::Entry e;
        e.start(flow::Observation{}, 1);
        unsigned char before[64], after[64];
        std::memcpy(before, reinterpret_cast<const unsigned char*>(&e) + 128, 64);
        e.update(o, 500);
        std::memcpy(after, reinterpret_cast<const unsigned char*>(&e) + 128, 64);
        EXPECT_EQ(std::memcmp(before, after, 64) != 0, flow::Entry::updates_line_2(o)) << "kind " << kind;
    }
}

TEST(Flow, EntryTracksWhatTheSourceSaid) {
    flow::Observation o;
    o.src = *IpAddr::parse("203.0.113.5");
    o.src_port = 40000;
    o.dst = *IpAddr::parse("198.51.100.10");
    o.dst_port = 5060;
    o.fired = nat::bit(nat::Test::via_private);
    o.rewritten = true;
    o.is_register = true;
    o.agent = *IpAddr::parse("192.168.1.10");
    o.bytes = 500;
    flow::Entry e;
    e.start(o, 100);
    EXPECT_EQ(e.public_addr(), o.src);
    EXPECT_EQ(e.public_port(), 40000);
    EXPECT_EQ(e.private_addr, o.agent);
    EXPECT_EQ(e.packets, 1u);
    EXPECT_EQ(e.last_register, 100u);
    EXPECT_TRUE(e.nated);
    o.fired = 0;
    o.rewritten = false;
    o.is_register = false;
    o.agent = IpAddr{};
    e.update(o, 200);
    EXPECT_EQ(e.packets, 2u);
    EXPECT_EQ(e.bytes, 1000u);
    EXPECT_EQ(e.rewritten, 1u);
    EXPECT_EQ(e.first_seen, 100u);
    EXPECT_EQ(e.last_seen, 200u);
    EXPECT_EQ(e.last_register, 100u);
    EXPECT_FALSE(e.nated);
    EXPECT_EQ(e.private_addr, *IpAddr::parse("192.168.1.10"));  // kept when a message says nothing new
}
