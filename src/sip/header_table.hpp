// Header name -> id: the tables and the lookup, shared by header_id() and the header index (which
// inlines it: a message has ~12 header lines). One hash probe plus a 16-byte vector compare, ~20
// instructions a name instead of a scan over every known name. Internal to the sip module.
#pragma once

#include <farend/base/bytes.hpp>
#include <farend/base/slice.hpp>
#include <farend/sip/header_id.hpp>

#include <array>
#include <bit>
#include <cstring>

#include <emmintrin.h>
#if defined(__BMI2__)
#include <immintrin.h>
#endif

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

// A name as 16-byte vectors: its first 16 bytes (zero past its end; 0xff in kLookup.heads, see
// make_heads) and, when longer than 16, its last 16. Per known name, those bytes lower-cased
// (fold_word) and a mask with 0x20 at the letters: a candidate v matches when (v | mask) == lower
// in every byte, ignoring the letters' case, yet '-' (0x2d) still differs from CR (0x0d).
struct alignas(16) Vec16 {
    uint64_t w[2] = {0, 0};
};
// Per id: its first 16 bytes (kLookup.heads, 32 bytes an entry, so an id indexes it by one
// shift), its length (kLookup.lens) and, for names over 16 bytes, its last 16 (kTails).
struct Pattern {
    Vec16 lower, mask;
};

constexpr void fold16(std::string_view name, std::size_t off, Vec16& lower, Vec16& mask) {
    for (std::size_t k = 0; k < 2; ++k) {
        const std::size_t at = off + 8 * k;
        const std::size_t n = at >= name.size() ? 0 : name.size() - at < 8 ? name.size() - at : 8;
        fold_word(name.data(), at, n, lower.w[k], mask.w[k]);
    }
}

// A pattern's bytes from `from` to 16 set to 0xff in both its lower and its mask: whatever a line
// has there, OR-ed with the mask, compares equal.
constexpr void match_any_from(Pattern& p, std::size_t from) {
    for (std::size_t b = from; b < 16; ++b) {
        p.lower.w[b / 8] |= uint64_t{0xff} << (8 * (b % 8));
        p.mask.w[b / 8] |= uint64_t{0xff} << (8 * (b % 8));
    }
}
// A head's bytes past a name under 16 bytes match anything (": value"): the lookup compares the
// 16 bytes as loaded, without cutting them to the name's length first (a load of a length mask
// and an AND, ~3 instructions a header line).
constexpr std::array<Pattern, kHeaderIdCount> make_heads() {
    std::array<Pattern, kHeaderIdCount> out{};
    for (std::size_t i = 1; i < kHeaderIdCount; ++i) {
        fold16(kCanonical[i], 0, out[i].lower, out[i].mask);
        match_any_from(out[i], kCanonical[i].size());
    }
    return out;
}
// The same with the ':' after the name (exact: mask 0) for a name under 16 bytes, for the index's
// lookup of a name whose colon it found among the 16 bytes it loaded (lookup_loaded<true>): a line
// matches only when its first colon is where the name's is, so a match also says the lengths are
// one, without the length table's load and compare (~4 instructions a header line). A name of 16
// bytes and more keeps its first 16 (a colon among them matches no letter, digit or '-'). Slot 0
// (the empty buckets) matches nothing: its first byte wants 0 under a mask with 0x20.
constexpr std::array<Pattern, kHeaderIdCount> make_colon_heads() {
    std::array<Pattern, kHeaderIdCount> out = make_heads();
    out[0].lower = Vec16{};
    out[0].mask = Vec16{};
    out[0].mask.w[0] = 0x20;
    match_any_from(out[0], 1);
    for (std::size_t i = 1; i < kHeaderIdCount; ++i) {
        const std::size_t b = kCanonical[i].size();
        if (b >= 16) continue;
        const uint64_t byte = uint64_t{0xff} << (8 * (b % 8));
        out[i].lower.w[b / 8] = (out[i].lower.w[b / 8] & ~byte) | (uint64_t{':'} << (8 * (b % 8)));
        out[i].mask.w[b / 8] &= ~byte;
    }
    return out;
}
// A name's first 4 bytes lower-cased, zero past its end: what bucket_of() takes.
constexpr uint32_t first4_of(std::string_view name) {
    Vec16 lower, mask;
    fold16(name, 0, lower, mask);
    return static_cast<uint32_t>(lower.w[0]);
}
constexpr std::array<Pattern, kHeaderIdCount> make_tails() {
    std::array<Pattern, kHeaderIdCount> out{};
    for (std::size_t i = 1; i < kHeaderIdCount; ++i)
        if (kCanonical[i].size() > 16) fold16(kCanonical[i], kCanonical[i].size() - 16, out[i].lower, out[i].mask);
    return out;
}
// Slot 0 (no id: the empty buckets) has a length no name has, so a name found by its length is
// never other: the header index then skips its test for other on the usual path.
constexpr std::array<uint8_t, kHeaderIdCount> make_lens() {
    std::array<uint8_t, kHeaderIdCount> out{};
    out[0] = 0xff;
    for (std::size_t i = 1; i < kHeaderIdCount; ++i) out[i] = static_cast<uint8_t>(kCanonical[i].size());
    return out;
}
inline constexpr auto kTails = make_tails();

