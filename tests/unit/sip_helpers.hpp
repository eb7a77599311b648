#pragma once

#include <farend/sip/message.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace farend::test {

// Test messages are written with "\n"; the wire has CRLF.
inline std::string crlf(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

// One parsed message that owns its bytes.
struct Parsed {
    std::string buf;
    std::unique_ptr<sip::MessageParser> parser;
    const sip::MessageIndex* idx;

    explicit Parsed(std::string bytes, const simd::Kernel& k = simd::active())
        : buf(std::move(bytes)), parser(std::make_unique<sip::MessageParser>(k)), idx(&parser->parse(buf)) {}
    [[nodiscard]] std::string_view t(Slice s) const { return text(buf, s); }
    [[nodiscard]] sip::MaskView mv() const { return parser->mask_view(); }
    const sip::MessageIndex& operator*() const { return *idx; }
    const sip::MessageIndex* operator->() const { return idx; }
};

}  // namespace farend::test
