#include <farend/rewrite/processor.hpp>
#include <farend/sip/contact.hpp>
#include <farend/sip/uri.hpp>

namespace farend::rewrite {

namespace {

// The host of the URI in the first value of a To or From header (same grammar as a Contact).
std::string_view header_host(std::string_view msg, sip::MaskView mv, const sip::MessageIndex& idx, sip::HeaderId id) noexcept {
    const sip::Header* h = idx.find(id);
    if (!h) return {};
    sip::Contact c;
    if (sip::parse_contact_values(msg, mv, h->value, &c, 1) != 1 || !c.valid || c.star || !c.uri.valid) return {};
    return text(msg, c.uri.host.host);
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
            const sip::MaskView mv = parser_->mask_view();
            if (idx.start.is_request) {
                const sip::Uri u = sip::parse_uri(msg, mv, idx.start.uri);
                if (u.valid && u.host.kind != sip::HostKind::none) add_host(q, text(msg, u.host.host));
            }
            add_host(q, header_host(msg, mv, idx, sip::HeaderId::to));
            add_host(q, header_host(msg, mv, idx, sip::HeaderId::from));
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
