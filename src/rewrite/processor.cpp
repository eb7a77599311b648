#include <farend/rewrite/processor.hpp>

#include <cstring>

namespace farend::rewrite {

namespace {

// The host of the sip:/sips: URI in a Request-URI or a To/From value `v` (offsets in msg), found
// without a full parse (rules only compare it with domain names): after the scheme, past
// "user@" when there is one, up to ':', ';', '>', '?' or white space. A quoted display name is
// skipped. Empty when none. This runs for every message when domain rules exist, so it jumps
// between structural bytes with the scanner's class masks (a byte loop cost ~270 instructions a
// header; this ~80) and only the userinfo and host are looked at byte by byte.
std::string_view quick_host(std::string_view msg, sip::MaskView mv, Slice v) noexcept {
    uint32_t i = v.off;
    const uint32_t end = v.end();
    if (i < end && msg[i] == '"') {  // quoted display name: may hold anything, \" included
        do i = mv.next(simd::kQuote, i + 1, end);
        while (i < end && msg[i - 1] == '\\');
        ++i;
    }
    // The scheme's colon is the first one: display names outside quotes are tokens (no ':').
    const uint32_t colon = mv.next(simd::kColon, i, end);
    if (colon >= end || colon < v.off + 3) return {};
    uint32_t s = colon - 3;
    if (colon >= v.off + 4 && (msg[colon - 1] | 0x20) == 's') s = colon - 4;
    uint32_t scheme;  // "sip" in any case: the four bytes at s end at or before the colon
    std::memcpy(&scheme, msg.data() + s, 4);
    if (((scheme | 0x202020u) & 0xffffffu) != ('s' | 'i' << 8 | 'p' << 16)) return {};
    constexpr sip::ClassSet kUriEnd = sip::classes({simd::kSemi, simd::kGt, simd::kWs, simd::kCR, simd::kComma});
    const uint32_t uri_end = mv.next_any(kUriEnd, colon + 1, end);
    const char* base = msg.data();
    const void* at = std::memchr(base + colon + 1, '@', uri_end - colon - 1);
    const uint32_t h = at ? static_cast<uint32_t>(static_cast<const char*>(at) - base) + 1 : colon + 1;
    if (h < uri_end && msg[h] == '[') {  // IPv6 reference: its colons are not the port's
        const void* close = std::memchr(base + h, ']', uri_end - h);
        return close ? std::string_view(base + h, static_cast<uint32_t>(static_cast<const char*>(close) - base) + 1 - h)
                     : std::string_view{};
    }
    uint32_t e = mv.next(simd::kColon, h, uri_end);
    if (const void* q = std::memchr(base + h, '?', e - h)) e = static_cast<uint32_t>(static_cast<const char*>(q) - base);
    return std::string_view(base + h, e - h);  // h <= e <= uri_end <= the message's size
}

std::string_view header_host(std::string_view msg, sip::MaskView mv, const sip::MessageIndex& idx, sip::HeaderId id) noexcept {
    const sip::Header* h = idx.find(id);
    return h ? quick_host(msg, mv, h->value) : std::string_view{};
}

void add_host(PolicyQuery& q, std::string_view h) noexcept {
    if (h.empty()) return;
    // Exact duplicates only (the usual case: the same domain in Request-URI, To and From); a
    // duplicate in other case costs one more cache lookup, nothing else.
    for (uint8_t i = 0; i < q.host_count; ++i)
        if (q.hosts[i].size() == h.size() && std::memcmp(q.hosts[i].data(), h.data(), h.size()) == 0) return;
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
            if (idx.start.is_request) add_host(q, quick_host(msg, mv, idx.start.uri));
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
