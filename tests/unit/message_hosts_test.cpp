// MessageHosts (the hosts a domain rule may match, read without a full parse), directly and as the
// processor hands it to a rule set: DPDK-free, so these run in the ASan/UBSan build too, unlike
// the rule set's tests (rules_test.cpp, rte_lpm).
#include <farend/rewrite/message_hosts.hpp>
#include <farend/rewrite/processor.hpp>
#include <farend/sip/message.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace farend;

namespace {

// A request with these To and From values, parsed, and the reader of its hosts.
class ToFrom {
public:
    ToFrom(const std::string& to, const std::string& from)
        : m_("INVITE sip:r.example SIP/2.0\r\nTo: " + to + "\r\nFrom: " + from +
             "\r\nCall-ID: 1\r\nContent-Length: 0\r\n\r\n"),
          idx_(parser_.parse(m_)),
          hosts_(m_, parser_.mask_view(), idx_) {
        EXPECT_TRUE(idx_.complete()) << m_;
    }
    [[nodiscard]] const rewrite::MessageHosts& hosts() const noexcept { return hosts_; }

private:
    sip::MessageParser parser_;
    std::string m_;
    const sip::MessageIndex& idx_;
    rewrite::MessageHosts hosts_;
};

// A datagram in a buffer of exactly its size (so that ASan sees a read past its end), parsed, and
// the reader of its hosts.
class ExactHosts {
public:
    explicit ExactHosts(const std::string& m)
        : buf_(copy(m)), msg_(buf_.get(), m.size()), idx_(parser_.parse(msg_)), hosts_(msg_, parser_.mask_view(), idx_) {}
    [[nodiscard]] const sip::MessageIndex& index() const noexcept { return idx_; }
    [[nodiscard]] const rewrite::MessageHosts& hosts() const noexcept { return hosts_; }

private:
    static std::unique_ptr<char[]> copy(const std::string& m) {
        auto b = std::make_unique<char[]>(m.size());
        std::memcpy(b.get(), m.data(), m.size());
        return b;
    }
    std::unique_ptr<char[]> buf_;
    std::string_view msg_;
    sip::MessageParser parser_;
    const sip::MessageIndex& idx_;
    rewrite::MessageHosts hosts_;
};

}  // namespace

// From's host is taken to be To's without a search only when it is: From repeats To's value
// through the byte after To's host, and that host follows an '@'. Each case is also checked
// against both hosts read in full.
TEST(MessageHosts, FromRepeatsToOnlyWhenItsHostIsTos) {
    auto check = [](const std::string& to, const std::string& from) {
        const ToFrom msg(to, from);
        const rewrite::MessageHosts& hosts = msg.hosts();
        const std::string_view t = hosts.to();
        const bool repeats = hosts.from_repeats_to(t);
        if (repeats) {
            EXPECT_EQ(hosts.from(), t) << "To " << to << ", From " << from;
        }
        return repeats;
    };
    EXPECT_TRUE(check("<sip:2001@sip.example.net>", "<sip:2001@sip.example.net>;tag=7c3a9e21"));
    EXPECT_TRUE(check("\"Bob\" <sip:bob@b.example:5060>", "\"Bob\" <sip:bob@b.example:5070>;tag=1")) << "ports may differ";
    EXPECT_TRUE(check("sip:a@b.example;x=1", "sip:a@b.example;tag=1"));
    EXPECT_FALSE(check("<sip:2001@sip.example.net>", "<sip:2002@sip.example.net>;tag=1")) << "another user: read From";
    EXPECT_FALSE(check("<sip:a@b.example>", "<sip:a@b.example.evil>;tag=1")) << "a longer host";
    EXPECT_FALSE(check("<sip:b.example:5060>", "<sip:b.example:50@evil.example>;tag=1"))
        << "no '@' before To's host: From's '@' makes its host another";
    EXPECT_FALSE(check("sip:a@b.example", "sip:a@b.example.evil;tag=1")) << "To's host ends its value";
    EXPECT_FALSE(check("<tel:+15551234567>", "<tel:+15551234567>;tag=1")) << "no host";
    EXPECT_FALSE(check("<sip:a@b.example>", "<sip:a@b")) << "From shorter than the host and the byte after it";
    // Every split of a long shared prefix against the 32-byte window of the host search.
    for (std::size_t n = 1; n <= 40; ++n) {
        const std::string user(n, 'u');
        EXPECT_TRUE(check("<sip:" + user + "@t.example>", "<sip:" + user + "@t.example>;tag=" + user)) << n;
        EXPECT_FALSE(check("<sip:" + user + "@t.example>", "<sip:" + user + "@t.example.org>;tag=1")) << n;
    }
}

