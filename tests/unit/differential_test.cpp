// Every SIMD kernel must produce the same parse as the scalar one: on the whole corpus and on
// random mutations of it (byte flips, inserted structural bytes, cuts, duplicated spans).
#include "corpus.hpp"
#include "sip_helpers.hpp"

#include <farend/rewrite/processor.hpp>
#include <farend/sip/dump.hpp>
#include <farend/sip/contact.hpp>
#include <farend/sip/content.hpp>
#include <farend/sip/message.hpp>
#include <farend/sip/parts.hpp>
#include <farend/sip/sdp.hpp>
#include <farend/sip/via.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

using namespace farend;

namespace {

std::string mutate(std::string s, std::mt19937_64& rng) {
    static const std::string structural = "\r\n:,;<>\" \t[]@=/?\\%0.";
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits && !s.empty(); ++e) {
        const size_t at = rng() % s.size();
        switch (rng() % 5) {
            case 0: s[at] = static_cast<char>(rng()); break;
            case 1: s.insert(s.begin() + static_cast<long>(at), structural[rng() % structural.size()]); break;
            case 2: s.erase(at, 1 + rng() % 8); break;
            case 3: s.resize(at); break;
            case 4: {
                const size_t len = std::min<size_t>(1 + rng() % 40, s.size() - at);
                s.insert(rng() % s.size(), s.substr(at, len));
                break;
            }
        }
    }
    return s;
}

// The contacts of every Contact header of msg, parsed with the top Via's host:port as `known`
// (as extract_parts() does) and without: the same fields, or the test fails.
void expect_same_with_known(const std::string& msg, const std::string& name) {
    const test::Parsed m(msg);
    if (!m->complete()) return;
    sip::Via via;
    const bool have = sip::top_via(m.buf, m.mv(), *m, via) && via.valid;
    for (uint16_t i = 0; i < m->header_count; ++i) {
        if (m->headers[i].id != sip::HeaderId::contact) continue;
        sip::Contact a[8], b[8];
        const size_t na = sip::parse_contact_values(m.buf, m.mv(), m->headers[i].value, a, 8);
        const size_t nb = sip::parse_contact_values(m.buf, m.mv(), m->headers[i].value, b, 8, have ? &via.sent_by : nullptr);
        EXPECT_EQ(sip::dump_contacts(m.buf, b, nb), sip::dump_contacts(m.buf, a, na)) << name;
    }
}
// The SDP bodies of msg as extract_parts() reads them (with the agent's address known) and as
// parse_sdp() reads them alone: the same fields, or the test fails.
void expect_same_sdp_with_known(const std::string& msg, const std::string& name) {
    const test::Parsed m(msg);
    if (!m->complete()) return;
    auto parts = std::make_unique<sip::MessageParts>();
    sip::extract_parts(m.buf, m.mv(), *m, true, *parts);
    for (uint8_t b = 0; b < parts->sdp_bodies.count; ++b) {
        auto alone = std::make_unique<sip::Sdp>();
        sip::parse_sdp(m.buf, m.mv(), parts->sdp_bodies.bodies[b], *alone);
        EXPECT_EQ(sip::dump_sdp(m.buf, parts->sdp[b]), sip::dump_sdp(m.buf, *alone)) << name << " body " << int(b);
    }
}

// msg with its Content-Length set to its body's size (after an edit that changed the body).
std::string with_body_length(const std::string& msg) {
    const test::Parsed p(msg);
    if (p->content_length.status != sip::ContentLength::Status::ok) return msg;
    const Slice d = p->content_length.digits;
    return msg.substr(0, d.off) + std::to_string(msg.size() - p->body_off) + msg.substr(d.end());
}

}  // namespace

TEST(Differential, KernelsAgreeOnCorpusAndMutations) {
    const auto samples = test::everything();
    const simd::Kernel& scalar = *simd::kernel(simd::Backend::scalar);
    sip::MessageParser ref(scalar);
    std::vector<std::unique_ptr<sip::MessageParser>> others;
    for (const simd::Kernel* k : simd::supported())
        if (k->backend != simd::Backend::scalar) others.push_back(std::make_unique<sip::MessageParser>(*k));
    if (others.empty()) GTEST_SKIP() << "SKIPPED: this CPU has no SIMD kernel (no AVX2): nothing to compare";
    std::mt19937_64 rng(20261124);
    size_t compared = 0;
    for (const auto& s : samples) {
        for (int round = 0; round < 40; ++round) {
            const std::string msg = round == 0 ? s.bytes : mutate(s.bytes, rng);
            const auto& ref_idx = ref.parse(msg);
            const std::string want = sip::dump(msg, ref.mask_view(), ref_idx);
            for (auto& p : others) {
                const auto& idx = p->parse(msg);
                ASSERT_EQ(sip::dump(msg, p->mask_view(), idx), want) << s.name << " round " << round << " kernel " << p->kernel().name;
                ++compared;
            }
        }
    }
    std::printf("  %zu parses compared against scalar\n", compared);
}

