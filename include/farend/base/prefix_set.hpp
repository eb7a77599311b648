// A small set of address prefixes with a membership test: the "private ranges" of NAT detection.
// Linear over at most kMax prefixes, each test a masked 128-bit compare: the default set has 8
// and operators add a handful, so this beats a trie on every real configuration.
#pragma once

#include <farend/base/ip_addr.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace farend {

class PrefixSet {
public:
    static constexpr std::size_t kMax = 256;

    PrefixSet() = default;

    // 10/8, 172.16/12, 192.168/16, 100.64/10 (RFC 6598), 192.0.0.0/24 (RFC 6890),
    // 169.254/16, fc00::/7, fe80::/10.
    [[nodiscard]] static PrefixSet private_defaults();

    // Comma- or space-separated CIDRs; "default" stands for private_defaults(). On error, says
    // which entry was wrong in *error and returns nullopt.
    [[nodiscard]] static std::optional<PrefixSet> parse(std::string_view list, std::string* error);

    bool add(const Cidr& c);  // false when full
    [[nodiscard]] bool contains(const IpAddr& ip) const noexcept;
    [[nodiscard]] const std::vector<Cidr>& prefixes() const noexcept { return prefixes_; }
    [[nodiscard]] std::string to_string() const;

private:
    struct Masked4 {
        uint32_t net, mask;  // host order
    };
    struct Masked6 {
        uint64_t hi, lo, mask_hi, mask_lo;
    };
    std::vector<Cidr> prefixes_;
    std::vector<Masked4> masked4_;  // the IPv4 prefixes: one 32-bit compare each
    std::vector<Masked6> masked6_;
};

}  // namespace farend
