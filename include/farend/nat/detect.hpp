// NAT detection: the named tests of the design, each switchable, run over one parsed message
// and the address it was observed from. Nothing here resolves names: a hostname never equals an
// address (so it mismatches) and is never private.
#pragma once

#include <farend/base/ip_addr.hpp>
#include <farend/base/prefix_set.hpp>
#include <farend/sip/parts.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace farend::nat {

// name, peer flag, and what a hit means. The order is the bit order of TestMask.
#define FAREND_NAT_TESTS(X)                                                                                   \
    X(contact_private, "contact-private", "a Contact URI host is a private address")                          \
    X(via_source_mismatch, "via-source-mismatch", "the top Via sent-by is not the observed source IP and port") \
    X(via_private, "via-private", "the top Via host is a private address")                                     \
    X(contact_source_mismatch, "contact-source-mismatch", "a Contact host is not the observed source IP")      \
    X(sdp_private, "sdp-private", "an SDP c= address is private")                                              \
    X(source_private, "source-private", "the observed source IP is itself private")                            \
    X(contact_port_mismatch, "contact-port-mismatch", "a Contact port is not the observed source port")        \
    X(sdp_source_mismatch, "sdp-source-mismatch", "an SDP c= address is not the observed source IP")

enum class Test : uint8_t {
#define FAREND_X(id, name, desc) id,
    FAREND_NAT_TESTS(FAREND_X)
#undef FAREND_X
        count
};
inline constexpr std::size_t kTestCount = static_cast<std::size_t>(Test::count);

using TestMask = uint16_t;
[[nodiscard]] constexpr TestMask bit(Test t) noexcept { return static_cast<TestMask>(1u << static_cast<unsigned>(t)); }
inline constexpr TestMask kAllTests = static_cast<TestMask>((1u << kTestCount) - 1);
// The carrier's classic set (design: defaults are the first four).
inline constexpr TestMask kDefaultTests =
    bit(Test::contact_private) | bit(Test::via_source_mismatch) | bit(Test::via_private) |
    bit(Test::contact_source_mismatch);
inline constexpr TestMask kSdpTests = bit(Test::sdp_private) | bit(Test::sdp_source_mismatch);

[[nodiscard]] std::string_view test_name(Test t) noexcept;
[[nodiscard]] std::string_view test_description(Test t) noexcept;
// "contact-private,via-private", "all", "none" (comma or space separated). nullopt and a message
// naming the bad entry on error.
[[nodiscard]] std::optional<TestMask> parse_tests(std::string_view list, std::string* error);
// "contact-private,via-source-mismatch" for a mask ("none" when empty).
[[nodiscard]] std::string tests_to_string(TestMask m);

struct Source {
    IpAddr ip;
    uint16_t port = 0;
};

struct DetectConfig {
    TestMask tests = kDefaultTests;
    PrefixSet private_ranges = PrefixSet::private_defaults();
};

struct Verdict {
    TestMask fired = 0;  // the enabled tests that were true
    [[nodiscard]] bool nated() const noexcept { return fired != 0; }
    [[nodiscard]] bool has(Test t) const noexcept { return fired & bit(t); }
};

// Runs the enabled tests. parts must have been extracted with SDP when an SDP test is enabled;
// mv are the masks of buf it was parsed with (an SDP with more addresses than sip::Sdp holds is
// read on from them: the SDP tests look at every c= address).
[[nodiscard]] Verdict detect(std::string_view buf, sip::MaskView mv, const sip::MessageIndex& index,
                             const sip::MessageParts& parts, const Source& source, const DetectConfig& config) noexcept;

}  // namespace farend::nat
