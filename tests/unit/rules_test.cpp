// Rules: parsing, precedence (prefix vs domain, wildcards, IPv6), inheritance of the global
// settings, hit counters, 10,000 domains in one Hyperscan database, and what the processor does
// with each action. rte_lpm needs the EAL: this binary starts one without hugepages or PCI.
#include <farend/rules/rules.hpp>
#include <farend/rewrite/message_hosts.hpp>

#include <gtest/gtest.h>
#include <rte_eal.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace farend;
using namespace farend::rules;
using rewrite::RuleAction;

namespace {

std::unique_ptr<RuleSet> make(const std::vector<std::string>& texts, unsigned workers = 1,
                              const rewrite::Options& defaults = {}) {
    std::string err;
    auto specs = parse_rules(texts, &err);
    EXPECT_TRUE(specs) << err;
    if (!specs) return nullptr;
    auto rs = RuleSet::build(std::move(*specs), defaults, workers, &err);
    EXPECT_TRUE(rs) << err;
    return rs;
}

rewrite::PolicyQuery query(const char* src, std::initializer_list<std::string_view> hosts = {}) {
    rewrite::PolicyQuery q;
    q.source = *IpAddr::parse(src);
    for (auto h : hosts) q.hosts[q.host_count++] = h;
    return q;
}

std::string matched(RuleSet& rs, const rewrite::PolicyQuery& q) {
    const int32_t r = rs.match(q, 0);
    return r < 0 ? "none" : rs.spec(static_cast<std::size_t>(r)).name;
}

}  // namespace

TEST(RuleSpec, ParsesEveryKey) {
    std::string err;
    auto s = parse_rule("name=acme source=198.51.100.0/24 domain=*.ACME.example action=force nat-tests=all "
                        "rewrite=via,contact contact-mode=alias", 0, &err);
    ASSERT_TRUE(s) << err;
    EXPECT_EQ(s->name, "acme");
    EXPECT_EQ(s->source->to_string(), "198.51.100.0/24");
    EXPECT_EQ(s->domain, "*.acme.example");
    EXPECT_TRUE(s->wildcard());
    EXPECT_EQ(s->action, RuleAction::force);
    EXPECT_EQ(*s->tests, nat::kAllTests);
    EXPECT_TRUE(s->rewrites->via && s->rewrites->contact && !s->rewrites->sdp);
    EXPECT_EQ(*s->contact_mode, rewrite::ContactMode::alias);
    auto d = parse_rule("  domain=[2001:db8::1]\taction=never ", 4, &err);
    ASSERT_TRUE(d) << err;
    EXPECT_EQ(d->name, "rule5");
}

TEST(RuleSpec, BadRulesNameTheProblem) {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"source=10.1.0.0/8 action=drop", "source '10.1.0.0/8'"},
        {"source=10.0.0.0/8", "sets nothing"},
        {"action=drop", "matches nothing"},
        {"domain=*.*.example action=drop", "domain '*.*.example'"},
        {"domain=exa mple.com action=drop", "'mple.com' is not key=value"},
        {"domain=example..com action=drop", "domain"},
        {"source=10.0.0.0/8 action=maybe", "action 'maybe'"},
        {"source=10.0.0.0/8 nat-tests=bogus", "nat-tests"},
        {"source=10.0.0.0/8 rewrite=everything", "rewrite"},
        {"source=10.0.0.0/8 contact-mode=both", "contact-mode 'both'"},
        {"source=10.0.0.0/8 colour=blue", "unknown key 'colour'"},
    };
    for (const auto& [text, want] : bad) {
        std::string err;
        EXPECT_FALSE(parse_rule(text, 0, &err)) << text;
        EXPECT_NE(err.find(want), std::string::npos) << text << " -> " << err;
    }
    std::string err;
    EXPECT_FALSE(parse_rules({"source=10.0.0.0/8 action=drop", "name=x action=drop"}, &err));
    EXPECT_NE(err.find("rule 2 ('name=x action=drop')"), std::string::npos) << err;
}