// The usual From: To's host again, taken from To without a search of From (from_if(to())) only
// when it is From's host; each case is also checked against From read in full.
TEST(MessageHosts, FromIfTakesTosHostOnlyWhenItIsFroms) {
    auto check = [](const std::string& to, const std::string& from) {
        const ToFrom msg(to, from);
        const rewrite::MessageHosts& hosts = msg.hosts();
        const std::string_view f = hosts.from_if(hosts.to());
        if (!f.empty()) {
            EXPECT_EQ(f.data(), hosts.from().data()) << "To " << to << ", From " << from;
            EXPECT_EQ(f.size(), hosts.from().size()) << "To " << to << ", From " << from;
        }
        return !f.empty();
    };
    EXPECT_TRUE(check("<sip:2001@sip.example.net>", "<sip:2001@sip.example.net>;tag=7c3a9e21"));
    EXPECT_TRUE(check("<sip:2001@sip.example.net>", "\"Alice\" <sip:2002@sip.example.net>;tag=1")) << "another user";
    EXPECT_TRUE(check("<sip:sip.example.net>", "<sip:2002@sip.example.net>;tag=1")) << "To without a user part";
    EXPECT_FALSE(check("\"Bob\" <sip:bob@b.example:5060>", "\"Bob\" <sip:bob@b.example:5070>;tag=1"))
        << "a port: From is read in full";
    EXPECT_FALSE(check("sip:a@b.example;x=1", "sip:a@b.example;tag=1")) << "an addr-spec: read in full";
    EXPECT_FALSE(check("<sip:a@b.example>", "<sip:a@b.example.evil>;tag=1")) << "a longer host";
    EXPECT_FALSE(check("<sip:a@b.example>", "<sip:a@evil.b.example>;tag=1")) << "a host ending in To's";
    EXPECT_FALSE(check("<sip:b.example:5060>", "<sip:b.example:50@evil.example>;tag=1")) << "the '@' starts the host";
    EXPECT_FALSE(check("<tel:+15551234567>", "<tel:+15551234567>;tag=1")) << "no host";
    EXPECT_FALSE(check("<sip:a@b.example>", "<sip:a@b")) << "no '>'";
    // Every user part length across the 32-byte window after "<sip:": answered while '>' is in it.
    for (std::size_t n = 1; n <= 40; ++n) {
        const std::string user(n, 'u');
        const bool gt_in_window = n + std::string_view("@t.example").size() < 32;
        EXPECT_EQ(check("<sip:" + user + "@t.example>", "<sip:" + user + "@t.example>;tag=" + user), gt_in_window) << n;
        EXPECT_FALSE(check("<sip:" + user + "@t.example>", "<sip:" + user + "@t.example.org>;tag=1")) << n;
    }
}

