// Every UDP SIP message of the real captures through detection and rewrite, as if it arrived on
// the access side from the address it was captured from. Checks the verdicts SOURCES.tsv leads
// to expect for the NATed agents, and for every message: Content-Length equals the body after a
// rewrite, an untouched message is byte-identical, a second pass changes nothing.
#include "corpus.hpp"

#include <farend/rewrite/processor.hpp>
#include <farend/sip/content.hpp>

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace farend;
using NT = farend::nat::Test;

namespace {

struct Processed {
    rewrite::Result r;
    std::string out;
};

Processed process(rewrite::Processor& p, const test::Sample& s) {
    Processed run;
    run.out = s.bytes;
    run.out.resize(s.bytes.size() + 2048);
    const nat::Source src{*IpAddr::parse(s.src_ip), s.src_port};
    run.r = p.process(run.out.data(), static_cast<uint32_t>(s.bytes.size()), static_cast<uint32_t>(run.out.size()), src);
    run.out.resize(run.r.size);
    return run;
}

rewrite::Options all_tests() {
    rewrite::Options o;
    o.detect.tests = nat::kAllTests;
    return o;
}

}  // namespace

TEST(RewriteCorpus, InvariantsOnEveryCapturedMessage) {
    const auto samples = test::pcap_sip_payloads();
    ASSERT_GT(samples.size(), 400u);
    for (const auto& opts : {rewrite::Options{}, all_tests()}) {
        rewrite::Processor proc(opts);
        sip::MessageParser check, check_in;
        std::map<int, int> outcomes;
        for (const auto& s : samples) {
            const Processed run = process(proc, s);
            ++outcomes[static_cast<int>(run.r.outcome)];
            if (run.r.outcome != rewrite::Outcome::rewritten) {
                ASSERT_EQ(run.out, s.bytes) << s.name << ": untouched messages are forwarded byte-identical";
                continue;
            }
            const auto& idx = check.parse(run.out);
            ASSERT_TRUE(idx.complete()) << s.name << ": the output must parse";
            if (idx.content_length.status == sip::ContentLength::Status::ok) {
                const auto& in_idx = check_in.parse(s.bytes);
                // Content-Length equals the body; bytes after the body (ignored) are kept.
                ASSERT_EQ(idx.content_length.value, idx.body_len) << s.name;
                ASSERT_EQ(idx.trailing, in_idx.trailing) << s.name;
            }
            test::Sample again = s;
            again.bytes = run.out;
            const Processed second = process(proc, again);
            ASSERT_EQ(second.out, run.out) << s.name << ": a second pass must change nothing";
        }
        std::printf("  outcomes (malformed, not-nated, unchanged, rewritten, no-room, plan-error):");
        for (int o = 0; o <= 5; ++o) std::printf(" %d", outcomes[o]);
        std::printf("\n");
        EXPECT_GT(outcomes[static_cast<int>(rewrite::Outcome::rewritten)], 50);
        EXPECT_EQ(outcomes[static_cast<int>(rewrite::Outcome::no_room)], 0);
        EXPECT_EQ(outcomes[static_cast<int>(rewrite::Outcome::plan_error)], 0);
    }
}