TEST(RuleSet, PrecedencePrefixThenDomain) {
    auto rs = make({
        "name=r1 source=198.51.100.0/24 action=force",
        "name=r2 source=198.51.100.128/25 action=never",
        "name=r3 source=198.51.100.128/25 domain=*.acme.example action=drop",
        "name=r4 domain=acme.example action=force contact-mode=alias",
        "name=r5 domain=*.example nat-tests=all",
        "name=r6 source=2001:db8::/32 action=drop",
        "name=r7 source=198.51.100.200/32 domain=other.example action=auto",
        "name=r8 domain=*.acme.example action=never",
        "name=r9 domain=acme.example action=drop",
        "name=r10 source=2001:db8:1::/48 domain=*.example action=force",
    });
    ASSERT_TRUE(rs);
    RuleSet& r = *rs;
    EXPECT_EQ(matched(r, query("198.51.100.5")), "r1");
    EXPECT_EQ(matched(r, query("198.51.100.130")), "r2") << "the longer prefix wins";
    EXPECT_EQ(matched(r, query("198.51.100.130", {"sip.acme.example"})), "r3") << "a domain rule beats one without";
    EXPECT_EQ(matched(r, query("198.51.100.200", {"foo.acme.example"})), "r3")
        << "the /32's rules do not match: the next shorter prefix decides";
    EXPECT_EQ(matched(r, query("198.51.100.200", {"other.example"})), "r7");
    EXPECT_EQ(matched(r, query("198.51.100.200")), "r2");
    EXPECT_EQ(matched(r, query("203.0.113.1", {"acme.example"})), "r4") << "exact; r9 names it later";
    EXPECT_EQ(matched(r, query("203.0.113.1", {"ACME.Example"})), "r4") << "case-insensitive";
    EXPECT_EQ(matched(r, query("203.0.113.1", {"sip.acme.example"})), "r8") << "the longer wildcard";
    EXPECT_EQ(matched(r, query("203.0.113.1", {"a.b.c.example"})), "r5") << "a wildcard covers any depth";
    EXPECT_EQ(matched(r, query("203.0.113.1", {"example"})), "none") << "not the name itself";
    EXPECT_EQ(matched(r, query("203.0.113.1", {"acme.example.net"})), "none") << "anchored at the end";
    EXPECT_EQ(matched(r, query("203.0.113.1", {"xacme.example"})), "r5") << "exact is exact; the wildcard takes it";
    EXPECT_EQ(matched(r, query("203.0.113.1", {"x.org", "acme.example"})), "r4") << "any of the hosts";
    EXPECT_EQ(matched(r, query("203.0.113.1", {"x.org"})), "none");
    EXPECT_EQ(matched(r, query("2001:db8::1")), "r6");
    EXPECT_EQ(matched(r, query("2001:db8:1::9", {"sip.example"})), "r10") << "IPv6 longest prefix with a domain";
    EXPECT_EQ(matched(r, query("2001:db8:1::9", {"sip.other"})), "r6");
    EXPECT_EQ(matched(r, query("2001:db9::1")), "none");
    EXPECT_TRUE(r.wants_domains());
    EXPECT_TRUE(r.uses_alias());
}

