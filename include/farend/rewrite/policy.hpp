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

class MessageHosts;  // message_hosts.hpp

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
