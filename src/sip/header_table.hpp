// Header name -> id: the tables and the lookup, shared by header_id() and the header index (which
// inlines it: a message has ~12 header lines). One hash probe plus a word-wise compare, ~40
// instructions a name instead of a scan over every known name. Internal to the sip module.
#pragma once

#include <farend/base/bytes.hpp>
#include <farend/base/slice.hpp>
#include <farend/sip/header_id.hpp>

#include <array>
#include <bit>
#include <cstring>

namespace farend::sip::detail {

inline constexpr std::string_view kCanonical[] = {
    "",
    "Via",
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Contact",
    "Content-Length",
    "Content-Type",
    "Content-Encoding",
    "Supported",
    "Subject",
    "Event",
    "Refer-To",
    "Allow-Events",
    "Referred-By",
    "Session-Expires",
    "Accept-Contact",
    "Reject-Contact",
    "Request-Disposition",
    "Identity",
    "Identity-Info",
    "Max-Forwards",
    "Route",
    "Record-Route",
    "Expires",
    "Content-Disposition",
    "MIME-Version",
    "Allow",
    "User-Agent",
    "Server",
    "Accept",
    "Date",
    "Authorization",
    "Proxy-Authorization",
    "WWW-Authenticate",
    "Proxy-Authenticate",
    "Require",
    "Proxy-Require",
    "P-Asserted-Identity",
    "Path",
};
static_assert(std::size(kCanonical) == kHeaderIdCount);

inline constexpr std::size_t kMaxName = 24;
static_assert(std::endian::native == std::endian::little, "header name words assume little-endian loads");

// A name of 2..24 bytes as three overlapping little-endian words: the first 8 (or 4/2) bytes,
// bytes 8..15 when longer than 16, and the last 8 (or 4/2). For names of equal length these
// words are equal exactly when the names are, and they are loaded without reading past the name.
struct Words {
    uint64_t a = 0, m = 0, z = 0;
};

template <class Load>
constexpr Words words_of(std::size_t n, Load load) {
    Words w;
    if (n >= 8) {
        w.a = load(0, 8);
        w.m = n > 16 ? load(8, 8) : 0;
        w.z = load(n - 8, 8);
    } else if (n >= 4) {
        w.a = load(0, 4);
        w.z = load(n - 4, 4);
    } else {
        w.a = load(0, 2);
        w.z = load(n - 2, 2);
    }
    return w;
}

inline constexpr uint64_t kFold = 0x2020202020202020ull;  // OR-ing lower-cases letters

constexpr unsigned bucket_of(const Words& w, std::size_t n) {
    const uint64_t k = ((w.a | kFold) ^ ((w.z | kFold) >> 5) ^ (w.m | kFold) ^ n) * 0xff51afd7ed558ccdull;
    return static_cast<unsigned>(k >> 56);
}

// Per known name: its words lower-cased (with 0x20 set in letters) and a mask with 0x20 at letter
// positions only. A candidate matches when (word | mask) == lower for each word: case-insensitive,
// yet '-' (0x2d) still differs from CR (0x0d).
struct Pattern {
    Words lower, mask;
    uint8_t len = 0;
};

constexpr std::array<Pattern, kHeaderIdCount> make_patterns() {
    std::array<Pattern, kHeaderIdCount> out{};
    for (std::size_t i = 1; i < kHeaderIdCount; ++i) {
        const auto name = kCanonical[i];
        out[i].len = static_cast<uint8_t>(name.size());
        uint64_t word = 0, mask = 0;
        const auto word_at = [&](std::size_t off, std::size_t n) { return fold_word(name.data(), off, n, word, mask), word; };
        const auto mask_at = [&](std::size_t off, std::size_t n) { return fold_word(name.data(), off, n, word, mask), mask; };
        out[i].lower = words_of(name.size(), word_at);
        out[i].mask = words_of(name.size(), mask_at);
    }
    return out;
}
inline constexpr auto kPatterns = make_patterns();

using Table = std::array<uint8_t, 256>;
constexpr Table make_table() {
    Table t{};
    for (std::size_t i = 1; i < kHeaderIdCount; ++i) {
        auto& slot = t[bucket_of(kPatterns[i].lower, kPatterns[i].len)];
        if (slot != 0) throw "header name hash collides: change the multiplier in bucket_of";  // fails the build
        slot = static_cast<uint8_t>(i);
    }
    return t;
}
inline constexpr Table kTable = make_table();

constexpr std::array<HeaderId, 26> make_compact() {
    std::array<HeaderId, 26> t{};
    t['v' - 'a'] = HeaderId::via;
    t['f' - 'a'] = HeaderId::from;
    t['t' - 'a'] = HeaderId::to;
    t['i' - 'a'] = HeaderId::call_id;
    t['m' - 'a'] = HeaderId::contact;
    t['l' - 'a'] = HeaderId::content_length;
    t['c' - 'a'] = HeaderId::content_type;
    t['e' - 'a'] = HeaderId::content_encoding;
    t['k' - 'a'] = HeaderId::supported;
    t['s' - 'a'] = HeaderId::subject;
    t['o' - 'a'] = HeaderId::event;
    t['r' - 'a'] = HeaderId::refer_to;
    t['u' - 'a'] = HeaderId::allow_events;
    t['b' - 'a'] = HeaderId::referred_by;
    t['x' - 'a'] = HeaderId::session_expires;
    t['a' - 'a'] = HeaderId::accept_contact;
    t['j' - 'a'] = HeaderId::reject_contact;
    t['d' - 'a'] = HeaderId::request_disposition;
    t['y' - 'a'] = HeaderId::identity;
    t['n' - 'a'] = HeaderId::identity_info;
    return t;
}
inline constexpr auto kCompact = make_compact();

inline uint64_t load(const char* p, std::size_t n) noexcept {
    if (n == 8) return load_u64(p);
    if (n == 4) return load_u32(p);
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}


// The lookup itself, inline so that the header index (message.cpp) pays no call per line.
inline HeaderId lookup_header(std::string_view name) noexcept {
    const std::size_t n = name.size();
    if (n == 1) {
        const char c = ascii_lower(name[0]);
        return (c >= 'a' && c <= 'z') ? kCompact[static_cast<unsigned>(c - 'a')] : HeaderId::other;
    }
    if (n < 2 || n > kMaxName) return HeaderId::other;
    const char* p = name.data();
    const Words w = words_of(n, [p](std::size_t off, std::size_t k) { return load(p + off, k); });
    const uint8_t i = kTable[bucket_of(w, n)];
    const Pattern& pat = kPatterns[i];
    if (i == 0 || pat.len != n) return HeaderId::other;
    return ((w.a | pat.mask.a) == pat.lower.a && (w.z | pat.mask.z) == pat.lower.z && (w.m | pat.mask.m) == pat.lower.m)
               ? static_cast<HeaderId>(i)
               : HeaderId::other;
}


}  // namespace farend::sip::detail