// to_if(known)/from_if(known) answer only when the header's host is certainly `known`, and then
// with the very view to()/from() give; else nothing (the caller reads the header in full).
TEST(MessageHosts, HostIfAnswersOnlyWithTheHostItself) {
    sip::MessageParser parser;
    // The answer for To's value `to` given `known`; checked against to(), and From alike.
    auto ask = [](const std::string& to, const std::string& known) {
        const ToFrom msg(to, to + ";tag=1");
        const rewrite::MessageHosts& hosts = msg.hosts();
        const std::string_view full = hosts.to(), got = hosts.to_if(known);
        if (!got.empty()) {
            EXPECT_EQ(got.data(), full.data()) << "To " << to << ", known " << known;
            EXPECT_EQ(got.size(), full.size()) << "To " << to << ", known " << known;
            EXPECT_EQ(got, known) << "To " << to;
        }
        const std::string_view from = hosts.from_if(known);
        EXPECT_EQ(from.empty(), got.empty()) << "To " << to << ", known " << known;
        if (!from.empty()) {
            EXPECT_EQ(from.data(), hosts.from().data());
        }
        return std::string(got);
    };
    EXPECT_EQ(ask("<sip:2001@sip.example.net>", "sip.example.net"), "sip.example.net");
    EXPECT_EQ(ask("\"Alice\" <sip:2001@sip.example.net>", "sip.example.net"), "sip.example.net");
    EXPECT_EQ(ask("<SIP:sip.example.net>", "sip.example.net"), "sip.example.net") << "no user part";
    EXPECT_EQ(ask("<sip:a@b@h.example>", "b@h.example"), "b@h.example") << "the host after the first '@'";
    EXPECT_EQ(ask("<sip:h.example@h.example>", "h.example"), "h.example");
    // Nothing where the host is another, or where being sure would take the full search.
    EXPECT_EQ(ask("<sip:a@b@h.example>", "h.example"), "") << "the first '@' starts the host";
    EXPECT_EQ(ask("<sip:h@example>", "h@example"), "") << "with no user part, '@' would start the host";
    EXPECT_EQ(ask("<sip:a@x;p=h.example>", "h.example"), "") << "a parameter's value";
    EXPECT_EQ(ask("<sip:a@h.example:5060>", "h.example"), "") << "a port: to() reads it";
    EXPECT_EQ(ask("<sip:x>@h.example>", "h.example"), "") << "the URI ends at the first '>'";
    EXPECT_EQ(ask("<sip:a@evil.h.example>", "h.example"), "") << "a longer host";
    EXPECT_EQ(ask("<sip:a@h.example>", "a@h.example"), "");
    EXPECT_EQ(ask("sip:a@h.example", "h.example"), "") << "an addr-spec: to() reads it";
    EXPECT_EQ(ask("<sips:a@h.example>", "h.example"), "") << "sips: to() reads it";
    EXPECT_EQ(ask("<sip:a@[2001:db8::1]>", "[2001:db8::1]"), "") << "IPv6 references: to() reads them";
    EXPECT_EQ(ask("<sip:a@h.example>", ""), "");
    EXPECT_EQ(ask("\"<sip:a@h.example>\" <sip:b@g.example>", "h.example"), "") << "a quoted display name";
    EXPECT_EQ(ask("<sip:" + std::string(40, 'u') + "@h.example>", "h.example"), "") << "past the 32-byte window";
    {  // A '>' on the next line is not the URI's end.
        const std::string m = "INVITE sip:r SIP/2.0\r\nTo: <sip:a\r\nB: @h.example>\r\nContent-Length: 0\r\n\r\n";
        const sip::MessageIndex& idx = parser.parse(m);
        ASSERT_TRUE(idx.complete());
        const rewrite::MessageHosts hosts(m, parser.mask_view(), idx);
        EXPECT_EQ(hosts.to(), "a");
        EXPECT_EQ(hosts.to_if("h.example"), "");
    }
    // Every length of user part across the 32-byte window, and every byte the URI may hold in a
    // few places, against hosts to() gives and some it does not.
    const std::string bytes = "a@>:;?.\"<";
    std::size_t answered = 0, asked = 0;
    for (std::size_t n = 0; n <= 34; ++n)
        for (char c1 : bytes)
            for (char c2 : bytes) {
                std::string user(n, 'u');
                if (n) user[n / 2] = c1;
                const std::string to = "<sip:" + user + (n ? "@" : "") + "h" + c2 + "x.example>";
                if (!parser.parse("INVITE sip:r SIP/2.0\r\nTo: " + to + "\r\n\r\n").complete()) continue;
                for (const std::string& known : {std::string("h") + c2 + "x.example", std::string("x.example"),
                                                user + "@h" + c2 + "x.example", std::string(1, c2) + "x.example"}) {
                    if (known.find_first_of(":;?") != std::string::npos) continue;  // never a host to() gives
                    ++asked;
                    answered += !ask(to, known).empty();
                }
            }
    EXPECT_GT(answered, asked / 20) << "the usual form is answered (" << answered << " of " << asked << ")";
    EXPECT_LT(answered, asked) << "and not every form";
}

