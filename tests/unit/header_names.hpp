// Header names for the lookup's tests: every known name and every name one byte away from one,
// and the id each should get by the obvious method. Shared by the index's test (message_test.cpp)
// and the test of the lookup compiled with BMI2 (header_bmi2_test.cpp).
#pragma once

#include <farend/base/bytes.hpp>
#include <farend/base/slice.hpp>
#include <farend/sip/chars.hpp>
#include <farend/sip/header_id.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace farend::test {

// The id a header name should get: a case-insensitive compare with every full name, and the
// compact letters.
inline sip::HeaderId reference_header_id(std::string_view name) {
    using sip::HeaderId;
    static const std::pair<char, HeaderId> kCompact[] = {
        {'v', HeaderId::via},          {'f', HeaderId::from},           {'t', HeaderId::to},
        {'i', HeaderId::call_id},      {'m', HeaderId::contact},        {'l', HeaderId::content_length},
        {'c', HeaderId::content_type}, {'e', HeaderId::content_encoding}, {'k', HeaderId::supported},
        {'s', HeaderId::subject},      {'o', HeaderId::event},          {'r', HeaderId::refer_to},
        {'u', HeaderId::allow_events}, {'b', HeaderId::referred_by},    {'x', HeaderId::session_expires},
        {'a', HeaderId::accept_contact}, {'j', HeaderId::reject_contact}, {'d', HeaderId::request_disposition},
        {'y', HeaderId::identity},     {'n', HeaderId::identity_info}};
    if (name.size() == 1)
        for (auto [c, id] : kCompact)
            if (farend::ascii_lower(name[0]) == c) return id;
    for (std::size_t i = 1; i < sip::kHeaderIdCount; ++i)
        if (farend::iequals(name, sip::header_name(static_cast<HeaderId>(i)))) return static_cast<HeaderId>(i);
    return HeaderId::other;
}

// Every known name, and every name one byte away from one (each byte replaced by each token
// byte, one byte dropped, one added, an 's' appended), and every letter alone in both cases.
// Some are empty (a one-byte name dropped): callers skip those.
inline std::vector<std::string> names_near_known() {
    std::vector<std::string> names;
    for (std::size_t i = 1; i < sip::kHeaderIdCount; ++i) {
        const std::string name(sip::header_name(static_cast<sip::HeaderId>(i)));
        names.push_back(name);
        for (std::size_t at = 0; at < name.size(); ++at) {
            std::string shorter = name;
            shorter.erase(at, 1);
            names.push_back(shorter);
            for (int c = 0x21; c < 0x7f; ++c) {
                if (!sip::chars::is_token(static_cast<unsigned char>(c))) continue;
                std::string changed = name;
                changed[at] = static_cast<char>(c);
                names.push_back(changed);
                names.push_back(name.substr(0, at) + static_cast<char>(c) + name.substr(at));
            }
        }
        names.push_back(name + "s");
    }
    for (char c = 'a'; c <= 'z'; ++c) names.emplace_back(1, c), names.emplace_back(1, static_cast<char>(c - 32));
    return names;
}

}  // namespace farend::test