TEST(RewriteCorpus, NatedAgentsOfTheCaptures) {
    // What SOURCES.tsv says of each capture, as verdicts on the requests the agent sent.
    struct Expect {
        const char* file;
        const char* agent;     // source address of the agent's datagrams
        nat::TestMask must;    // tests that fire on every request of the agent with a Via
    };
    const Expect expects[] = {
        // LAN-side capture of a UA at 192.168.1.2: its Via is private (and equals its source)
        {"sngrep_aaa.pcap", "192.168.1.2", nat::bit(NT::via_private)},
        // REGISTER from 172.29.38.91 whose Via/Contact say 10.231.142.84
        {"ndpi_sip_hello.pcapng", "172.29.38.91",
         nat::bit(NT::via_private) | nat::bit(NT::via_source_mismatch) | nat::bit(NT::contact_private) |
             nat::bit(NT::contact_source_mismatch)},
        // server-side capture: UA 192.168.8.53:5860 seen as 180.173.83.248
        {"heplify_erspan_sip_ipv4_udp.DERIVED-decap.pcap", "180.173.83.248",
         nat::bit(NT::via_private) | nat::bit(NT::via_source_mismatch)},
    };
    rewrite::Processor proc(all_tests());
    const auto samples = test::pcap_sip_payloads();
    for (const auto& e : expects) {
        int requests = 0, rewritten = 0;
        for (const auto& s : samples) {
            if (s.name.find(e.file) == std::string::npos || s.src_ip != e.agent) continue;
            const Processed run = process(proc, s);
            if (run.r.outcome == rewrite::Outcome::malformed) continue;
            if (!proc.index().start.is_request || !proc.index().find(sip::HeaderId::via)) continue;
            ++requests;
            EXPECT_EQ(run.r.verdict.fired & e.must, e.must)
                << s.name << " fired " << nat::tests_to_string(run.r.verdict.fired);
            rewritten += run.r.outcome == rewrite::Outcome::rewritten;
        }
        EXPECT_GT(requests, 0) << e.file;
        EXPECT_EQ(rewritten, requests) << e.file << ": every NATed request gets its Via fixed at least";
        std::printf("  %-50s %d requests from %s, all NATed and rewritten\n", e.file, requests, e.agent);
    }
}

TEST(RewriteCorpus, PublicOnlyCaptureIsLeftAlone) {
    // heplify_rtp_rtcp: a 2005 sample with public addresses only: the default tests never fire on
    // what the agents send. (The registrar's 200.57.7.195 replies to REGISTER carry the agent's
    // Contact, so from the registrar's address contact-source-mismatch does fire: those replies
    // travel core -> access, which farend does not rewrite.)
    rewrite::Processor proc{rewrite::Options{}};
    int seen = 0;
    for (const auto& s : test::pcap_sip_payloads()) {
        if (s.name.find("heplify_rtp_rtcp_sip_ipv4_udp") == std::string::npos || s.src_ip == "200.57.7.195") continue;
        const Processed run = process(proc, s);
        if (run.r.outcome == rewrite::Outcome::malformed) continue;
        ++seen;
        EXPECT_EQ(run.r.outcome, rewrite::Outcome::not_nated)
            << s.name << " fired " << nat::tests_to_string(run.r.verdict.fired);
    }
    EXPECT_GT(seen, 0);
}

TEST(RewriteCorpus, RfcAndKamailioMessagesFromEverySourceKeepTheInvariants) {
    // The torture messages as if sent from a NATed agent, over IPv4 and IPv6, in both Contact
    // modes, with every test on: whatever they hold, the output parses, Content-Length matches,
    // and a second pass is a no-op.
    auto samples = test::rfc4475();
    for (auto* more : {&test::rfc5118, &test::kamailio_messages}) {
        auto v = more();
        samples.insert(samples.end(), v.begin(), v.end());
    }
    int rewritten = 0;
    for (const char* src : {"203.0.113.5", "2001:db8::5"}) {
        for (auto mode : {rewrite::ContactMode::rewrite, rewrite::ContactMode::alias}) {
            rewrite::Options o = all_tests();
            o.rewrite.contact_mode = mode;
            rewrite::Processor proc(o);
            sip::MessageParser check;
            for (auto s : samples) {
                s.src_ip = src;
                s.src_port = 40000;
                const Processed run = process(proc, s);
                if (run.r.outcome != rewrite::Outcome::rewritten) {
                    ASSERT_EQ(run.out, s.bytes) << s.name;
                    continue;
                }
                ++rewritten;
                const auto& idx = check.parse(run.out);
                ASSERT_TRUE(idx.complete()) << s.name;
                if (idx.content_length.status == sip::ContentLength::Status::ok) {
                    ASSERT_EQ(idx.content_length.value, idx.body_len) << s.name;
                }
                test::Sample again = s;
                again.bytes = run.out;
                ASSERT_EQ(process(proc, again).out, run.out) << s.name << " (" << src << ")";
            }
        }
    }
    EXPECT_GT(rewritten, 200);
}