// MessageParser scans the value classes (',' ';' '<' '>' '"' CR) only for the blocks a parser asks
// for (MaskView::ensure). Every parse that reads them must come out as it does over a full scan
// of the datagram: one parser for every message in turn, so that a block a reader forgot to ask
// for would still hold the masks of an earlier message.
TEST(Differential, LazyValueMasksParseAsAFullScan) {
    const auto samples = test::everything();
    std::mt19937_64 rng(20261202);
    size_t compared = 0;
    for (const simd::Kernel* k : simd::supported()) {
        sip::MessageParser lazy(*k);
        for (const auto& s : samples) {
            for (int round = 0; round < 10; ++round) {
                const std::string msg = round == 0 ? s.bytes : mutate(s.bytes, rng);
                std::vector<simd::BlockMasks> full(simd::blocks_for(msg.size()) + 1);
                simd::scan_scalar(reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), full.data());
                const sip::MaskView full_view{full.data(), static_cast<uint32_t>(msg.size())};
                const auto& idx = lazy.parse(msg);
                const std::string got = sip::dump(msg, lazy.mask_view(), idx);
                ASSERT_EQ(got, sip::dump(msg, full_view, idx)) << s.name << " round " << round << " kernel " << k->name;
                ++compared;
            }
        }
    }
    std::printf("  %zu lazy parses compared against full scans\n", compared);
}

// An index that keeps only some headers (the rewrite path's) against one that keeps them all, on
// the corpus and its mutations: under the set they describe alike (verdict, error and where, line
// count, start line, every kept header, find/next, body, Content-Length), with several sets.
TEST(Differential, KeepingSomeHeadersIndexesAsKeepingAll) {
    const auto samples = test::everything();
    std::mt19937_64 rng(20261203);
    sip::MessageParser all, some;
    size_t compared = 0, left = 0;
    for (const auto& s : samples) {
        for (int round = 0; round < 20; ++round) {
            const std::string msg = round == 0 ? s.bytes : mutate(s.bytes, rng);
            const sip::HeaderSet sets[] = {rewrite::kRewriteHeaders, rewrite::kDomainRuleHeaders, 0,
                                           rng() & ((sip::HeaderSet{1} << sip::kHeaderIdCount) - 1)};
            const auto& full = all.parse(msg);
            for (const sip::HeaderSet keep : sets) {
                const auto& idx = some.parse(msg, keep);
                ASSERT_EQ(test::describe_kept(idx, idx.kept), test::describe_kept(full, idx.kept))
                    << s.name << " round " << round << " keep " << keep;
                ASSERT_EQ(idx.line_count, full.header_count) << s.name << " round " << round;
                left += idx.line_count - idx.header_count;
                ++compared;
            }
        }
    }
    std::printf("  %zu indexes with some headers kept compared against all kept (%zu header lines left)\n", compared, left);
}

TEST(Differential, ContactsReadTheSameWithTheViasHostPortKnown) {
    // The Contact's host:port starts as the Via's sent-by and goes on with every byte value, or
    // stops short, or has its port cut or lengthened: reading it with the Via's host:port known
    // gives what reading it alone gives, every time.
    const std::string via = "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\n";
    const std::string via_noport = "Via: SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1\n";
    const std::string via_lws = "Via: SIP/2.0/UDP 192.168.1.10 : 5060;branch=z9hG4bK1\n";
    const char* hostports[] = {"192.168.1.10:5060", "192.168.1.10", "192.168.1.10:506", "192.168.1.10:50600",
                               "192.168.1.1", "192.168.1.100:5060", "192.168.1.10:5060:1"};
    int compared = 0;
    for (const std::string& v : {via, via_noport, via_lws})
        for (const char* hp : hostports)
            for (int t = 0; t < 256; ++t) {
                if (t == '\r' || t == '\n') continue;  // would end the header line
                const std::string after(1, static_cast<char>(t));
                for (const std::string& contact :
                     {"Contact: <sip:2001@" + std::string(hp) + after + ";transport=udp>\n",
                      "Contact: sip:2001@" + std::string(hp) + after + "\n",
                      "Contact: <sip:2001@" + std::string(hp) + ">\n"}) {
                    expect_same_with_known(test::crlf("REGISTER sip:x SIP/2.0\n" + v + contact + "l: 0\n\n"),
                                           v + contact);
                    ++compared;
                }
            }
    EXPECT_GT(compared, 15000);
    // And the reuse does happen where it should (a test that the fast path is exercised at all).
    const test::Parsed m(test::crlf("REGISTER sip:x SIP/2.0\n" + via + "Contact: <sip:2001@192.168.1.10:5060>\nl: 0\n\n"));
    sip::Via vv;
    ASSERT_TRUE(sip::top_via(m.buf, m.mv(), *m, vv));
    sip::Contact c[1];
    ASSERT_EQ(sip::parse_contact_values(m.buf, m.mv(), m->headers[1].value, c, 1, &vv.sent_by), 1u);
    EXPECT_EQ(m.t(c[0].uri.host.host), "192.168.1.10");
    EXPECT_EQ(m.t(c[0].uri.host.port), "5060");
    EXPECT_EQ(c[0].uri.host.ip, *IpAddr::parse("192.168.1.10"));
    EXPECT_NE(c[0].uri.host.host.off, vv.sent_by.host.off);  // the Contact's own offsets
}