namespace {

// Records the hosts the processor hands to the rules.
class Spy final : public rewrite::PolicySource {
public:
    std::vector<std::string> hosts;
    bool wants_domains() const noexcept override { return true; }
    bool uses_alias() const noexcept override { return false; }
    const rewrite::Policy* resolve(const rewrite::PolicyQuery& q, unsigned) noexcept override {
        hosts.clear();
        for (uint8_t i = 0; i < q.host_count; ++i) hosts.emplace_back(q.hosts[i]);
        if (q.message)  // every host the message has, each once as written
            for (std::string_view h : {q.message->request_uri(), q.message->to(), q.message->from()})
                if (!h.empty() && std::find(hosts.begin(), hosts.end(), h) == hosts.end()) hosts.emplace_back(h);
        return nullptr;
    }
};

}  // namespace

// A To or From whose quoted display name is never closed, as the last header of the datagram: no
// host. The reader stood one past the value's end and searched for the scheme's colon in a range
// that ran backwards, off the end of the datagram (fuzz_rewrite found it; ASan sees it here, the
// datagram in a buffer of its own size with no ':' after the value).
TEST(MessageHosts, AnUnclosedDisplayNameEndingTheDatagramHasNoHost) {
    for (const std::string last : {"To: \"Jan_", "To: \"", "From: \"x", "To: \"a\\\""}) {
        const std::string m = "REGISTER sip:voip.net SIP/2.0\nCall-ID: 1\n" + last + "\n\n";
        const ExactHosts e(m);
        ASSERT_TRUE(e.index().complete()) << m;
        const rewrite::MessageHosts& hosts = e.hosts();
        EXPECT_EQ(hosts.to(), "") << last;
        EXPECT_EQ(hosts.from(), "") << last;
        EXPECT_EQ(hosts.request_uri(), "voip.net") << last;
        EXPECT_EQ(hosts.to_if("voip.net"), "") << last;
        EXPECT_EQ(hosts.from_if("voip.net"), "") << last;
    }
}

