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

// The hosts of a message's To and From, read only when asked (each costs a search of its
// header): the processor gives the Request-URI's host up front and this for the others, and the
// policy source asks for them only when they can still change its decision. Defined in
// processor.cpp.
class HeaderHosts {
public:
    // `known`: a host already given (the Request-URI's), not returned again.
    HeaderHosts(std::string_view msg, const sip::MaskView& mv, const sip::MessageIndex& idx,
                std::string_view known) noexcept
        : msg_(msg), mv_(&mv), idx_(&idx), known_(known) {}
    // The hosts of To and From into out, exact duplicates (of each other and of `known`) once;
    // how many (0-2).
    [[nodiscard]] uint8_t read(std::string_view* out) const noexcept;

private:
    std::string_view msg_;
    const sip::MaskView* mv_;
    const sip::MessageIndex* idx_;
    std::string_view known_;
};

// The message a policy is looked up for: where it came from, and the hosts of its Request-URI,
// To and From: given up front in hosts (duplicates removed), and/or read on demand from `more`
// after those.
struct PolicyQuery {
    IpAddr source;
    std::string_view hosts[3];
    uint8_t host_count = 0;
    const HeaderHosts* more = nullptr;
    int32_t place = -1;  // where the source falls in the policy source's table (its own use); -1: not looked up
};

class PolicySource {
public:
    virtual ~PolicySource() = default;
    // True when some rule matches by domain.
    [[nodiscard]] virtual bool wants_domains() const noexcept = 0;
    // True when the hosts can change which rule decides a message from q.source: the processor
    // then gives resolve() a reader of them in q.more. May look the source up and keep where it
    // fell in q.place for resolve().
    [[nodiscard]] virtual bool wants_hosts(PolicyQuery& /*q*/) noexcept { return wants_domains(); }
    // True when some rule sets contact mode alias (the core side is then read for aliases).
    [[nodiscard]] virtual bool uses_alias() const noexcept = 0;
    // The rule that decides the message (its hit counted for `worker`), or nullptr when none
    // matches and the global settings apply.
    [[nodiscard]] virtual const Policy* resolve(const PolicyQuery& q, unsigned worker) noexcept = 0;
};

}  // namespace farend::rewrite