TEST(Differential, SdpReadsTheSameWithTheAgentsAddressKnown) {
    // The SDP's address fields start as the Contact's (or, without one, the Via's) host and go on
    // with every byte value, stop short or run longer: read with that host known, as
    // extract_parts() does, they give what reading them alone gives.
    const char* fields[] = {"192.168.1.10", "192.168.1.1", "192.168.1.100", "192.168.1.10/127", "192.168.1.10/127/2",
                            "192.168.1.10.1", "192.168.1.1O"};
    int compared = 0;
    for (const bool contact : {true, false})
        for (const char* f : fields)
            for (int t = 0; t < 256; ++t) {
                if (t == '\n') continue;
                const std::string body = std::string("v=0\r\no=- 1 1 IN IP4 ") + f + std::string(1, static_cast<char>(t)) +
                                         "\r\nc=IN IP4 " + f + "\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:4001 IN IP4 " + f + "\r\n";
                const std::string msg = test::crlf("INVITE sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\n" +
                                                   std::string(contact ? "Contact: <sip:a@192.168.1.10:5060>\n" : "") +
                                                   "Content-Type: application/sdp\nContent-Length: " +
                                                   std::to_string(body.size()) + "\n\n") + body;
                expect_same_sdp_with_known(msg, msg);
                if (HasFailure()) return;
                ++compared;
            }
    EXPECT_EQ(compared, 2 * 7 * 255);
}

TEST(Differential, WhatIsKnownChangesNoParseOnCorpusAndMutations) {
    // The captures' NATed agents name one private address in Via, Contact and SDP. Each message
    // is read as it is, with 20 random mutations, and with the occurrences of its agent's address
    // (its Via's host) after the Via, or in the body only, one byte shorter, one digit longer or
    // with its last digit changed: the cases where a copy would be wrong. Contacts read with the Via's host:port known
    // and SDP bodies read with the agent's host known give what reading them alone gives.
    std::mt19937_64 rng(20261203);
    size_t near_misses = 0;
    for (const auto& s : test::everything()) {
        std::vector<std::string> msgs{s.bytes};
        for (int round = 0; round < 20; ++round) msgs.push_back(mutate(s.bytes, rng));
        const test::Parsed m(s.bytes);
        sip::Via via;
        if (m->complete() && sip::top_via(m.buf, m.mv(), *m, via) && via.valid && via.sent_by.kind == sip::HostKind::ipv4) {
            const std::string host(m.t(via.sent_by.host));
            const std::string last(1, static_cast<char>(host.back() == '9' ? '0' : host.back() + 1));
            // From just after the Via's host (the Contact's and the body's), or in the body only.
            for (const size_t from : {size_t{via.sent_by.host.end()}, size_t{m->body_off}})
                for (const std::string& other : {host.substr(0, host.size() - 1), host + "0", host.substr(0, host.size() - 1) + last}) {
                    std::string msg = s.bytes;
                    size_t at = msg.find(host, from), n = 0;
                    for (; at != std::string::npos; at = msg.find(host, at + other.size()), ++n) msg.replace(at, host.size(), other);
                    if (n) msgs.push_back(with_body_length(msg)), ++near_misses;
                }
        }
        for (size_t i = 0; i < msgs.size(); ++i) {
            const std::string name = s.name + " variant " + std::to_string(i);
            expect_same_with_known(msgs[i], name);
            expect_same_sdp_with_known(msgs[i], name);
            if (HasFailure()) return;
        }
    }
    EXPECT_GT(near_misses, 100u);
    std::printf("  %zu messages with their agent's address nearly repeated\n", near_misses);
}

