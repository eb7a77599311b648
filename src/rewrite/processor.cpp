#include <farend/rewrite/processor.hpp>

namespace farend::rewrite {

Processor::Processor(Options options, const simd::Kernel& kernel)
    : options_(std::move(options)),
      parser_(std::make_unique<sip::MessageParser>(kernel)),
      parts_(std::make_unique<sip::MessageParts>()),
      plan_(std::make_unique<EditPlan>()) {}

Result Processor::process(char* buf, uint32_t size, uint32_t capacity, const nat::Source& source) noexcept {
    Result r;
    r.size = size;
    const std::string_view msg(buf, size);
    const sip::MessageIndex& idx = parser_->parse(msg);
    if (!idx.complete()) {
        r.error = idx.error;
        return r;
    }
    // SDP is read before the tests only when an SDP test needs it; for the rewrite, only once the
    // message turned out NATed (most messages are not, and most tests do not look at SDP).
    const bool sdp_tests = (options_.detect.tests & nat::kSdpTests) != 0;
    sip::extract_parts(msg, parser_->mask_view(), idx, sdp_tests, *parts_);
    r.verdict = nat::detect(msg, idx, *parts_, source, options_.detect);
    if (!r.verdict.nated()) {
        r.outcome = Outcome::not_nated;
        return r;
    }
    if (options_.rewrite.sdp && !sdp_tests) sip::extract_sdp(msg, parser_->mask_view(), idx, *parts_);
    plan_->clear();
    plan_rewrites(msg, idx, *parts_, source, options_.rewrite, *plan_, r.summary);
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
