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

// What an index says of a message, as far as a set of headers goes: verdict, error and where,
// how many header lines, the start line, every header of the set (the index's own numbering
// left out: a full index and one that keeps only the set number them differently), where
// find() and next() lead for each id of the set, the body and Content-Length. Two indexes of one
// message, one with every header kept and one with `keep`, describe alike under `keep`.
inline std::string describe_kept(const sip::MessageIndex& m, sip::HeaderSet keep) {
    std::string o;
    const auto num = [&o](uint64_t v) { o += std::to_string(v) + ' '; };
    const auto sl = [&](Slice s) { num(s.off), num(s.len); };
    num(static_cast<unsigned>(m.verdict)), num(static_cast<unsigned>(m.error)), num(m.error_off), num(m.line_count);
    o += '\n';
    sl(m.start.line), sl(m.start.method), sl(m.start.uri), sl(m.start.version), num(m.start.status);
    o += '\n';
    for (uint16_t i = 0; i < m.header_count; ++i) {
        const sip::Header& h = m.headers[i];
        if (!sip::contains(keep, h.id)) continue;
        num(static_cast<unsigned>(h.id)), sl(h.name), sl(h.value), num(h.line_end), num(h.folded);
        o += '\n';
    }
    for (std::size_t id = 0; id < sip::kHeaderIdCount; ++id) {
        if (!sip::contains(keep, static_cast<sip::HeaderId>(id))) continue;
        o += "id " + std::to_string(id) + ':';
        for (const sip::Header* h = m.find(static_cast<sip::HeaderId>(id)); h; h = m.next(*h)) num(h->line_off());
        o += '\n';
    }
    num(m.headers_end), num(m.body_off), num(m.body_len), num(m.trailing), num(m.size);
    const sip::ContentLength& cl = m.content_length;
    num(static_cast<unsigned>(cl.status)), num(cl.value), num(cl.count), num(cl.leading_zeros), sl(cl.digits);
    return o;
}

}  // namespace farend::test