// A host's domains come from Hyperscan the first time, from the worker's host cache after: both
// must give the same rule, the most specific one when a host matches several domains (the cache
// keeps them sorted; found first, they are copied as they are).
TEST(RuleSet, TheHostCacheAnswersAsTheScanDid) {
    auto rs = make({
        "name=broad domain=*.example action=force",
        "name=deeper domain=*.acme.example action=never",
        "name=deepest domain=*.sip.acme.example action=drop",
        "name=exact domain=sip.acme.example action=auto",
        "name=other domain=*.net action=force",
        "name=cust source=198.51.100.0/24 domain=*.acme.example action=drop",
        "name=cust-plain source=198.51.100.0/24 action=auto",
    });
    ASSERT_TRUE(rs);
    const std::vector<std::pair<rewrite::PolicyQuery, std::string>> cases = {
        {query("203.0.113.1", {"a.sip.acme.example"}), "deepest"},
        {query("203.0.113.1", {"sip.acme.example"}), "exact"},
        {query("203.0.113.1", {"x.acme.example"}), "deeper"},
        {query("203.0.113.1", {"x.example"}), "broad"},
        {query("203.0.113.1", {"x.example", "a.sip.acme.example"}), "deepest"},
        {query("203.0.113.1", {"a.sip.acme.example", "x.net"}), "deepest"},
        {query("203.0.113.1", {"x.net", "x.example"}), "broad"},
        {query("198.51.100.7", {"a.sip.acme.example"}), "cust"},
        {query("198.51.100.7", {"x.example"}), "cust-plain"},
    };
    for (int pass = 0; pass < 2; ++pass) {
        const uint64_t hits = rs->cache_hits(), scans = rs->cache_misses();
        for (const auto& [q, want] : cases) EXPECT_EQ(matched(*rs, q), want) << q.hosts[0] << " pass " << pass;
        if (pass == 0) {
            EXPECT_GT(rs->cache_misses(), scans) << "the first pass scans";
        } else {
            EXPECT_EQ(rs->cache_misses(), scans) << "the second pass only reads the cache";
            EXPECT_GT(rs->cache_hits(), hits);
        }
    }
}

TEST(RuleSet, PoliciesInheritTheGlobalSettings) {
    rewrite::Options defaults;
    defaults.detect.tests = nat::bit(nat::Test::via_private);
    defaults.rewrite.sdp = false;
    defaults.rewrite.contact_mode = rewrite::ContactMode::alias;
    auto rs = make({"source=10.0.0.0/8 action=force", "source=10.1.0.0/16 nat-tests=sdp-private rewrite=via contact-mode=rewrite"},
                   1, defaults);
    ASSERT_TRUE(rs);
    const rewrite::Policy& a = rs->policy(0);
    EXPECT_EQ(a.action, RuleAction::force);
    EXPECT_EQ(a.tests, nat::bit(nat::Test::via_private));
    EXPECT_FALSE(a.rewrite.sdp);
    EXPECT_EQ(a.rewrite.contact_mode, rewrite::ContactMode::alias);
    const rewrite::Policy& b = rs->policy(1);
    EXPECT_EQ(b.action, RuleAction::auto_);
    EXPECT_EQ(b.tests, nat::bit(nat::Test::sdp_private));
    EXPECT_TRUE(b.rewrite.via);
    EXPECT_FALSE(b.rewrite.contact);
    EXPECT_EQ(b.rewrite.contact_mode, rewrite::ContactMode::rewrite);
    EXPECT_FALSE(rs->wants_domains());
}

TEST(RuleSet, HostsAreReadOnlyWhenTheyCanDecide) {
    // Global domain rules; a customer /8 with a plain rule (decided by its source alone); a /16
    // inside it with a domain rule; a /24 elsewhere with neither (falls through to the globals).
    auto rs = make({"name=global domain=*.example.com action=never", "name=cust source=10.0.0.0/8 action=force",
                    "name=cust-dom source=10.1.0.0/16 domain=example.org action=drop",
                    "name=empty source=192.0.2.0/24 domain=example.net action=never",
                    "name=plain6 source=2001:db8::/32 action=force"});
    ASSERT_TRUE(rs);
    struct Case {
        const char* src;
        bool wants;
        const char* plain;  // the rule whatever the hosts, when they are skipped
    } cases[] = {{"10.9.9.9", false, "cust"},   // the /8's plain rule decides
                 {"10.1.2.3", true, ""},        // the /16's domain rule comes first
                 {"192.0.2.7", true, ""},       // its own domain rule, then the globals
                 {"198.51.100.1", true, ""},    // the root: global domain rules
                 {"2001:db8::1", false, "plain6"}, {"2001:db9::1", true, ""}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.src);
        EXPECT_EQ(rs->wants_hosts(*IpAddr::parse(c.src)), c.wants);
        // A source whose hosts are skipped gets its prefix's plain rule whatever they match (the
        // globals' domains among them: the most specific prefix wins).
        if (!c.wants)
            for (auto hosts : {std::vector<std::string_view>{}, {"a.example.com"}, {"example.org"}, {"example.net", "x.example.com"}}) {
                rewrite::PolicyQuery q = query(c.src);
                for (auto h : hosts) q.hosts[q.host_count++] = h;
                EXPECT_EQ(matched(*rs, q), c.plain);
            }
    }
    EXPECT_EQ(matched(*rs, query("10.1.2.3", {"example.org"})), "cust-dom");
    EXPECT_EQ(matched(*rs, query("10.1.2.3", {"example.net"})), "cust");
    // Without domain rules no source needs hosts.
    auto plain = make({"source=10.0.0.0/8 action=force"});
    ASSERT_TRUE(plain);
    EXPECT_FALSE(plain->wants_hosts(*IpAddr::parse("10.1.1.1")));
}

