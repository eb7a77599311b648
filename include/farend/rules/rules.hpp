// Per-source and per-domain rules: what carriers write in Kamailio/OpenSIPS scripts, as a table.
//
//   rule = name=acme source=198.51.100.0/24 domain=*.acme.example action=force contact-mode=alias
//
// A rule matches a SIP message by source prefix (IPv4/IPv6, longest prefix: rte_lpm/rte_lpm6)
// and/or by domain: the host of the Request-URI, To or From, exact ("example.com") or wildcard
// ("*.example.com": any name below it, at any depth, not the name itself), case-insensitive;
// all domains of a rule set are one Hyperscan database. What it sets: action (auto, force,
// never, drop), nat-tests, rewrite, contact-mode; what it leaves out comes from the global
// options.
//
// Precedence: the most specific source prefix wins (a rule without source is the least specific);
// among the rules of one prefix, a domain rule beats one without, a more specific domain beats a
// less specific one (exact, then the longer wildcard), then the earlier rule. When the rules of
// the longest prefix do not match (their domains do not), the next shorter prefix is tried.
#pragma once

#include <farend/base/cacheline.hpp>
#include <farend/base/ip_addr.hpp>
#include <farend/rewrite/processor.hpp>

#include <bitset>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct rte_lpm;
struct rte_lpm6;
struct hs_database;
struct hs_scratch;

namespace farend::rules {

// "*.example.com": a wildcard domain (any name below example.com).
[[nodiscard]] constexpr bool is_wildcard(std::string_view domain) noexcept { return domain.starts_with("*."); }

struct Spec {
    std::string name;              // "rule<N>" (1-based) unless named
    std::optional<Cidr> source;
    std::string domain;            // lower case; "" when the rule has none
    rewrite::RuleAction action = rewrite::RuleAction::auto_;
    std::optional<nat::TestMask> tests;
    std::optional<rewrite::Config> rewrites;  // via/contact/sdp switches
    std::optional<rewrite::ContactMode> contact_mode;
    std::string text;              // as written

    [[nodiscard]] bool wildcard() const noexcept { return is_wildcard(domain); }
};

// One rule's text ("key=value" words). index is its position (for the default name). nullopt
// and a message naming the bad word on error.
[[nodiscard]] std::optional<Spec> parse_rule(std::string_view text, std::size_t index, std::string* error);
// All of them; the message names the rule ("rule 3 (acme): ...").
[[nodiscard]] std::optional<std::vector<Spec>> parse_rules(const std::vector<std::string>& texts, std::string* error);

// The compiled table. Built off the packet path (start, SIGHUP); read by every worker, each with
// its own Hyperscan scratch and row of hit counters. Needs the EAL (rte_lpm memory).
class RuleSet final : public rewrite::PolicySource {
public:
    static std::unique_ptr<RuleSet> build(std::vector<Spec> specs, const rewrite::Options& defaults, unsigned workers,
                                          std::string* error);
    ~RuleSet() override;
    RuleSet(const RuleSet&) = delete;
    RuleSet& operator=(const RuleSet&) = delete;

    [[nodiscard]] bool wants_domains() const noexcept override { return db_ != nullptr; }
    // Whether a message's hosts can change the rule for a message from source: only when a group
    // the source's prefix chain walks before its first rule without a domain has domain rules (a
    // customer prefix with a plain rule skips the hosts even when other customers' rules match by
    // domain). resolve() reads them only then.
    [[nodiscard]] bool wants_hosts(const IpAddr& source) const noexcept;
    [[nodiscard]] bool uses_alias() const noexcept override { return uses_alias_; }
    [[nodiscard]] const rewrite::Policy* resolve(const rewrite::PolicyQuery& q, unsigned worker) noexcept override;
    // The rule index resolve() would pick (no hit counted); -1 when none.
    [[nodiscard]] int32_t match(const rewrite::PolicyQuery& q, unsigned worker) noexcept;

    [[nodiscard]] std::size_t size() const noexcept { return specs_.size(); }
    [[nodiscard]] const Spec& spec(std::size_t i) const noexcept { return specs_[i]; }
    [[nodiscard]] const rewrite::Policy& policy(std::size_t i) const noexcept { return policies_[i]; }
    // Hits of rule i summed over the workers.
    [[nodiscard]] uint64_t hits(std::size_t i) const noexcept;
    // Host-cache lookups that found the host / that had to scan (all workers).
    [[nodiscard]] uint64_t cache_hits() const noexcept;
    [[nodiscard]] uint64_t cache_misses() const noexcept;

private:
    RuleSet() = default;
    // The most specific group (prefix) holding the source; 0 (the rules without a source) if none.
    [[nodiscard]] uint32_t group_of(const IpAddr& source) const noexcept;
    struct Group;
    struct CachedHost;
    // Read for every message, so kept together in the object's first cache lines (the dataplane
    // streams packets through the caches between two messages; each line the rules touch is a
    // possible miss).
    rte_lpm* lpm4_ = nullptr;
    hs_database* db_ = nullptr;
    std::vector<Group> groups_;  // [0]: the rules without a source
    std::vector<rewrite::Policy> policies_;
    // Per worker: the domains each recently seen host matched (direct-mapped by a hash of the
    // host). Carrier traffic repeats a few thousand domains, so most hosts skip the scan.
    std::vector<std::unique_ptr<CachedHost[]>> host_cache_;
    std::unique_ptr<uint64_t[]> hits_;  // [worker][rule], each row padded to a cache line
    std::size_t row_ = 0;               // uint64s per row: the rules' hits, then cache hits and misses
    unsigned workers_ = 0;
    uint32_t rule_count_ = 0;  // specs_.size() (no division on the packet path)
    bool uses_alias_ = false;
    // The last bytes of the domains, in both cases: a host ending in another byte matches none
    // (exact names end where the host ends, wildcards are suffixes).
    std::bitset<256> last_bytes_;
    // Whether a host may name a domain: it ends in one of last_bytes_.
    [[nodiscard]] bool may_name_domain(std::string_view host) const noexcept {
        return !host.empty() && last_bytes_[static_cast<unsigned char>(host.back())];
    }
    // The rest: built and read off the packet path.
    std::vector<Spec> specs_;
    rte_lpm6* lpm6_ = nullptr;
    std::vector<hs_scratch*> scratch_;  // per worker
    // match() for a worker already clamped to workers_ - 1 (resolve() inlines it).
    [[nodiscard]] int32_t pick(const rewrite::PolicyQuery& q, unsigned worker) noexcept;
    // The worker's host-cache slot for host (chosen by a hash of its ends and length).
    [[nodiscard]] CachedHost& slot_of(std::string_view host, unsigned worker) noexcept;
    // A host not in the cache: the ids of the domains it matches from Hyperscan, into its slot and
    // added to ids/n (at most 16, without duplicates).
    void scan_host(std::string_view host, unsigned worker, CachedHost& slot, uint32_t* ids, uint32_t& n) noexcept;
};

}  // namespace farend::rules
