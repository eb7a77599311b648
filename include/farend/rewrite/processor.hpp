// One SIP datagram through parse -> detect -> plan -> apply, in place. Per-worker: holds the
// parser, the parts scratch and the edit plan (~116 KiB), reused for every message.
#pragma once

#include <farend/nat/detect.hpp>
#include <farend/rewrite/alias.hpp>
#include <farend/rewrite/policy.hpp>
#include <farend/rewrite/rewrite.hpp>
#include <farend/sip/message.hpp>

namespace farend::rewrite {

// The headers process() reads, the only ones its index keeps (sip::MessageIndex::kept): the top
// Via, every Contact, the body's Content-Length, Content-Type and Content-Encoding
// (extract_parts, plan_rewrites); with domain rules, the From and To hosts too (MessageHosts). The
// others (Call-ID, CSeq, Max-Forwards, ...: about half the lines of a message) are read as far
// as their names and not stored. Public for the tests that hold such an index to the full one.
inline constexpr sip::HeaderSet kRewriteHeaders =
    sip::header_set({sip::HeaderId::via, sip::HeaderId::contact, sip::HeaderId::content_length,
                     sip::HeaderId::content_type, sip::HeaderId::content_encoding});
inline constexpr sip::HeaderSet kDomainRuleHeaders =
    kRewriteHeaders | sip::header_set({sip::HeaderId::from, sip::HeaderId::to});

struct Options {
    nat::DetectConfig detect;
    Config rewrite;
};

enum class Outcome : uint8_t {
    malformed,   // did not parse (see error): left untouched
    not_nated,   // parsed, no enabled test fired: untouched
    unchanged,   // NATed, but it already says what the rewrites would write (or rewrites are off)
    rewritten,   // NATed and edited
    no_room,     // NATed, edits planned, but the buffer cannot hold the result: untouched
    plan_error,  // NATed, but the planned edits overlap (a bug): untouched
    rule_never,  // a rule says never touch it: untouched
    rule_drop,   // a rule says drop it: untouched, not to be forwarded
    bad_checksum,  // its UDP checksum (UdpChecksum) is wrong: untouched, not read
    too_many_edits,  // NATed, but it needs more edits or text than the plan holds: untouched
};

// A UDP checksum to check before the message is read: a rewrite would sum it anew over damaged
// bytes and vouch for them. The caller sums the pseudo-header and the UDP header
// (net::checksums_before_payload); the parser's scan sums the payload in the same pass.
struct UdpChecksum {
    bool pending = false;     // check it (false: nothing to check, or checked already)
    uint64_t header_sum = 0;  // net::udp_header_sum
};

struct Result {
    Outcome outcome = Outcome::malformed;
    sip::ParseError error = sip::ParseError::none;
    nat::Verdict verdict;
    Summary summary;
    uint32_t size = 0;    // message size now
    uint32_t needed = 0;  // no_room: extra bytes of capacity that would have been enough
    bool ruled = false;   // a rule decided the policy (and was counted)
    bool forced = false;  // a rule with action force made it NATed
};

class Processor {
public:
    explicit Processor(Options options, const simd::Kernel& kernel = simd::active());

    // buf[0, size) holds the datagram; the buffer may be written (and is read) up to capacity.
    // With rules, the rule that matches the message (its hit counted for `worker`) decides what
    // is done. With a pending checksum that does not verify, nothing but the scan: bad_checksum.
    Result process(char* buf, uint32_t size, uint32_t capacity, const nat::Source& source,
                   PolicySource* rules = nullptr, unsigned worker = 0, const UdpChecksum& checksum = {}) noexcept;

    // The reverse path (alias mode): parses buf[0, size) and reads its Request-URI's alias.
    AliasStatus find_alias(const char* buf, uint32_t size, AliasTarget& out) noexcept;
    // True when buf[0, size) is a complete response whose top Via branch starts with prefix
    // (an answer to a request farend sent itself), and its pending checksum verifies.
    bool is_response_to(const char* buf, uint32_t size, std::string_view branch_prefix,
                        const UdpChecksum& checksum = {}) noexcept;

    [[nodiscard]] const Options& options() const noexcept { return options_; }
    // The last message's index. After process() it keeps only the headers process() reads (Via,
    // Contact, Content-Length, Content-Type, Content-Encoding; From and To with domain rules):
    // see kept.
    [[nodiscard]] const sip::MessageIndex& index() const noexcept { return parser_.index(); }
    [[nodiscard]] const EditPlan& plan() const noexcept { return plan_; }
    // The parts of the last message that parsed (top Via, Contacts, SDP). Their byte ranges refer
    // to the message as it was before a rewrite; addresses are copies and stay right.
    [[nodiscard]] const sip::MessageParts& parts() const noexcept { return parts_; }

private:
    // parse() of the message, and whether its checksum (if pending) verifies; slack as for
    // sip::MessageParser::parse().
    bool parse_checked(std::string_view msg, sip::HeaderSet keep, const UdpChecksum& checksum,
                       std::size_t slack = 0) noexcept;
    // The policy of the rule that matches the parsed message (its hit counted), or null.
    const Policy* consult_rules(std::string_view msg, const nat::Source& source, PolicySource& rules,
                                unsigned worker) noexcept;

    Options options_;
    nat::DetectConfig ruled_detect_;  // options_.detect with a rule's tests
    // Held in the processor (no pointers): the hot path reaches each from `this`, where a pointer
    // of its own was loaded again after every store through the message's char*.
    sip::MessageParser parser_;
    sip::MessageParts parts_;
    EditPlan plan_;
};

}  // namespace farend::rewrite
