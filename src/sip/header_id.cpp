// Header name <-> id, method token <-> id. The name lookup lives in header_table.hpp (the header
// index inlines it).
#include <farend/base/slice.hpp>
#include <farend/sip/header_id.hpp>

#include "header_table.hpp"

#include <iterator>

namespace farend::sip {
HeaderId header_id(std::string_view name) noexcept { return detail::lookup_header(name); }

std::string_view header_name(HeaderId id) noexcept { return detail::kCanonical[static_cast<std::size_t>(id)]; }

namespace {
constexpr std::string_view kMethods[] = {"",       "INVITE",    "ACK",    "BYE",     "CANCEL",
                                         "REGISTER", "OPTIONS", "PRACK",  "SUBSCRIBE", "NOTIFY",
                                         "PUBLISH", "INFO",      "REFER",  "MESSAGE", "UPDATE"};
}

Method method_id(std::string_view token) noexcept {
    for (std::size_t i = 1; i < std::size(kMethods); ++i)
        if (kMethods[i] == token) return static_cast<Method>(i);
    return Method::other;
}

}  // namespace farend::sip