TEST(RuleSet, StopsReadingHostsOnlyWhenTheOthersCannotChangeTheRule) {
    // A /16 whose most specific domain is exact b.example.net, then *.example.net; its parent /8
    // has a plain rule; global domain rules at the root, one more specific than the /16's.
    auto rs = make({"name=g-exact domain=a.example.com action=never", "name=g-wild domain=*.example.com action=never",
                    "name=g-org domain=example.org action=drop", "name=cust source=10.0.0.0/8 action=force",
                    "name=b source=10.1.0.0/16 domain=b.example.net action=drop",
                    "name=wild source=10.1.0.0/16 domain=*.example.net action=never",
                    "name=deep domain=x.y.z.example.org action=force"});
    ASSERT_TRUE(rs);
    // The decision is that of the most specific domain any host matches: the same in whatever
    // order the hosts come, although the lookup stops at the first host that matches its
    // group's most specific domain.
    const std::string_view pool[] = {"b.example.net", "c.example.net", "a.example.com", "q.example.com", "example.org",
                                     "x.y.z.example.org", "nothing.example"};
    for (const char* src : {"10.1.2.3", "10.2.0.1", "192.0.2.1"})
        for (auto h1 : pool)
            for (auto h2 : pool)
                for (auto h3 : pool) {
                    const std::string want = matched(*rs, query(src, {h1, h2, h3}));
                    for (auto order : {std::array{h1, h3, h2}, std::array{h2, h1, h3}, std::array{h2, h3, h1},
                                       std::array{h3, h1, h2}, std::array{h3, h2, h1}})
                        ASSERT_EQ(matched(*rs, query(src, {order[0], order[1], order[2]})), want)
                            << src << " " << h1 << " " << h2 << " " << h3;
                }
    EXPECT_EQ(matched(*rs, query("10.1.2.3", {"c.example.net", "b.example.net"})), "b");
    EXPECT_EQ(matched(*rs, query("10.1.2.3", {"c.example.net", "x.example.com"})), "wild");
    EXPECT_EQ(matched(*rs, query("10.1.2.3", {"nothing.example", "example.org"})), "cust");

    // Through the processor: the Request-URI's host is looked up first; To's and From's only when
    // it did not match the group's most specific domain (host-cache lookups count them).
    rewrite::Processor p(rewrite::Options{});
    auto lookups = [&](const std::string& ruri_host) {
        const uint64_t before = rs->cache_hits() + rs->cache_misses();
        const std::string m = "OPTIONS sip:" + ruri_host + " SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\r\n"
                              "To: <sip:t@to.example.org>\r\nFrom: <sip:f@from.example.org>;tag=1\r\nCall-ID: 1\r\n"
                              "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
        std::string buf = m;
        buf.resize(m.size() + 512);
        p.process(buf.data(), static_cast<uint32_t>(m.size()), static_cast<uint32_t>(buf.size()),
                  nat::Source{*IpAddr::parse("10.1.2.3"), 40000}, rs.get());
        return rs->cache_hits() + rs->cache_misses() - before;
    };
    EXPECT_EQ(lookups("b.example.net"), 1u) << "the /16's most specific domain: To and From cannot change it";
    EXPECT_EQ(lookups("c.example.net"), 3u) << "*.example.net: b.example.net in To or From would win";
    EXPECT_EQ(lookups("elsewhere.test.org"), 3u);
    // No domain ends in 'e' or a digit: such hosts match none and are not looked up.
    EXPECT_EQ(lookups("elsewhere.example"), 2u);
    EXPECT_EQ(lookups("203.0.113.10"), 2u);
}

