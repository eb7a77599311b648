// A small set of address prefixes with a membership test: the "private ranges" of NAT detection.
// Linear over at most kMax prefixes, each test a masked 128-bit compare: the default set has 8
// and operators add a handful, so this beats a trie on every real configuration. An IPv4 address
// is compared only with the prefixes that can hold its first octet (none for most public
// addresses, one or two for a private one), found by a 256-entry table: the usual message tests
// three addresses (its source, Via and Contact), where a walk of the six default IPv4 prefixes
// took ~30 instructions.
#pragma once

#include <farend/base/ip_addr.hpp>

#include <array>
#include <cstdint>
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
    // The IPv4 prefixes (one 32-bit compare each) by first octet: by_octet_[octet_[o], octet_[o + 1])
    // holds every prefix covering o. A prefix shorter than /8 is there under each octet it covers:
    // at most kMax * 256 entries.
    std::vector<Masked4> by_octet_;
    std::array<uint32_t, 257> octet_{};
    std::vector<Masked6> masked6_;
};

}  // namespace farend