inline constexpr uint32_t kFold = 0x20202020u;  // OR-ing lower-cases letters

// The bucket of a name from its first 4 bytes (zero past its end) and its length: no two known
// names share both (make_lookup() fails the build if the buckets collide). 32 bits, so the
// constants are immediates: two 10-byte moves a header line fewer than with 64.
constexpr unsigned bucket_of(uint32_t first4, std::size_t n) {
    return ((first4 | kFold) ^ static_cast<uint32_t>(n)) * 0x612e7697u >> 24;
}

using Table = std::array<uint8_t, 256>;

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

// What the lookup reads at run time, in one object: one address (one lea from the instruction
// pointer) reaches all three tables, where separate arrays took one lea each a header line.
struct LookupTables {
    std::array<Pattern, kHeaderIdCount> heads;
    Table table;  // bucket -> id (0: none)
    std::array<uint8_t, kHeaderIdCount> lens;
    std::array<Pattern, kHeaderIdCount> colon_heads;  // lookup_loaded<true>'s
};
constexpr LookupTables make_lookup() {
    LookupTables t{make_heads(), {}, make_lens(), make_colon_heads()};
    for (std::size_t i = 1; i < kHeaderIdCount; ++i) {
        auto& slot = t.table[bucket_of(first4_of(kCanonical[i]), t.lens[i])];
        if (slot != 0) throw "header name hash collides: change the multiplier in bucket_of";  // fails the build
        slot = static_cast<uint8_t>(i);
    }
    return t;
}
alignas(64) inline constexpr LookupTables kLookup = make_lookup();

// The lookup itself, inline so that the header index (message.cpp) pays no call per line.
// p[0, max(n, 16)) must be readable: the index passes names inside a message with 16 bytes left
// (its usual case), header_id() a copy. One 16-byte load, a multiply and one vector compare for
// names up to 16 bytes (~20 instructions); a second compare for longer ones.
// lookup_loaded: the same when p's first 16 bytes are loaded already (raw, as they are in memory).
// Short: p[n] is the first ':' of those 16 bytes (n < 16), and the length tests go: the name's
// compare takes its colon too (kLookup.colon_heads).
template <bool Short = false>
inline HeaderId lookup_loaded(__m128i raw, const char* p, std::size_t n) noexcept {
    if (!Short && n > kMaxName) return HeaderId::other;
    const LookupTables& t = kLookup;
    // The bucket from the name's first 4 bytes cut to its length in a general register (BMI2's
    // bzhi, else a shifted mask), not from the bytes cut by a vector mask: the table's load then
    // waits for no load of a mask. The name's compare takes the bytes as loaded (make_heads).
    const auto head4 = static_cast<uint32_t>(_mm_cvtsi128_si32(raw));
#if defined(__BMI2__)
    const auto first4 = static_cast<uint32_t>(_bzhi_u64(head4, static_cast<uint32_t>(8 * n)));
#else
    const uint32_t first4 = n >= 4 ? head4 : head4 & ((uint32_t{1} << (8 * n)) - 1);
#endif
    const uint8_t i = t.table[bucket_of(first4, n)];
    // No full name has one byte: the compact forms are tested only off the usual path.
    const auto compact = [p, n] {
        if (n != 1) return HeaderId::other;
        const char c = ascii_lower(p[0]);
        return (c >= 'a' && c <= 'z') ? kCompact[static_cast<unsigned>(c - 'a')] : HeaderId::other;
    };
    const auto same = [](__m128i x, const Vec16& mask, const Vec16& lower) {
        const __m128i folded = _mm_or_si128(x, _mm_load_si128(reinterpret_cast<const __m128i*>(&mask)));
        return _mm_movemask_epi8(_mm_cmpeq_epi8(folded, _mm_load_si128(reinterpret_cast<const __m128i*>(&lower)))) ==
               0xffff;
    };
    if constexpr (Short) {
        if (!same(raw, t.colon_heads[i].mask, t.colon_heads[i].lower)) [[unlikely]]
            return compact();
        if (i == 0) __builtin_unreachable();  // colon_heads[0] matches nothing
        return static_cast<HeaderId>(i);
    }
    if (t.lens[i] != n) [[unlikely]]  // also every empty slot (len 0xff)
        return compact();
    if (i == 0) __builtin_unreachable();  // lens[0] matches no n <= kMaxName
    if (!same(raw, t.heads[i].mask, t.heads[i].lower)) return HeaderId::other;
    if (!Short && n > 16 && !same(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - 16)), kTails[i].mask, kTails[i].lower))
        return HeaderId::other;
    return static_cast<HeaderId>(i);
}

inline HeaderId lookup_padded(const char* p, std::size_t n) noexcept {
    return lookup_loaded(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), p, n);
}

// Any name: copied when shorter than the 16 bytes the lookup reads.
inline HeaderId lookup_header(std::string_view name) noexcept {
    if (name.size() >= 16) return lookup_padded(name.data(), name.size());
    alignas(16) char pad[16] = {};
    std::memcpy(pad, name.data(), name.size());
    return lookup_padded(pad, name.size());
}

}  // namespace farend::sip::detail