TEST(RuleSet, HostsEndingInNoDomainsLastByteAreNotLookedUp) {
    auto rs = make({"name=net domain=*.example.net action=never", "name=ip domain=203.0.113.10 action=drop",
                    "name=v6 domain=[2001:db8::1] action=force"});
    ASSERT_TRUE(rs);
    auto lookups = [&](std::string_view host, const char* want) {
        const uint64_t before = rs->cache_hits() + rs->cache_misses();
        EXPECT_EQ(matched(*rs, query("192.0.2.1", {host})), want) << host;
        return rs->cache_hits() + rs->cache_misses() - before;
    };
    EXPECT_EQ(lookups("a.example.net", "net"), 1u);
    EXPECT_EQ(lookups("A.EXAMPLE.NET", "net"), 1u) << "the last byte in either case";
    EXPECT_EQ(lookups("203.0.113.10", "ip"), 1u) << "a domain ends in '0'";
    EXPECT_EQ(lookups("[2001:DB8::1]", "v6"), 1u);
    EXPECT_EQ(lookups("203.0.113.11", "none"), 0u) << "no domain ends in '1'";
    EXPECT_EQ(lookups("a.example.com", "none"), 0u);
    EXPECT_EQ(lookups("a.example.ne", "none"), 0u);
    EXPECT_EQ(lookups("example.net.", "none"), 0u) << "a trailing dot";
    EXPECT_EQ(lookups("", "none"), 0u);
}

TEST(RuleSet, HitsPerWorkerSummed) {
    auto rs = make({"name=a source=10.0.0.0/8 action=never", "name=b domain=example.com action=drop"}, 2);
    ASSERT_TRUE(rs);
    for (int i = 0; i < 3; ++i) EXPECT_NE(rs->resolve(query("10.1.2.3"), 0), nullptr);
    EXPECT_NE(rs->resolve(query("10.1.2.3"), 1), nullptr);
    EXPECT_NE(rs->resolve(query("192.0.2.1", {"example.com"}), 1), nullptr);
    EXPECT_EQ(rs->resolve(query("192.0.2.1", {"example.org"}), 1), nullptr);
    EXPECT_EQ(rs->hits(0), 4u);
    EXPECT_EQ(rs->hits(1), 1u);
}