// Messages over 4 KiB: the lazy scan's record of filled blocks takes more than one 64-bit word
// (64 blocks of 64 bytes), and a reader's ask can span words or leave holes. The corpus has no
// message that long; these are built so that every reader (Vias, Contacts, SDP lines, multipart
// parts) asks for blocks past the first 4 KiB, in runs and with gaps. Kernels against scalar, and
// lazy masks against a full scan, on each and on mutations of each.
namespace {

std::vector<std::string> large_messages() {
    std::vector<std::string> out;
    // Pads from 3,600 bytes by 13 put each Via, Contact and SDP line across the 4 KiB boundary
    // in one message or another (an ask that spans two words of the record); the long ones put
    // everything past it, with unread blocks between the reads.
    std::vector<std::size_t> pads{9000, 30000};
    for (std::size_t pad = 3600; pad < 4100; pad += 13) pads.push_back(pad);
    for (const std::size_t pad : pads) {
        std::string m = "INVITE sip:bob@198.51.100.10 SIP/2.0\r\n";
        m += "X-Pad: " + std::string(pad, 'p') + "\r\n";  // pushes every header after it past 4 KiB
        for (int i = 0; i < 6; ++i)
            m += "Via: SIP/2.0/UDP 192.168.1." + std::to_string(10 + i) + ":5060;branch=z9hG4bK" + std::to_string(i) +
                 ";rport, SIP/2.0/UDP [2001:db8::" + std::to_string(i) + "]:5070;received=10.0.0.1\r\n";
        for (int i = 0; i < 5; ++i)
            m += "Contact: \"A " + std::to_string(i) + "\" <sip:a" + std::to_string(i) + "@192.168.1.10:5060;transport=udp>;expires=60, <sip:b@[2001:db8::1]>\r\n";
        std::string sdp = "v=0\r\no=alice 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\n";
        for (int i = 0; i < 4; ++i) {
            sdp += "m=audio " + std::to_string(49170 + 2 * i) + " RTP/AVP 0 8 101\r\nc=IN IP4 10.0.0." + std::to_string(i) +
                   "\r\na=rtcp:" + std::to_string(49171 + 2 * i) + " IN IP4 192.168.1.10\r\n";
            sdp += "a=x-pad:" + std::string(pad / 8, 'q') + "\r\n";  // lines that leave blocks unread between
        }
        const std::string body = "--b1\r\nContent-Type: application/sdp\r\n\r\n" + sdp + "\r\n--b1\r\nContent-Type: text/plain\r\n\r\n" +
                                 std::string(pad / 4, 't') + "\r\n--b1--\r\n";
        m += "Content-Type: multipart/mixed;boundary=b1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        if (m.size() <= sip::kMaxMessage) out.push_back(m);
    }
    return out;
}

}  // namespace

TEST(Differential, MessagesOver4KiBParseAlikeLazyAndByEveryKernel) {
    const auto messages = large_messages();
    ASSERT_EQ(messages.size(), 41u);
    const simd::Kernel& scalar = *simd::kernel(simd::Backend::scalar);
    sip::MessageParser ref(scalar);
    std::mt19937_64 rng(20261205);
    std::size_t compared = 0;
    for (const simd::Kernel* k : simd::supported()) {
        sip::MessageParser p(*k);
        for (std::size_t i = 0; i < messages.size(); ++i) {
            ASSERT_GT(messages[i].size(), 4096u);
            for (int round = 0; round < 8; ++round) {
                const std::string msg = round == 0 ? messages[i] : mutate(messages[i], rng);
                const std::string want = sip::dump(msg, ref.mask_view(), ref.parse(msg));
                const auto& idx = p.parse(msg);
                const std::string got = sip::dump(msg, p.mask_view(), idx);
                ASSERT_EQ(got, want) << "message " << i << " round " << round << " kernel " << k->name;
                std::vector<simd::BlockMasks> full(simd::blocks_for(msg.size()) + 1);
                simd::scan_scalar(reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), full.data());
                ASSERT_EQ(sip::dump(msg, sip::MaskView{full.data(), static_cast<uint32_t>(msg.size())}, idx), got)
                    << "message " << i << " round " << round << " kernel " << k->name;
                if (round == 0) {
                    ASSERT_TRUE(idx.complete()) << sip::error_name(idx.error);
                    EXPECT_NE(got.find("2001:db8::5"), std::string::npos) << "the last Via's second value was read";
                    EXPECT_NE(got.find("10.0.0.3"), std::string::npos) << "the SDP's last c= line was read";
                }
                ++compared;
            }
        }
    }
    std::printf("  %zu parses of messages over 4 KiB compared\n", compared);
}
