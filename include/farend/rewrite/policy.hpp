// What to do with one message when rules decide it (per source prefix, per SIP domain): the
// action and the tests and rewrites that replace the global ones. The rule table itself (rte_lpm,
// Hyperscan) is in module rules; the processor only asks this interface.
#pragma once

#include <farend/base/ip_addr.hpp>
#include <farend/nat/detect.hpp>
#include <farend/rewrite/rewrite.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace farend::sip {
struct MaskView;
struct MessageIndex;
}  // namespace farend::sip

namespace farend::rewrite {

enum class RuleAction : uint8_t {
    auto_,  // run the NAT tests, rewrite when one fires (the default)
    force,  // treat as NATed: rewrite even when no test fires
    never,  // never touch: forwarded as it is
    drop,   // not forwarded
};

[[nodiscard]] std::optional<RuleAction> parse_rule_action(std::string_view s) noexcept;
[[nodiscard]] std::string_view rule_action_name(RuleAction a) noexcept;

struct Policy {
    RuleAction action = RuleAction::auto_;
    nat::TestMask tests = nat::kDefaultTests;
    Config rewrite;
};

// The hosts of a message a rule may match by domain: its Request-URI's, To's and From's, each
// read only when asked (each costs a search of its line), so that a source whose rules do not
// look at domains pays nothing for them. Defined in processor.cpp.
class MessageHosts {
public:
    MessageHosts(std::string_view msg, const sip::MaskView& mv, const sip::MessageIndex& idx) noexcept
        : msg_(msg), mv_(&mv), idx_(&idx) {}
    // The host of the Request-URI, To's URI or From's URI (sip: and sips:); empty when there is
    // none (a response has no Request-URI) or it has another scheme (tel:, ...).
    [[nodiscard]] std::string_view request_uri() const noexcept;
    [[nodiscard]] std::string_view to() const noexcept;
    [[nodiscard]] std::string_view from() const noexcept;

private:
    std::string_view msg_;
    const sip::MaskView* mv_;
    const sip::MessageIndex* idx_;
};

// The message a policy is looked up for: where it came from, and the hosts of its Request-URI,
// To and From: given in hosts (tests, tools), and/or read from `message` after those.
struct PolicyQuery {
    IpAddr source;
    std::string_view hosts[3];
    uint8_t host_count = 0;
    const MessageHosts* message = nullptr;
};

class PolicySource {
public:
    virtual ~PolicySource() = default;
    // True when some rule matches by domain.
    [[nodiscard]] virtual bool wants_domains() const noexcept = 0;
    // True when some rule sets contact mode alias (the core side is then read for aliases).
    [[nodiscard]] virtual bool uses_alias() const noexcept = 0;
    // The rule that decides the message (its hit counted for `worker`), or nullptr when none
    // matches and the global settings apply. Reads q.message's hosts only when they can change
    // the decision.
    [[nodiscard]] virtual const Policy* resolve(const PolicyQuery& q, unsigned worker) noexcept = 0;
};

}  // namespace farend::rewrite