TEST(RuleSet, TenThousandDomainRulesCompiledAndMatched) {
    std::vector<std::string> texts;
    for (int i = 0; i < 10000; ++i) {
        std::string t = "name=c";
        t.append(std::to_string(i)).append(" domain=").append(i % 2 ? "*." : "").append("customer");
        t.append(std::to_string(i)).append(".example.net action=").append(i % 3 ? "force" : "never");
        texts.push_back(std::move(t));
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto rs = make(texts, 1);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(rs);
    std::printf("10,000 domain rules compiled in %.0f ms\n", ms);
    for (int i = 0; i < 10000; i += 7) {
        std::string host = i % 2 ? "pbx.customer" : "customer";
        host.append(std::to_string(i)).append(".example.net");
        std::string want = "c";
        want.append(std::to_string(i));
        EXPECT_EQ(matched(*rs, query("192.0.2.1", {host})), want) << host;
    }
    EXPECT_EQ(matched(*rs, query("192.0.2.1", {"customer1.example.net"})), "none") << "odd ones are wildcards only";
    EXPECT_EQ(matched(*rs, query("192.0.2.1", {"customer10000.example.net"})), "none");
}

namespace {

rewrite::Result process(rewrite::Processor& p, std::string msg, const char* src, uint16_t port, RuleSet* rs,
                        std::string* out = nullptr) {
    msg.resize(msg.size() + 512);
    const auto r = p.process(msg.data(), static_cast<uint32_t>(msg.size() - 512), static_cast<uint32_t>(msg.size()),
                             nat::Source{*IpAddr::parse(src), port}, rs);
    if (out) *out = msg.substr(0, r.size);
    return r;
}

const char* kNatted =
    "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\r\n"
    "To: <sip:alice@example.com>\r\nFrom: <sip:alice@example.com>;tag=1\r\n"
    "Contact: <sip:alice@192.168.1.10:5060>\r\nContent-Length: 0\r\n\r\n";
const char* kPublic =
    "REGISTER sip:pbx.acme.example SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK2\r\n"
    "To: <sip:100@pbx.acme.example>\r\nFrom: <sip:100@pbx.acme.example>;tag=1\r\n"
    "Contact: <sip:100@198.51.100.7:5060>\r\nContent-Length: 0\r\n\r\n";

}  // namespace

TEST(RuleSet, ProcessorAppliesEachAction) {
    auto rs = make({"name=nev source=203.0.113.0/24 action=never", "name=drp source=192.0.2.0/24 action=drop",
                    "name=frc domain=*.acme.example action=force nat-tests=none", "name=als source=198.51.100.99/32 contact-mode=alias"});
    ASSERT_TRUE(rs);
    rewrite::Processor p(rewrite::Options{});
    std::string out;
    // never: a NATed message from the prefix is left alone
    auto r = process(p, kNatted, "203.0.113.5", 40000, rs.get());
    EXPECT_EQ(r.outcome, rewrite::Outcome::rule_never);
    EXPECT_TRUE(r.ruled);
    // drop
    EXPECT_EQ(process(p, kNatted, "192.0.2.5", 40000, rs.get()).outcome, rewrite::Outcome::rule_drop);
    // force: rewritten although no test fires (the rule turns them all off; domain of the R-URI)
    r = process(p, kPublic, "198.51.100.7", 5070, rs.get(), &out);
    EXPECT_EQ(r.outcome, rewrite::Outcome::rewritten);
    EXPECT_TRUE(r.forced);
    EXPECT_FALSE(r.verdict.nated());
    EXPECT_NE(out.find("Contact: <sip:100@198.51.100.7:5070>"), std::string::npos) << out;
    EXPECT_EQ(process(p, kPublic, "198.51.100.7", 5060, nullptr).outcome, rewrite::Outcome::not_nated) << "without rules";
    // contact mode from the rule
    r = process(p, kNatted, "198.51.100.99", 40000, rs.get(), &out);
    EXPECT_EQ(r.outcome, rewrite::Outcome::rewritten);
    EXPECT_NE(out.find("Contact: <sip:alice@192.168.1.10:5060;alias=198.51.100.99~40000~1>"), std::string::npos) << out;
    // no rule matches: the global settings
    r = process(p, kNatted, "198.51.100.1", 40000, rs.get(), &out);
    EXPECT_EQ(r.outcome, rewrite::Outcome::rewritten);
    EXPECT_FALSE(r.ruled);
    EXPECT_NE(out.find("Contact: <sip:alice@198.51.100.1:40000>"), std::string::npos) << out;
    EXPECT_EQ(rs->hits(0), 1u);
    EXPECT_EQ(rs->hits(1), 1u);
    EXPECT_EQ(rs->hits(2), 1u);
    EXPECT_EQ(rs->hits(3), 1u);
}

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    std::string prefix = "--file-prefix=farend-rules-test-" + std::to_string(getpid());
    const char* eal[] = {"rules_test", "--no-huge", "--no-pci", "-m", "256", "--no-telemetry", "-l", "0",
                         "--log-level=lib.eal:error", prefix.c_str()};
    if (rte_eal_init(static_cast<int>(std::size(eal)), const_cast<char**>(eal)) < 0) {
        std::fprintf(stderr, "rules_test: cannot start the EAL that rte_lpm needs (see the EAL messages above; DPDK needs root)\n");
        return 1;
    }
    const int rc = RUN_ALL_TESTS();
    rte_eal_cleanup();
    return rc;
}
