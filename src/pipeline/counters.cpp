#include <farend/pipeline/counters.hpp>

#include <string>

namespace farend::pipeline {

namespace {

struct Names {
    std::array<std::string, kAllCounters> name, desc;
    Names() {
        static constexpr std::string_view kFixed[][2] = {
#define FAREND_X(id, n, d) {n, d},
            FAREND_COUNTERS(FAREND_X)
#undef FAREND_X
        };
        for (std::size_t i = 0; i < kCounterCount; ++i) {
            name[i] = kFixed[i][0];
            desc[i] = kFixed[i][1];
        }
        auto snake = [](std::string_view s) {
            std::string out(s);
            for (char& c : out)
                if (c == '-') c = '_';
            return out;
        };
        for (std::size_t t = 0; t < nat::kTestCount; ++t) {
            name[kNatBase + t] = "nat_" + snake(nat::test_name(static_cast<nat::Test>(t)));
            desc[kNatBase + t] = "NAT test fired: " + std::string(nat::test_description(static_cast<nat::Test>(t)));
        }
        for (std::size_t e = 0; e < sip::kParseErrorCount; ++e) {
            name[kMalformedBase + e] = "malformed_" + snake(sip::error_name(static_cast<sip::ParseError>(e)));
            desc[kMalformedBase + e] = "malformed SIP: " + std::string(sip::error_description(static_cast<sip::ParseError>(e)));
        }
    }
};

const Names& names() {
    static const Names n;
    return n;
}

}  // namespace

std::string_view counter_name(std::size_t i) noexcept { return names().name[i]; }
std::string_view counter_description(std::size_t i) noexcept { return names().desc[i]; }

}  // namespace farend::pipeline
