#include <farend/rewrite/processor.hpp>

#include <farend/base/bytes.hpp>
#include <farend/net/checksum.hpp>
#include <farend/rewrite/message_hosts.hpp>

#include <algorithm>
#include <cstring>

namespace farend::rewrite {

namespace detail {

// The slow path of host_after_scheme() (message_hosts.hpp): long URIs, IPv6 references, URIs near
// the datagram's end.
std::string_view host_after_scheme_general(std::string_view msg, sip::MaskView mv, uint32_t p, uint32_t limit,
                                           UriEnd kind) noexcept {
    const char* base = msg.data();
    const auto size = static_cast<uint32_t>(msg.size());
    mv.ensure(p, limit);
    constexpr sip::ClassSet kAddrSpecEnd = sip::classes({simd::kSemi, simd::kWs, simd::kCR, simd::kComma});
    const uint32_t uri_end = kind == UriEnd::slice   ? limit
                             : kind == UriEnd::angle ? mv.next(simd::kGt, p, limit)
                                                     : mv.next_any(kAddrSpecEnd, p, limit);
    const uint32_t at = find_byte(base, size, p, uri_end, '@');
    const uint32_t h = at < uri_end ? at + 1 : p;
    if (h < uri_end && msg[h] == '[') {  // IPv6 reference: its colons are not the port's
        const uint32_t close = find_byte(base, size, h, uri_end, ']');
        return close < uri_end ? std::string_view(base + h, close + 1 - h) : std::string_view{};
    }
    constexpr sip::ClassSet kHostEnd = sip::classes({simd::kColon, simd::kSemi});
    const uint32_t e = find_byte(base, size, h, mv.next_any(kHostEnd, h, uri_end), '?');
    return std::string_view(base + h, e - h);  // h <= e <= uri_end <= the message's size
}

}  // namespace detail

Processor::Processor(Options options, const simd::Kernel& kernel)
    : options_(std::move(options)),
      ruled_detect_(options_.detect),
      parser_(kernel) {}

bool Processor::parse_checked(std::string_view msg, sip::HeaderSet keep, const UdpChecksum& checksum,
                              std::size_t slack) noexcept {
    if (!checksum.pending) {
        parser_.parse(msg, keep, nullptr, slack);
        return true;
    }
    uint64_t payload = 0;
    parser_.parse(msg, keep, &payload, slack);
    return net::udp_sums_verify(checksum.header_sum, payload);
}

Result Processor::process(char* buf, uint32_t size, uint32_t capacity, const nat::Source& source, PolicySource* rules,
                          unsigned worker, const UdpChecksum& checksum) noexcept {
    Result r;
    r.size = size;
    const std::string_view msg(buf, size);
    // The room past the message is the buffer's: readable, so the parse may load past its end.
    if (!parse_checked(msg, rules && rules->wants_domains() ? kDomainRuleHeaders : kRewriteHeaders, checksum,
                       capacity > size ? capacity - size : 0)) {
        r.outcome = Outcome::bad_checksum;
        return r;
    }
    const sip::MessageIndex& idx = parser_.index();
    if (!idx.complete()) {
        r.error = idx.error;
        return r;
    }
    const nat::DetectConfig* detect = &options_.detect;
    const Config* rewrites = &options_.rewrite;
    RuleAction action = RuleAction::auto_;
    if (const Policy* p = rules ? consult_rules(msg, source, *rules, worker) : nullptr) {
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
    // SDP is read before the tests only when an SDP test needs it; for the rewrite, only once the
    // message turned out NATed (most messages are not, and most tests do not look at SDP).
    const bool sdp_tests = (detect->tests & nat::kSdpTests) != 0;
    sip::extract_parts(msg, parser_.mask_view(), idx, sdp_tests, parts_);
    r.verdict = nat::detect(msg, parser_.mask_view(), idx, parts_, source, *detect);
    if (!r.verdict.nated()) {
        if (action != RuleAction::force) {
            r.outcome = Outcome::not_nated;
            return r;
        }
        r.forced = true;
    }
    if (rewrites->sdp && !sdp_tests) sip::extract_sdp(msg, parser_.mask_view(), idx, parts_);
    plan_.clear();
    plan_rewrites(msg, parser_.mask_view(), idx, parts_, source, *rewrites, plan_, r.summary);
    if (plan_.empty()) {
        r.outcome = Outcome::unchanged;
        return r;
    }
    const ApplyResult a = plan_.apply(buf, size, capacity);
    if (a.status != ApplyStatus::ok) {
        r.outcome = a.status == ApplyStatus::no_room         ? Outcome::no_room
                    : a.status == ApplyStatus::plan_overflow ? Outcome::too_many_edits
                                                             : Outcome::plan_error;
        r.needed = a.needed;
        return r;
    }
    r.outcome = Outcome::rewritten;
    r.size = a.size;
    return r;
}

// Not inlined: the rules' host reading is a body of its own that process() without rules need not
// carry (its size kept GCC from inlining process() into the worker).
[[gnu::noinline]] const Policy* Processor::consult_rules(std::string_view msg, const nat::Source& source,
                                                         PolicySource& rules, unsigned worker) noexcept {
    const MessageHosts hosts(msg, parser_.mask_view(), parser_.index());
    PolicyQuery q;
    q.source = source.ip;
    q.message = &hosts;
    return rules.resolve(q, worker);
}

AliasStatus Processor::find_alias(const char* buf, uint32_t size, AliasTarget& out) noexcept {
    const std::string_view msg(buf, size);
    // The Request-URI is all it reads: no header kept (but Content-Length, always).
    return find_ruri_alias(msg, parser_.mask_view(), parser_.parse(msg, 0), out);
}

bool Processor::is_response_to(const char* buf, uint32_t size, std::string_view branch_prefix,
                               const UdpChecksum& checksum) noexcept {
    const std::string_view msg(buf, size);
    if (!parse_checked(msg, sip::header_set({sip::HeaderId::via}), checksum)) return false;
    const sip::MessageIndex& idx = parser_.index();
    sip::Via v;
    if (!idx.complete() || idx.start.is_request || !sip::top_via(msg, parser_.mask_view(), idx, v) || !v.valid ||
        !v.branch.has_value)
        return false;
    return text(msg, v.branch.value).starts_with(branch_prefix);
}

}  // namespace farend::rewrite
