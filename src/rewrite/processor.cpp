#include <farend/rewrite/processor.hpp>

namespace farend::rewrite {

namespace {

// The host of the sip:/sips: URI in a Request-URI or a To/From value, found without a full parse
// (rules only compare it with domain names): after the scheme, past "user@" when there is one, up
// to ':', ';', '>', '?' or white space. A quoted display name is skipped. Empty when none.
// One pass over the URI with a byte-class table: this runs for every message when domain rules
// exist, so it has to cost a few ns, not the ~30 of a general parse.
struct HostStops {
    uint8_t cls[256] = {};  // 1: ends the URI (> ; ? white space); 2: '@'; 3: ':'
    constexpr HostStops() {
        for (unsigned char c : {'>', ';', '?', ' ', '\t', '\r', '\n', ','}) cls[c] = 1;
        cls[static_cast<unsigned char>('@')] = 2;
        cls[static_cast<unsigned char>(':')] = 3;
    }
};
constexpr HostStops kStops;

std::string_view quick_host(std::string_view v) noexcept {
    std::size_t i = 0;
    const std::size_t n = v.size();
    if (n && v[0] == '"') {  // quoted display name: may hold anything
        for (i = 1; i < n && v[i] != '"'; ++i)
            if (v[i] == '\\') ++i;
        ++i;
    }
    // The scheme's colon is the first one: display names outside quotes are tokens (no ':').
    while (i < n && v[i] != ':') ++i;
    if (i >= n || i < 3) return {};
    const std::size_t colon = i;
    std::size_t s = colon - 3;
    if (colon >= 4 && (v[colon - 1] | 0x20) == 's') s = colon - 4;
    if ((v[s] | 0x20) != 's' || (v[s + 1] | 0x20) != 'i' || (v[s + 2] | 0x20) != 'p') return {};
    // One pass to the end of the URI: the host starts after the last '@' (else after the scheme)
    // and ends at the first ':' after that start.
    std::size_t h = colon + 1, port_colon = std::string_view::npos, e = colon + 1;
    const auto* u = reinterpret_cast<const unsigned char*>(v.data());
    for (; e < n; ++e) {
        const uint8_t c = kStops.cls[u[e]];
        if (c == 0) continue;
        if (c == 1) break;
        if (c == 2) {
            h = e + 1;
            port_colon = std::string_view::npos;
        } else if (port_colon == std::string_view::npos) {
            port_colon = e;
        }
    }
    if (h < e && v[h] == '[') {  // IPv6 reference: its colons are not the port's
        const std::size_t close = v.find(']', h);
        return close == std::string_view::npos || close > e ? std::string_view{} : v.substr(h, close + 1 - h);
    }
    return v.substr(h, (port_colon < e ? port_colon : e) - h);
}

std::string_view header_host(std::string_view msg, const sip::MessageIndex& idx, sip::HeaderId id) noexcept {
    const sip::Header* h = idx.find(id);
    return h ? quick_host(text(msg, h->value)) : std::string_view{};
}

void add_host(PolicyQuery& q, std::string_view h) noexcept {
    if (h.empty()) return;
    for (uint8_t i = 0; i < q.host_count; ++i)
        if (iequals(q.hosts[i], h)) return;
    q.hosts[q.host_count++] = h;
}

}  // namespace

Processor::Processor(Options options, const simd::Kernel& kernel)
    : options_(std::move(options)),
      ruled_detect_(options_.detect),
      parser_(std::make_unique<sip::MessageParser>(kernel)),
      parts_(std::make_unique<sip::MessageParts>()),
      plan_(std::make_unique<EditPlan>()) {}

Result Processor::process(char* buf, uint32_t size, uint32_t capacity, const nat::Source& source, PolicySource* rules,
                          unsigned worker) noexcept {
    Result r;
    r.size = size;
    const std::string_view msg(buf, size);
    const sip::MessageIndex& idx = parser_->parse(msg);
    if (!idx.complete()) {
        r.error = idx.error;
        return r;
    }
    const nat::DetectConfig* detect = &options_.detect;
    const Config* rewrites = &options_.rewrite;
    RuleAction action = RuleAction::auto_;
    if (rules) {
        PolicyQuery q;
        q.source = source.ip;
        if (rules->wants_domains()) {
            if (idx.start.is_request) add_host(q, quick_host(text(msg, idx.start.uri)));
            add_host(q, header_host(msg, idx, sip::HeaderId::to));
            add_host(q, header_host(msg, idx, sip::HeaderId::from));
        }
        if (const Policy* p = rules->resolve(q, worker)) {
            r.ruled = true;
            action = p->action;
            if (action == RuleAction::drop) {
                r.outcome = Outcome::rule_drop;
                return r;
            }
            if (action == RuleAction::never) {
                r.outcome = Outcome::rule_never;
                return r;
            }
            ruled_detect_.tests = p->tests;
            detect = &ruled_detect_;
            rewrites = &p->rewrite;
        }
    }
    // SDP is read before the tests only when an SDP test needs it; for the rewrite, only once the
    // message turned out NATed (most messages are not, and most tests do not look at SDP).
    const bool sdp_tests = (detect->tests & nat::kSdpTests) != 0;
    sip::extract_parts(msg, parser_->mask_view(), idx, sdp_tests, *parts_);
    r.verdict = nat::detect(msg, idx, *parts_, source, *detect);
    if (!r.verdict.nated()) {
        if (action != RuleAction::force) {
            r.outcome = Outcome::not_nated;
            return r;
        }
        r.forced = true;
    }
    if (rewrites->sdp && !sdp_tests) sip::extract_sdp(msg, parser_->mask_view(), idx, *parts_);
    plan_->clear();
    plan_rewrites(msg, idx, *parts_, source, *rewrites, *plan_, r.summary);
    if (plan_->empty()) {
        r.outcome = Outcome::unchanged;
        return r;
    }
    const ApplyResult a = plan_->apply(buf, size, capacity);
    if (a.status != ApplyStatus::ok) {
        r.outcome = a.status == ApplyStatus::no_room ? Outcome::no_room : Outcome::plan_error;
        r.needed = a.needed;
        return r;
    }
    r.outcome = Outcome::rewritten;
    r.size = a.size;
    return r;
}

AliasStatus Processor::find_alias(const char* buf, uint32_t size, AliasTarget& out) noexcept {
    const std::string_view msg(buf, size);
    return find_ruri_alias(msg, parser_->mask_view(), parser_->parse(msg), out);
}

bool Processor::is_response_to(const char* buf, uint32_t size, std::string_view branch_prefix) noexcept {
    const std::string_view msg(buf, size);
    const sip::MessageIndex& idx = parser_->parse(msg);
    sip::Via v;
    if (!idx.complete() || idx.start.is_request || !sip::top_via(msg, parser_->mask_view(), idx, v) || !v.valid ||
        !v.branch.has_value)
        return false;
    return text(msg, v.branch.value).starts_with(branch_prefix);
}

}  // namespace farend::rewrite
