#include <farend/rules/rules.hpp>

#include <farend/base/bytes.hpp>
#include <farend/rewrite/message_hosts.hpp>

#include <hs/hs.h>
#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_memory.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <map>

#include <emmintrin.h>

namespace farend::rules {

struct RuleSet::Group {
    int32_t parent = -1;        // the next shorter prefix that contains this one; root: -1
    int32_t plain = -1;         // the first rule of this prefix without a domain
    int32_t fallback = -1;      // plain here, else the nearest ancestor's: the rule when no domain matched
    bool needs_hosts = false;   // a domain rule here, or above before a plain rule: match() reads hosts
    uint32_t best = ~0u;        // the most specific domain of by_domain (none: ~0): found, it decides
    std::vector<std::pair<uint32_t, uint32_t>> by_domain;  // (domain id, first rule), sorted
};

// One cache slot: what a lookup reads (ids, length, a host of up to 46 bytes) lies in its first
// cache line.
struct alignas(64) RuleSet::CachedHost {
    static constexpr std::size_t kMaxHost = 108, kMaxIds = 4;
    // Fills ids past n: no domain has it (ids count domains), and no group's `best` either (none
    // is ~0u), so all four ids are compared with best at once, without a loop.
    static constexpr uint32_t kNoId = ~0u - 1;
    uint32_t ids[kMaxIds] = {kNoId, kNoId, kNoId, kNoId};  // sorted, the most specific domain first; aligned
    uint8_t len = 0xff;  // 0xff: empty slot
    uint8_t n = 0;
    char host[kMaxHost];
};

namespace {
constexpr std::size_t kHostCacheSlots = 1024;  // per worker, 128 KiB
}

namespace {

std::atomic<unsigned> g_generation{0};

// Hyperscan literal for a domain. Hosts are scanned framed as "\x01host\x02": an exact name is
// the literal "\x01example.com\x02", "*.example.com" is ".example.com\x02" (a label and a dot
// before it; hosts never start with a dot). Literals compile far faster than the anchored regular
// expressions "^.+\.example\.com$" (10,000 domains: well under a second, not 13 s).
constexpr char kBegin = '\x01', kEnd = '\x02';
std::string literal(const std::string& d) {
    std::string p;
    if (is_wildcard(d)) {
        p.append(d, 1);
    } else {
        p.push_back(kBegin);
        p.append(d);
    }
    p.push_back(kEnd);
    return p;
}

// More specific first: exact names, then wildcards by length (longer suffix = deeper).
bool more_specific(const std::string& a, const std::string& b) {
    const bool wa = is_wildcard(a), wb = is_wildcard(b);
    if (wa != wb) return !wa;
    if (a.size() != b.size()) return a.size() > b.size();
    return a < b;
}

struct ScanContext {
    uint32_t ids[16];
    uint32_t n = 0;
};

int on_match(unsigned int id, unsigned long long, unsigned long long, unsigned int, void* ctx) {
    auto* c = static_cast<ScanContext*>(ctx);
    for (uint32_t i = 0; i < c->n; ++i)
        if (c->ids[i] == id) return 0;
    if (c->n < 16) c->ids[c->n++] = id;
    return 0;
}

struct PrefixKey {
    int family;
    std::array<uint8_t, 16> net;
    uint8_t len;
    bool operator<(const PrefixKey& o) const {
        if (len != o.len) return len < o.len;  // shorter first: parents before children
        if (family != o.family) return family < o.family;
        return net < o.net;
    }
};

}  // namespace

std::unique_ptr<RuleSet> RuleSet::build(std::vector<Spec> specs, const rewrite::Options& defaults, unsigned workers,
                                        std::string* error) {
    std::unique_ptr<RuleSet> rs(new RuleSet());
    rs->workers_ = std::max(1u, workers);
    rs->specs_ = std::move(specs);
    const std::size_t n = rs->specs_.size();
    for (const Spec& s : rs->specs_) {
        rewrite::Policy p;
        p.action = s.action;
        p.tests = s.tests.value_or(defaults.detect.tests);
        p.rewrite = s.rewrites.value_or(defaults.rewrite);
        p.rewrite.contact_mode = s.contact_mode.value_or(defaults.rewrite.contact_mode);
        if (p.rewrite.contact_mode == rewrite::ContactMode::alias && p.rewrite.contact &&
            (p.action == rewrite::RuleAction::auto_ || p.action == rewrite::RuleAction::force))
            rs->uses_alias_ = true;
        rs->policies_.push_back(p);
    }
    const unsigned gen = g_generation.fetch_add(1);

    // Domains: ids in order of specificity, so the lowest matching id is the most specific.
    std::vector<std::string> names;
    for (const Spec& s : rs->specs_)
        if (!s.domain.empty()) names.push_back(s.domain);
    std::sort(names.begin(), names.end(), more_specific);
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::map<std::string, uint32_t> domain_id;
    for (uint32_t i = 0; i < names.size(); ++i) domain_id[names[i]] = i;
    for (const std::string& d : names) {  // lower case (spec.cpp); hosts match in any case
        const auto c = static_cast<unsigned char>(d.back());
        rs->last_bytes_.set(c);
        rs->last_bytes_.set(static_cast<unsigned char>(std::toupper(c)));
    }
    if (!names.empty()) {
        std::vector<std::string> lits;
        std::vector<const char*> exprs;
        std::vector<std::size_t> lens;
        std::vector<unsigned> flags, ids;
        for (uint32_t i = 0; i < names.size(); ++i) lits.push_back(literal(names[i]));
        for (uint32_t i = 0; i < names.size(); ++i) {
            exprs.push_back(lits[i].data());
            lens.push_back(lits[i].size());
            flags.push_back(HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH);
            ids.push_back(i);
        }
        hs_compile_error_t* ce = nullptr;
        if (hs_compile_lit_multi(exprs.data(), flags.data(), ids.data(), lens.data(), static_cast<unsigned>(exprs.size()),
                                 HS_MODE_BLOCK, nullptr, &rs->db_, &ce) != HS_SUCCESS) {
            *error = std::string("cannot compile the rules' domains (Hyperscan): ") + (ce && ce->message ? ce->message : "?");
            if (ce && ce->expression >= 0) error->append(" in domain " + names[static_cast<std::size_t>(ce->expression)]);
            hs_free_compile_error(ce);
            return nullptr;
        }
        hs_scratch_t* first = nullptr;
        if (hs_alloc_scratch(rs->db_, &first) != HS_SUCCESS) {
            *error = "cannot allocate Hyperscan scratch space";
            return nullptr;
        }
        rs->scratch_.push_back(first);
        for (unsigned w = 1; w < rs->workers_; ++w) {
            hs_scratch_t* c = nullptr;
            if (hs_clone_scratch(first, &c) != HS_SUCCESS) {
                *error = "cannot allocate Hyperscan scratch space";
                return nullptr;
            }
            rs->scratch_.push_back(c);
        }
    }

    // Source prefixes: one group per distinct prefix; each group's parent is the longest shorter
    // prefix containing it, found by looking the prefix up before it is added (shorter first).
    std::map<PrefixKey, std::vector<uint32_t>> prefixes;
    rs->groups_.emplace_back();  // root
    std::size_t n4 = 0, n6 = 0;
    for (uint32_t i = 0; i < n; ++i) {
        const Spec& s = rs->specs_[i];
        if (!s.source) {
            Group& root = rs->groups_[0];
            if (!s.domain.empty()) root.by_domain.emplace_back(domain_id[s.domain], i);
            continue;
        }
        auto& v = prefixes[PrefixKey{s.source->net.is_v4() ? 4 : 6, s.source->net.bytes(), s.source->len}];
        if (v.empty()) (s.source->net.is_v4() ? n4 : n6)++;
        v.push_back(i);
    }
    if (n4) {
        rte_lpm_config c{};
        c.max_rules = static_cast<uint32_t>(n4);
        c.number_tbl8s = static_cast<uint32_t>(std::min<std::size_t>(n4 + 16, 1u << 16));
        const std::string name = "fe_rules4_" + std::to_string(gen);
        rs->lpm4_ = rte_lpm_create(name.c_str(), SOCKET_ID_ANY, &c);
        if (!rs->lpm4_) {
            *error = std::string("cannot create the IPv4 rule table (rte_lpm): ") + rte_strerror(rte_errno);
            return nullptr;
        }
    }
    if (n6) {
        rte_lpm6_config c{};
        c.max_rules = static_cast<uint32_t>(n6);
        c.number_tbl8s = static_cast<uint32_t>(std::min<std::size_t>(n6 * 4 + 64, 1u << 16));
        const std::string name = "fe_rules6_" + std::to_string(gen);
        rs->lpm6_ = rte_lpm6_create(name.c_str(), SOCKET_ID_ANY, &c);
        if (!rs->lpm6_) {
            *error = std::string("cannot create the IPv6 rule table (rte_lpm6): ") + rte_strerror(rte_errno);
            return nullptr;
        }
    }
    for (const auto& [k, rules] : prefixes) {
        const auto g = static_cast<uint32_t>(rs->groups_.size());
        Group grp;
        uint32_t hop = 0;
        int rc;
        if (k.family == 4) {
            const uint32_t ip = (uint32_t{k.net[0]} << 24) | (uint32_t{k.net[1]} << 16) | (uint32_t{k.net[2]} << 8) | k.net[3];
            if (rte_lpm_lookup(rs->lpm4_, ip, &hop) == 0) grp.parent = static_cast<int32_t>(hop);
            rc = rte_lpm_add(rs->lpm4_, ip, k.len, g);
        } else {
            if (rte_lpm6_lookup(rs->lpm6_, k.net.data(), &hop) == 0) grp.parent = static_cast<int32_t>(hop);
            rc = rte_lpm6_add(rs->lpm6_, k.net.data(), k.len, g);
        }
        if (grp.parent < 0) grp.parent = 0;
        if (rc != 0) {
            *error = "cannot add the source prefix of rule '" + rs->specs_[rules[0]].name + "' to the rule table: " +
                     rte_strerror(-rc);
            return nullptr;
        }
        for (uint32_t r : rules) {
            const Spec& s = rs->specs_[r];
            if (s.domain.empty()) {
                if (grp.plain < 0) grp.plain = static_cast<int32_t>(r);
            } else {
                grp.by_domain.emplace_back(domain_id[s.domain], r);
            }
        }
        rs->groups_.push_back(std::move(grp));
    }
    for (Group& g : rs->groups_) {
        // Sorted by domain, then rule: the first entry of a domain is its earliest rule.
        std::sort(g.by_domain.begin(), g.by_domain.end());
        g.by_domain.erase(std::unique(g.by_domain.begin(), g.by_domain.end(),
                                      [](const auto& a, const auto& b) { return a.first == b.first; }),
                          g.by_domain.end());
    }
    for (Group& g : rs->groups_)
        if (!g.by_domain.empty()) g.best = g.by_domain.front().first;
    // Parents come before their children (shorter prefixes first, root at 0).
    for (Group& g : rs->groups_) {
        const Group* parent = g.parent >= 0 ? &rs->groups_[static_cast<std::size_t>(g.parent)] : nullptr;
        g.needs_hosts = !g.by_domain.empty() || (g.plain < 0 && parent && parent->needs_hosts);
        g.fallback = g.plain >= 0 ? g.plain : parent ? parent->fallback : -1;
    }
    rs->rule_count_ = static_cast<uint32_t>(n);
    rs->row_ = (n + 2 + 7) / 8 * 8;  // whole cache lines per worker
    rs->hits_.reset(new uint64_t[rs->row_ * rs->workers_]());
    static_assert(sizeof(CachedHost) == 128, "a slot is two cache lines, what a lookup reads in the first");
    if (rs->db_)
        for (unsigned w = 0; w < rs->workers_; ++w) rs->host_cache_.emplace_back(new CachedHost[kHostCacheSlots]);
    return rs;
}

RuleSet::~RuleSet() {
    for (hs_scratch_t* s : scratch_) hs_free_scratch(s);
    if (db_) hs_free_database(db_);
    if (lpm4_) rte_lpm_free(lpm4_);
    if (lpm6_) rte_lpm6_free(lpm6_);
}

namespace {

// Hosts compared as written (matching ignores case: a duplicate in other case costs one more
// lookup, not a wrong answer).
[[gnu::always_inline]] inline bool same_host(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && same_bytes(a.data(), b.data(), a.size());
}

// Into ids (n of them, at most 16), kept sorted (the most specific domain first) and without
// duplicates.
inline void merge_ids(const uint32_t* found, uint32_t count, uint32_t* ids, uint32_t& n) noexcept {
    for (uint32_t i = 0; i < count; ++i) {
        const uint32_t id = found[i];
        uint32_t k = n;
        while (k > 0 && ids[k - 1] > id) --k;
        if ((k > 0 && ids[k - 1] == id) || n == 16) continue;
        for (uint32_t m = n; m > k; --m) ids[m] = ids[m - 1];
        ids[k] = id;
        ++n;
    }
}

}  // namespace

// The host cache's slot for a host: a hash of its first and last eight bytes and its length (the
// slot keeps the host itself, compared in full, so a collision only costs a scan).
[[gnu::always_inline]] inline RuleSet::CachedHost& RuleSet::slot_of(std::string_view host, unsigned worker) noexcept {
    uint64_t head = 0, tail = 0;
    if (host.size() >= 8) {
        head = load_u64(host.data());
        tail = load_u64(host.data() + host.size() - 8);
    } else {
        for (std::size_t i = 0; i < host.size(); ++i) head = head << 8 | static_cast<uint8_t>(host[i]);
    }
    const uint32_t h = static_cast<uint32_t>(((head * 0x9e3779b97f4a7c15ull) ^ (tail * 0xc2b2ae3d27d4eb4full) ^ host.size()) >> 32);
    return host_cache_[worker][h & (kHostCacheSlots - 1)];
}

[[gnu::cold]] void RuleSet::scan_host(std::string_view host, unsigned worker, CachedHost& slot, uint32_t* ids, uint32_t& n) noexcept {
    ScanContext scan;
    char framed[260];
    framed[0] = kBegin;
    std::memcpy(framed + 1, host.data(), host.size());
    framed[host.size() + 1] = kEnd;
    hs_scan(db_, framed, static_cast<unsigned>(host.size() + 2), 0, scratch_[worker], on_match, &scan);
    if (host.size() <= CachedHost::kMaxHost && scan.n <= CachedHost::kMaxIds) {
        slot.len = static_cast<uint8_t>(host.size());
        std::memcpy(slot.host, host.data(), host.size());
        slot.n = static_cast<uint8_t>(scan.n);
        std::fill(std::copy(scan.ids, scan.ids + scan.n, slot.ids), slot.ids + CachedHost::kMaxIds, CachedHost::kNoId);
        std::sort(slot.ids, slot.ids + scan.n);
    }
    merge_ids(scan.ids, scan.n, ids, n);
}

uint32_t RuleSet::group_of(const IpAddr& source) const noexcept {
    uint32_t hop = 0;
    if (source.is_v4()) {
        if (lpm4_ && rte_lpm_lookup(lpm4_, source.v4_host_order(), &hop) == 0) return hop;
    } else if (source.is_v6()) {
        if (lpm6_ && rte_lpm6_lookup(lpm6_, source.bytes().data(), &hop) == 0) return hop;
    }
    return 0;
}

bool RuleSet::wants_hosts(const IpAddr& source) const noexcept { return db_ && groups_[group_of(source)].needs_hosts; }

// match() for a worker < workers_; resolve() has it inlined.
[[gnu::always_inline]] inline int32_t RuleSet::pick(const rewrite::PolicyQuery& q, unsigned worker) noexcept {
    const uint32_t g = group_of(q.source);
    ScanContext found;  // sorted: the most specific domain first
    // Hosts only when a domain rule can decide before a plain one (the same rule either way).
    if (db_ && groups_[g].needs_hosts) {
        // Cache hits and scans, counted in locals and added once at the end: a store through a
        // uint64_t pointer in between may alias the string_views' sizes the look-ups read, which
        // the compiler then reloaded after every count.
        uint32_t hits = 0, scans = 0;
        // The domains of one host into found; true when they include the most specific domain
        // of the source's own group: that rule decides whatever the other hosts match.
        const uint32_t best = groups_[g].best;
        // Inline (four places): with LTO, GCC made it a call with its captures on the stack.
        auto look_up = [&](std::string_view host) __attribute__((always_inline)) {
            // A host matches a domain only when it ends in the domain's last byte: most
            // Request-URIs of requests within a dialog end in an IP address's digit.
            if (host.size() > 256 || !may_name_domain(host)) return false;
            CachedHost& slot = slot_of(host, worker);
            const uint32_t before = found.n;
            if (slot.len == host.size() && same_bytes(slot.host, host.data(), host.size())) {
                ++hits;
                if (slot.n == 0) return false;
                if (found.n == 0) {
                    // The usual case, this host's domains the first found: the slot's ids are
                    // already sorted; copied as one 16-byte block (found has room for 16), and
                    // compared with best all at once. Branches whose way depends on the message
                    // type cost more here than instructions (simulated mispredicts a packet: the
                    // merge loop took one).
                    const __m128i v = _mm_load_si128(reinterpret_cast<const __m128i*>(slot.ids));
                    _mm_storeu_si128(reinterpret_cast<__m128i*>(found.ids), v);
                    found.n = slot.n;
                    return _mm_movemask_epi8(_mm_cmpeq_epi32(v, _mm_set1_epi32(static_cast<int>(best)))) != 0;
                }
                merge_ids(slot.ids, slot.n, found.ids, found.n);
            } else {
                ++scans;
                scan_host(host, worker, slot, found.ids, found.n);
            }
            if (found.n == before) return false;
            for (uint32_t k = 0; k < found.n; ++k)
                if (found.ids[k] == best) return true;
            return false;
        };
        bool decided = false;
        for (uint8_t i = 0; i < q.host_count && !decided; ++i) decided = look_up(q.hosts[i]);
        // The message's hosts one at a time, each read only when the ones before did not decide:
        // To's when the Request-URI's did not, From's when To's did not either. Exact duplicates
        // (the usual case: one domain in all three) are looked up once; one in other case costs
        // one more cache lookup.
        if (q.message && !decided) {
            // A copy in locals: read through q.message, its members were reloaded after stores.
            const rewrite::MessageHosts m = *q.message;
            const std::string_view ruri = m.request_uri();
            decided = look_up(ruri);  // an empty one (a response) matches nothing
            // A host that repeats one already looked up is not read in full. to_if() and
            // from_if() only check that the header's URI ends in it: the usual To repeats the
            // Request-URI's host (REGISTER, OPTIONS, a new call), the usual From To's host.
            // from_repeats_to() first, a compare of a few words, for the From that repeats To's
            // value (a REGISTER's): dropping it cost the dataplane's capture, where every From
            // does, ~35 instructions a message, and gained bench_rules' six messages ~18.
            // Only a Request-URI host that may name a domain (its last byte ends some domain) is
            // tried on To: one that cannot is most often a contact's address (a request within a
            // dialog), which To does not repeat; trying cost ~50 instructions for nothing.
            std::string_view to;
            if (!decided) {
                if (may_name_domain(ruri)) to = m.to_if(ruri);
                if (to.empty()) {
                    to = m.to();
                    if (!same_host(to, ruri)) decided = look_up(to);
                }
            }
            if (!decided && !m.from_repeats_to(to) && m.from_if(to).empty()) {
                const std::string_view from = m.from();
                if (!same_host(from, ruri) && !same_host(from, to)) decided = look_up(from);
            }
        }
        uint64_t* const stats = &hits_[worker * row_ + rule_count_];  // cache hits, then scans
        stats[0] += hits;
        stats[1] += scans;
    }
    if (found.n == 0) return groups_[g].fallback;  // the usual answer: no host names a domain
    for (int32_t at = static_cast<int32_t>(g); at >= 0; at = groups_[static_cast<std::size_t>(at)].parent) {
        const Group& grp = groups_[static_cast<std::size_t>(at)];
        if (!grp.by_domain.empty())
            for (uint32_t k = 0; k < found.n; ++k) {
                auto it = std::lower_bound(grp.by_domain.begin(), grp.by_domain.end(), std::make_pair(found.ids[k], 0u));
                if (it != grp.by_domain.end() && it->first == found.ids[k]) return static_cast<int32_t>(it->second);
            }
        if (grp.plain >= 0) return grp.plain;
    }
    return -1;
}

int32_t RuleSet::match(const rewrite::PolicyQuery& q, unsigned worker) noexcept {
    return pick(q, std::min(worker, workers_ - 1));
}

const rewrite::Policy* RuleSet::resolve(const rewrite::PolicyQuery& q, unsigned worker) noexcept {
    worker = std::min(worker, workers_ - 1);
    const int32_t r = pick(q, worker);
    if (r < 0) return nullptr;
    ++hits_[worker * row_ + static_cast<std::size_t>(r)];
    return &policies_[static_cast<std::size_t>(r)];
}

uint64_t RuleSet::cache_hits() const noexcept { return hits(specs_.size()); }
uint64_t RuleSet::cache_misses() const noexcept { return hits(specs_.size() + 1); }

uint64_t RuleSet::hits(std::size_t i) const noexcept {
    uint64_t t = 0;
    for (unsigned w = 0; w < workers_; ++w) t += hits_[w * row_ + i];
    return t;
}

}  // namespace farend::rules
