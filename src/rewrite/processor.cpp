#include <farend/rewrite/processor.hpp>

#include <farend/base/bytes.hpp>

#include <algorithm>
#include <cstring>

namespace farend::rewrite {

namespace {

constexpr uint32_t kSipColon = 's' | 'i' << 8 | 'p' << 16 | uint32_t{':'} << 24;  // little-endian

// Where the scheme of a URI whose first colon is `colon` starts (sip: or sips:, not before `first`).
uint32_t scheme_start(std::string_view msg, uint32_t first, uint32_t colon) noexcept {
    return colon >= first + 4 && (msg[colon - 1] | 0x20) == 's' ? colon - 4 : colon - 3;
}

// How a URI ends: a Request-URI is the whole slice; in a To/From value, a name-addr's URI ends at
// '>', an addr-spec's at ';', ',' or white space (it has none of those of its own: RFC 3261 20.10).
enum class UriEnd : uint8_t { slice, angle, addr_spec };

// host_after_scheme() for any URI: its end, '@' and the host's end found by walking the masks.
[[gnu::cold]] std::string_view host_after_scheme_general(std::string_view msg, sip::MaskView mv, uint32_t p,
                                                        uint32_t limit, UriEnd kind) noexcept {
    const char* base = msg.data();
    const auto size = static_cast<uint32_t>(msg.size());
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

// The host of a URI whose scheme (sip: or sips:, checked by the caller) ends at p - 1, inside
// [p, limit): past "userinfo@" when there is one (the user part may hold ';', '?' and ',', RFC 3261
// 25.1 user-unreserved, never '@'), up to ':', ';' or '?'. Empty when none.
[[gnu::always_inline]] inline std::string_view host_after_scheme(std::string_view msg, sip::MaskView mv, uint32_t p,
                                                                 uint32_t limit, UriEnd kind) noexcept {
    const char* base = msg.data();
    const auto size = static_cast<uint32_t>(msg.size());
#if defined(__SSE2__)
    // Most URIs end within 32 bytes of their colon: every delimiter from two 16-byte compares per
    // byte value, then bit arithmetic (no loop, no call). Longer ones, IPv6 references and URIs
    // near the end of the datagram take the general path below.
    if (size >= 32 && p <= size - 32) {
        const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + p));
        const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + p + 16));
        // Bytes equal to any of cs, as a 32-bit mask: the compares are OR-ed as vectors, so one
        // movemask per half whatever the number of bytes looked for. Inline: with LTO, GCC made
        // eq(':', ';', '?') a call (~40 instructions a packet more with rules).
        auto eq = [&](auto... cs) __attribute__((always_inline)) {
            const __m128i l = (... | _mm_cmpeq_epi8(lo, _mm_set1_epi8(cs)));
            const __m128i h = (... | _mm_cmpeq_epi8(hi, _mm_set1_epi8(cs)));
            return static_cast<uint32_t>(_mm_movemask_epi8(l)) | static_cast<uint32_t>(_mm_movemask_epi8(h)) << 16;
        };
        const uint32_t room = limit - p;  // p <= limit
        uint32_t ends = 0;
        if (kind == UriEnd::angle) ends = eq('>');
        else if (kind == UriEnd::addr_spec) ends = eq(';', ',', ' ', '\t', '\r', '\n');
        // The value's end inside the window ends the URI; bytes past it are another line's.
        if (room < 32) ends = (ends | uint32_t{1} << room) & ((uint32_t{2} << room) - 1);
        if (ends) {
            const uint32_t ue = static_cast<uint32_t>(__builtin_ctz(ends));
            const uint32_t in_uri = (ends & (0u - ends)) - 1;  // the bits below the URI's end
            const uint32_t at = eq('@') & in_uri;
            const uint32_t h = at ? static_cast<uint32_t>(__builtin_ctz(at)) + 1 : 0;  // <= ue <= 31
            if (h >= ue || base[p + h] != '[') {
                const uint32_t stop = eq(':', ';', '?') & in_uri & (~uint32_t{0} << h);
                const uint32_t he = stop ? static_cast<uint32_t>(__builtin_ctz(stop)) : ue;
                return std::string_view(base + p + h, he - h);
            }
        }
    }