TEST(MessageHosts, HostsOfTheRequestUriToAndFrom) {
    rewrite::Processor p(rewrite::Options{});
    Spy spy;
    auto hosts = [&](const std::string& start, const std::string& to, const std::string& from) {
        const std::string m = start + "\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\r\nTo: " + to + "\r\nFrom: " + from +
                              "\r\nCall-ID: 1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
        std::string first = m;  // processed once without rules first, as before
        first.resize(m.size() + 512);
        p.process(first.data(), static_cast<uint32_t>(m.size()), static_cast<uint32_t>(first.size()),
                  nat::Source{*IpAddr::parse("203.0.113.5"), 40000}, nullptr);
        spy.hosts = {"(not called)"};
        std::string buf = m;
        buf.resize(m.size() + 512);
        p.process(buf.data(), static_cast<uint32_t>(m.size()), static_cast<uint32_t>(buf.size()),
                  nat::Source{*IpAddr::parse("203.0.113.5"), 40000}, &spy);
        std::string joined;
        for (const auto& h : spy.hosts) joined.append(joined.empty() ? "" : " ").append(h);
        return joined;
    };
    EXPECT_EQ(hosts("INVITE sip:bob@Voice.Example.NET:5060;user=phone SIP/2.0", "<sip:bob@voice.example.net>",
                    "\"Alice <sip:x@evil.example>\" <sip:alice@acme.example>;tag=1"),
              "Voice.Example.NET voice.example.net acme.example")
        << "as written (matching ignores case), exact duplicates dropped, quoted display names skipped";
    EXPECT_EQ(hosts("INVITE sips:[2001:db8::1]:5061 SIP/2.0", "Bob <SIPS:bob@[2001:DB8::1]>", "sip:a@b.example;tag=1"),
              "[2001:db8::1] [2001:DB8::1] b.example")
        << "IPv6 references whole; a To without quotes";
    EXPECT_EQ(hosts("INVITE sip:carol:secret@c.example?subject=x SIP/2.0", "<tel:+15551234567>", "<sip:d.example>;tag=1"),
              "c.example d.example")
        << "password, headers and tel: URIs";
    EXPECT_EQ(hosts("OPTIONS sip:e.example SIP/2.0", "\"Q \\\"x\\\" sip:no@f.example\" <sip:g.example>", "<sip:h.example>;tag=1"),
              "e.example g.example h.example")
        << "escaped quotes inside the display name";
    EXPECT_EQ(hosts("OPTIONS sip:e.example SIP/2.0", "\"A display name longer than the 32-byte window\" <sip:i.example>",
                    "\"\\\"\" <sip:j.example>;tag=1"),
              "e.example i.example j.example")
        << "a closing quote past the 32-byte window; an escaped quote first in the window";
    EXPECT_EQ(hosts("INVITE sip:alice;day=tuesday@atlanta.example SIP/2.0", "<sip:bob;x=1?y@b2.example:5070>",
                    "\"A\" <sip:a@c2.example;lr>;tag=1"),
              "atlanta.example b2.example c2.example")
        << "';' and '?' in a user part (RFC 3261 user-unreserved) are not the host's end";
    EXPECT_EQ(hosts("INVITE sip:a-rather-long-user-name.with.dots@long-host-name.customer.example:5070;transport=udp SIP/2.0",
                    "Bob <sip:another-rather-long-user-name@to-host.example.org>", "sip:x@from.example ;tag=1"),
              "long-host-name.customer.example to-host.example.org from.example")
        << "URIs longer than the 32-byte window, a token display name, white space ending an addr-spec";
    EXPECT_EQ(hosts("REGISTER sip:voip.net:5060 SIP/2.0", "\"Jan_", "\"Jan Janak\" <sip:janakj@dhcp246.fokus.gmd.de>"),
              "voip.net dhcp246.fokus.gmd.de")
        << "a To whose quoted display name is never closed";
    // Every place the URI's end can fall relative to the 32-byte window after the scheme.
    for (std::size_t n = 0; n <= 40; ++n) {
        const std::string user(n, 'u');
        const std::string at = n ? user + "@" : "";
        EXPECT_EQ(hosts("INVITE sip:" + at + "r.example SIP/2.0", "<sip:" + at + "t.example>", "sip:" + at + "f.example:5060;tag=1"),
                  "r.example t.example f.example")
            << "user of " << n << " bytes";
    }
}

// The display names that need the quote masks (an escaped quote: the 32-byte window is not
// enough) and the URIs too long for the short path, where they cross the 4 KiB boundary of the
// lazy scan's record of filled blocks (one 64-bit word per 64 blocks): the blocks asked for span
// two words, and the masks scanned for them must give the hosts a short message gives.
TEST(MessageHosts, ValuesAcrossTheFourKiBBoundaryReadAsShortOnes) {
    const std::string to = "\"Q \\\"x\\\" sip:no@f.example and a name that runs on for a while\" <sip:g.example>";
    const std::string from = "\"\\\"\\\" " + std::string(40, 'n') + "\" <sip:" + std::string(70, 'u') +
                             "@a-long-host-name.from.example:5070;transport=udp>;tag=1";
    std::size_t crossed = 0;
    for (std::size_t pad = 3850; pad < 4150; pad += 3) {
        const std::string m = "INVITE sip:" + std::string(60, 'r') + "@request-uri.example SIP/2.0\r\nX-Pad: " +
                              std::string(pad, 'p') + "\r\nTo: " + to + "\r\nFrom: " + from +
                              "\r\nCall-ID: 1\r\nContent-Length: 0\r\n\r\n";
        const std::size_t to_at = m.find("\r\nTo: ") + 6, from_end = m.find("\r\nCall-ID");
        if (to_at < 4096 && from_end > 4096) ++crossed;
        const ExactHosts e(m);
        ASSERT_TRUE(e.index().complete()) << pad;
        const rewrite::MessageHosts& hosts = e.hosts();
        EXPECT_EQ(hosts.to(), "g.example") << pad;
        EXPECT_EQ(hosts.from(), "a-long-host-name.from.example") << pad;
        EXPECT_EQ(hosts.request_uri(), "request-uri.example") << pad;
    }
    EXPECT_GT(crossed, 20u);
}