#endif
    return host_after_scheme_general(msg, mv, p, limit, kind);
}

// The host of a sip:/sips: URI whose scheme starts at s, its colon at `colon`, inside
// [.., limit). Empty for other schemes (tel:, urn:, ...).
std::string_view uri_host(std::string_view msg, sip::MaskView mv, uint32_t s, uint32_t colon, uint32_t limit,
                          UriEnd kind) noexcept {
    // "sip" in any case: the four bytes at s end at or before the colon.
    if (((load_u32(msg.data() + s) | 0x202020u) & 0xffffffu) != (kSipColon & 0xffffffu)) return {};
    return host_after_scheme(msg, mv, colon + 1, limit, kind);
}

// The host of a Request-URI (the slice is the whole URI). Rules only compare hosts with domain
// names, so this and header_host() find them without a full parse.
std::string_view ruri_host(std::string_view msg, sip::MaskView mv, Slice uri) noexcept {
    if (uri.len >= 4 && (load_u32(msg.data() + uri.off) | 0x202020u) == kSipColon)  // the usual scheme, any case
        return host_after_scheme(msg, mv, uri.off + 4, uri.end(), UriEnd::slice);
    const uint32_t colon = mv.next(simd::kColon, uri.off, uri.end());
    if (colon >= uri.end() || colon < uri.off + 3) return {};
    return uri_host(msg, mv, scheme_start(msg, uri.off, colon), colon, uri.end(), UriEnd::slice);
}

// The host of the URI of a To/From value, name-addr or addr-spec; a quoted display name is
// skipped. Empty when none.
[[gnu::always_inline]] inline std::string_view header_host(std::string_view msg, sip::MaskView mv,
                                                           const sip::MessageIndex& idx, sip::HeaderId id) noexcept {
    const sip::Header* hd = idx.find(id);
    if (!hd) return {};
    const Slice v = hd->value;
    uint32_t i = v.off;
    const uint32_t end = v.end();
    if (i < end && msg[i] == '"') {  // quoted display name: may hold anything, \" included
        do i = mv.next(simd::kQuote, i + 1, end);
        while (i < end && msg[i - 1] == '\\');
        ++i;
        if (i < end && msg[i] == ' ') ++i;  // the usual single space before '<'
    }
    // The usual name-addr: "<sip:" in any case (one 4-byte compare with the letters folded, then ':').
    constexpr uint32_t kLtSip = '<' | 's' << 8 | 'i' << 16 | uint32_t{'p'} << 24;
    if (i + 5 <= end && (load_u32(msg.data() + i) | 0x20202000u) == kLtSip && msg[i + 4] == ':')
        return host_after_scheme(msg, mv, i + 5, end, UriEnd::angle);
    // The scheme's colon is the first one: display names outside quotes are tokens (no ':').
    const uint32_t colon = mv.next(simd::kColon, i, end);
    if (colon >= end || colon < v.off + 3) return {};
    const uint32_t s = scheme_start(msg, v.off, colon);
    return uri_host(msg, mv, s, colon, end, s > v.off && msg[s - 1] == '<' ? UriEnd::angle : UriEnd::addr_spec);
}

}  // namespace

std::string_view MessageHosts::request_uri() const noexcept {
    return idx_->start.is_request ? ruri_host(msg_, *mv_, idx_->start.uri) : std::string_view{};
}

std::string_view MessageHosts::to() const noexcept { return header_host(msg_, *mv_, *idx_, sip::HeaderId::to); }

std::string_view MessageHosts::from() const noexcept { return header_host(msg_, *mv_, *idx_, sip::HeaderId::from); }

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
        const sip::MaskView mv = parser_->mask_view();
        const MessageHosts hosts(msg, mv, idx);
        PolicyQuery q;
        q.source = source.ip;
        q.message = &hosts;
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
