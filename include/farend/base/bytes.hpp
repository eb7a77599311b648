// Short-range byte searches and compares, inline. The parsers look for one byte ('@', '?', ']')
// in a URI of a few dozen bytes and compare host names of a few dozen bytes; a call to libc's
// memchr/memcmp costs more there than the search itself (call, PLT, length dispatch). SSE2 is
// part of baseline x86-64, and SSSE3 of what DPDK needs of an x86 CPU (its -march=corei7, which
// meson.build passes to the whole project as -mssse3), so these need no run-time dispatch.
// Neither reads outside the buffer it is given.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif
#if defined(__AVX2__)
#include <immintrin.h>
#endif
#include <array>

namespace farend {

// Unaligned little-endian loads of 2, 4 and 8 bytes at p (the 2-byte one widened to 32 bits).
[[nodiscard]] inline uint32_t load_u16(const char* p) noexcept {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}
[[nodiscard]] inline uint32_t load_u32(const char* p) noexcept {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
[[nodiscard]] inline uint64_t load_u64(const char* p) noexcept {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

// d[0, n) = s[0, n) for the few dozen bytes of a host, port or parameter, without a call or a
// string instruction: two overlapping moves of 8 or 16 bytes from inside the range. Longer
// copies go to memcpy. The ranges must not overlap.
inline void copy_bytes(char* d, const char* s, std::size_t n) noexcept {
#if defined(__SSE2__)
    if (n >= 16) {
        if (n > 32) {
            std::memcpy(d, s, n);
            return;
        }
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + n - 16));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d), a);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + n - 16), b);
        return;
    }
#endif
    if (n >= 8) {
        const uint64_t a = load_u64(s), b = load_u64(s + n - 8);
        std::memcpy(d, &a, 8);
        std::memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        const uint32_t a = load_u32(s), b = load_u32(s + n - 4);
        std::memcpy(d, &a, 4);
        std::memcpy(d + n - 4, &b, 4);
    } else if (n != 0) {
        // 1-3 bytes: the first, the middle and the last (some of them the same byte), read
        // before any is written, without a loop whose trip count follows n.
        const char a = s[0], b = s[n / 2], c = s[n - 1];
        d[0] = a;
        d[n / 2] = b;
        d[n - 1] = c;
    }
}

// d[0, n) = s[0, n) where the ranges may overlap (memmove), for the short segments an edit plan
// moves: up to 64 bytes from loads that all come before the stores (copy_bytes' are so too), so
// no call, PLT or length dispatch; longer ones go to memmove.
inline void move_bytes(char* d, const char* s, std::size_t n) noexcept {
#if defined(__SSE2__)
    if (n > 32) {
        if (n > 64) {
            std::memmove(d, s, n);
            return;
        }
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 16));
        const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + n - 32));
        const __m128i e = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + n - 16));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d), a);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 16), b);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + n - 32), c);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + n - 16), e);
        return;
    }
    copy_bytes(d, s, n);  // up to 32: its loads come before its stores
#else
    std::memmove(d, s, n);
#endif
}

// Bytes s[off, off + n) (n <= 8) as a little-endian word with letters lower-cased, and a mask with
// 0x20 at the letters' positions: a candidate word w equals them, ignoring the letters' case,
// when (w | mask) == word. Only letters fold, so '-' (0x2d) still differs from CR (0x0d). For
// compile-time tables (iequals_lit's literals, the header-name table).
constexpr void fold_word(const char* s, std::size_t off, std::size_t n, uint64_t& word, uint64_t& mask) noexcept {
    word = mask = 0;
    for (std::size_t i = 0; i < n; ++i) {
        char c = s[off + i];
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (letter) c = static_cast<char>(c | 0x20);
        word |= uint64_t{static_cast<unsigned char>(c)} << (8 * i);
        mask |= uint64_t{letter ? 0x20u : 0u} << (8 * i);
    }
}

// A literal of up to 16 ASCII bytes for iequals_lit(), packed at compile time: its first and
// last 8 bytes (4 when shorter than 8; all of it when shorter than 4) as fold_word() words and
// masks.
struct FoldedLit {
    uint64_t head = 0, tail = 0, head_mask = 0, tail_mask = 0;
    uint32_t n = 0;

    template <std::size_t N>
    consteval FoldedLit(const char (&s)[N]) : n(N - 1) {  // NOLINT: implicit from a literal on purpose
        static_assert(N - 1 <= 16, "FoldedLit holds up to 16 bytes");
        const uint32_t w = n >= 8 ? 8 : n >= 4 ? 4 : n;
        fold_word(s, 0, w, head, head_mask);
        fold_word(s, n - w, w, tail, tail_mask);
    }
};

// ASCII case-insensitive s == lit, in one or two word compares (iequals() in base/slice.hpp does
// the same byte by byte, for strings that are not literals). always_inline: its literal's words
// are then constants; with one caller more (MediaType::is), GCC's LTO made it a call of its
// own (~77 instructions a packet more).
[[nodiscard, gnu::always_inline]] inline bool iequals_lit(std::string_view s, const FoldedLit& lit) noexcept {
    if (s.size() != lit.n) return false;
    const char* p = s.data();
    if (lit.n >= 8)
        return ((load_u64(p) | lit.head_mask) == lit.head) && ((load_u64(p + lit.n - 8) | lit.tail_mask) == lit.tail);
    if (lit.n >= 4)
        return ((load_u32(p) | lit.head_mask) == lit.head) && ((load_u32(p + lit.n - 4) | lit.tail_mask) == lit.tail);
    uint64_t w = 0;
    for (uint32_t i = 0; i < lit.n; ++i) w |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
    return (w | lit.head_mask) == lit.head;
}

#if defined(__SSE2__)
// 0xff at each byte of v below 0x21 (space, control) or above 0x7e (DEL, non-ASCII), else 0: two
// compares (a byte from 0x80 up is negative as a signed byte, so "below 0x21" takes it too; DEL is
// the one compare for equality). Window32::space_or_control() without AVX2, and the SIP
// character checks (sip::chars: the Request-URI's, a URI's marks).
[[nodiscard, gnu::always_inline]] inline __m128i space_or_control16(__m128i v) noexcept {
    return _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x21)), _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
}

// The 32 bytes at p (the caller has checked that they lie in its buffer), searched for bytes:
// any(c...) is the mask of those equal to one of cs, bit i for p[i]. The compares are OR-ed as
// vectors, so one movemask (two without AVX2) whatever the number of bytes looked for.
// always_inline: with LTO, GCC made such a search a call (~40 instructions a packet more with
// rules). Built with AVX2 (scripts/build-pgo's x86-64-v3), the window is one 32-byte vector: a
// compare and a movemask where SSE takes two of each; without it, two 16-byte halves.
// The two forms are two types (an inline namespace apiece): a build whose translation units differ
// in -march (build-pgo's: DPDK's side keeps -march=corei7) would otherwise hold one class with two
// definitions, which GCC's link-time -Wodr reported.
#if defined(__AVX2__)
inline namespace window_avx2 {
#else
inline namespace window_sse {
#endif
struct Window32 {
#if defined(__AVX2__)
    __m256i v;
    [[gnu::always_inline]] explicit Window32(const char* p) noexcept
        : v(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))) {}
    template <typename... C>
    [[nodiscard, gnu::always_inline]] uint32_t any(C... cs) const noexcept {
        return static_cast<uint32_t>(_mm256_movemask_epi8((... | _mm256_cmpeq_epi8(v, _mm256_set1_epi8(cs)))));
    }
    // The bytes below 0x21 (space and the controls) or from 0x7f (DEL, non-ASCII): a signed
    // compare takes the bytes from 0x80 as negative, and DEL by one compare for equality.
    [[nodiscard, gnu::always_inline]] uint32_t space_or_control() const noexcept {
        return static_cast<uint32_t>(_mm256_movemask_epi8(
            _mm256_or_si256(_mm256_cmpgt_epi8(_mm256_set1_epi8(0x21), v), _mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7f)))));
    }
    // The same mask as any() for a set of ASCII bytes by two table look-ups a byte: see the
    // 16-byte form below. The tables are the same 16 bytes in each lane (vpshufb looks up within
    // its 128-bit lane).
    [[nodiscard, gnu::always_inline]] uint32_t in_set(__m128i lows, __m128i highs) const noexcept {
        const __m256i nibble = _mm256_set1_epi8(0x0f);
        const __m256i l = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(lows), _mm256_and_si256(v, nibble));
        const __m256i h =
            _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(highs), _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
        return ~static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(l, h), _mm256_setzero_si256())));
    }
#else
    __m128i lo, hi;
    [[gnu::always_inline]] explicit Window32(const char* p) noexcept
        : lo(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))),
          hi(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16))) {}
    template <typename... C>
    [[nodiscard, gnu::always_inline]] uint32_t any(C... cs) const noexcept {
        const __m128i l = (... | _mm_cmpeq_epi8(lo, _mm_set1_epi8(cs)));
        const __m128i h = (... | _mm_cmpeq_epi8(hi, _mm_set1_epi8(cs)));
        return static_cast<uint32_t>(_mm_movemask_epi8(l)) | static_cast<uint32_t>(_mm_movemask_epi8(h)) << 16;
    }
    // The bytes below 0x21 (space and the controls) or from 0x7f (DEL, non-ASCII).
    [[nodiscard, gnu::always_inline]] uint32_t space_or_control() const noexcept {
        return static_cast<uint32_t>(_mm_movemask_epi8(space_or_control16(lo))) |
               static_cast<uint32_t>(_mm_movemask_epi8(space_or_control16(hi))) << 16;
    }
#if defined(__SSSE3__)
    // The same mask for a set of ASCII bytes by two table look-ups a byte (pshufb): a byte is in
    // the set when lows[its low nibble] & highs[its high nibble] != 0, where highs[h] is bit h
    // and lows[l] has bit h for every member h:l. Exact for any set of bytes below 0x80 (eight
    // high nibbles, eight bits); bytes from 0x80 have highs 0. ~13 instructions a half, where
    // compares cost two a byte looked for (~37 a half for the nine ends of a parameter value).
    [[nodiscard, gnu::always_inline]] uint32_t in_set(__m128i lows, __m128i highs) const noexcept {
        const __m128i nibble = _mm_set1_epi8(0x0f), zero = _mm_setzero_si128();
        const auto half = [&](__m128i x) {
            const __m128i l = _mm_shuffle_epi8(lows, _mm_and_si128(x, nibble));
            const __m128i h = _mm_shuffle_epi8(highs, _mm_and_si128(_mm_srli_epi16(x, 4), nibble));
            return static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_and_si128(l, h), zero)));
        };
        return ~(half(lo) | half(hi) << 16);
    }
#endif
#endif
};
}  // inline namespace window_avx2 / window_sse
#endif

// The nibble tables of Window32::in_set for the bytes Cs (all below 0x80).
template <char... Cs>
struct NibbleSet {
    static_assert(((static_cast<unsigned char>(Cs) < 0x80) && ...), "NibbleSet takes ASCII bytes only");
    static constexpr std::array<std::array<uint8_t, 16>, 2> kTables = [] {
        std::array<std::array<uint8_t, 16>, 2> t{};  // lows, highs
        for (const unsigned char c : {static_cast<unsigned char>(Cs)...}) {
            t[0][c & 15] = static_cast<uint8_t>(t[0][c & 15] | (1u << (c >> 4)));
            t[1][c >> 4] = static_cast<uint8_t>(1u << (c >> 4));
        }
        return t;
    }();
};

// Offset of the first byte in [from, to) of buf[0, size) equal to one of Cs, or `to` if none
// (from <= to <= size): 32 bytes a step (Window32: one compare per byte looked for, or for five
// bytes and more the nibble tables of in_set; one movemask per half) while 32 bytes of buf remain
// from the step's start, byte by byte after. For the few
// dozen bytes of a header value, where a per-block class scan of the message costs more than the
// search. Reads only inside buf[0, size).
template <char... Cs>
[[nodiscard, gnu::always_inline]] inline uint32_t find_any(const char* buf, uint32_t size, uint32_t from,
                                                           uint32_t to) noexcept {
    uint32_t i = from;
#if defined(__SSE2__)
#if defined(__SSSE3__)
    // Five bytes and more: two table look-ups a byte cost less than a compare a byte looked for.
    constexpr bool kByTable = sizeof...(Cs) >= 5;
#else
    constexpr bool kByTable = false;
#endif
    for (; i < to && size - i >= 32; i += 32) {
        uint64_t m;
        if constexpr (kByTable) {
#if defined(__SSSE3__)
            const auto& t = NibbleSet<Cs...>::kTables;
            m = Window32(buf + i).in_set(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t[0].data())),
                                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(t[1].data())));
#endif
        } else {
            m = Window32(buf + i).any(Cs...);
        }
        if (to - i < 32) m &= (uint64_t{1} << (to - i)) - 1;
        if (m) return i + static_cast<uint32_t>(__builtin_ctzll(m));
    }
#endif
    for (; i < to; ++i)
        if (((buf[i] == Cs) || ...)) return i;
    return to;
}

// The spaces of buf[p, p + n), n <= 64, bit i for buf[p + i], and in tabs its tabs; the bits from
// n on are the bytes after (or zero past the buffer's end): the caller masks them. p < size. For
// a line's fields, where a per-block white-space mask of the whole message cost more than the few
// lines that read it. One 32-byte window for the usual short line; reads only inside buf[0, size):
// with fewer bytes left from p, the buffer's last 64 bytes, their masks shifted down (a
// zero-padded copy of a buffer under 64 bytes).
[[nodiscard, gnu::always_inline]] inline uint64_t space_bits(const char* buf, uint32_t size, uint32_t p, uint32_t n,
                                                             uint64_t& tabs) noexcept {
#if defined(__SSE2__)
    uint64_t spaces;
    const auto at = [&](const char* q, unsigned shift) {
        const Window32 a(q), b(q + 32);
        spaces = (uint64_t{a.any(' ')} | uint64_t{b.any(' ')} << 32) >> shift;
        tabs = (uint64_t{a.any('\t')} | uint64_t{b.any('\t')} << 32) >> shift;
    };
    if (n <= 32 && size - p >= 32) [[likely]] {
        const Window32 w(buf + p);
        tabs = w.any('\t');
        return w.any(' ');
    }
    if (size - p >= 64) {
        at(buf + p, 0);
    } else if (size >= 64) {
        at(buf + size - 64, 64 - (size - p));
    } else {
        alignas(16) char tail[64] = {};
        std::memcpy(tail, buf, size);
        at(tail, p);
    }
    return spaces;
#else
    (void)n;
    uint64_t spaces = 0;
    tabs = 0;
    for (uint32_t i = 0; i < 64 && p + i < size; ++i) {
        if (buf[p + i] == ' ') spaces |= uint64_t{1} << i;
        if (buf[p + i] == '\t') tabs |= uint64_t{1} << i;
    }
    return spaces;
#endif
}

// Offset of the first byte equal to c in [from, to) of buf[0, size), or `to` if none
// (from <= to <= size). A range of up to 32 bytes with 32 bytes of buf from `from` is two SSE2
// compares; anything else goes to memchr. Reads only inside buf[0, size).
[[nodiscard]] inline uint32_t find_byte(const char* buf, uint32_t size, uint32_t from, uint32_t to, char c) noexcept {
#if defined(__SSE2__)
    if (to - from <= 32 && size >= 32 && from <= size - 32) {
        const uint64_t m = uint64_t{Window32(buf + from).any(c)} & ((uint64_t{1} << (to - from)) - 1);
        return m ? from + static_cast<uint32_t>(__builtin_ctzll(m)) : to;
    }
#endif
    const void* hit = std::memchr(buf + from, c, to - from);
    return hit ? static_cast<uint32_t>(static_cast<const char*>(hit) - buf) : to;
}

// a[0, n) == b[0, n), reading nothing outside either range.
[[nodiscard, gnu::always_inline]] inline bool same_bytes(const char* a, const char* b, std::size_t n) noexcept {
    if (n >= 8) {
        if (n <= 16)  // most hosts: two overlapping words each, no loop
            return ((load_u64(a) ^ load_u64(b)) | (load_u64(a + n - 8) ^ load_u64(b + n - 8))) == 0;
        for (std::size_t i = 0; i + 8 < n; i += 8)
            if (load_u64(a + i) != load_u64(b + i)) return false;
        return load_u64(a + n - 8) == load_u64(b + n - 8);  // the last eight, overlapping the loop's
    }
    if (n >= 4) return load_u32(a) == load_u32(b) && load_u32(a + n - 4) == load_u32(b + n - 4);
    for (std::size_t i = 0; i < n; ++i)
        if (a[i] != b[i]) return false;
    return true;
}

// The run of decimal digits at b[d, end) (end <= size): how many there are, up to 8 (8 means
// 8 or more), and, when there are at most 8, their value. One 8-byte load when 8 bytes are left
// in the buffer: the digit bytes found as a mask, the value by three multiplies that add
// neighbouring digits, pairs, then fours (the run moved to the top of the word: the bytes
// before it read as leading zeros). A loop that read a byte, tested and added it took ~7
// instructions a digit, and its trip count followed the digits. always_inline: as a call (GCC's
// choice) its callers spilled and reloaded around it, ~10 instructions a port.
[[nodiscard, gnu::always_inline]] inline uint32_t digit_run(const char* b, uint32_t size, uint32_t d, uint32_t end, uint32_t& value) noexcept {
    if (size - d < 8) [[unlikely]] {
        uint32_t n = 0, v = 0;
        for (unsigned c; d + n < end && n < 8 && (c = static_cast<unsigned char>(b[d + n]) - unsigned{'0'}) <= 9; ++n)
            v = v * 10 + c;
        value = v;
        return n;
    }
    const uint64_t w = load_u64(b + d);
    constexpr uint64_t k30 = 0x3030303030303030ull, kF0 = 0xf0f0f0f0f0f0f0f0ull, k06 = 0x0606060606060606ull;
    // A byte is a digit when its high nibble is 3 and stays 3 with 6 added ('0'..'9' only). A
    // carry out of a byte >= 0xfa changes only the bytes after it, and it is not a digit itself.
    const uint64_t other = ((w & kF0) ^ k30) | (((w + k06) & kF0) ^ k30);
    uint32_t n = other ? static_cast<uint32_t>(__builtin_ctzll(other)) / 8 : 8;
    if (n > end - d) n = end - d;
    if (n == 0) {
        value = 0;
        return 0;
    }
    uint64_t x = (w - k30) << (8 * (8 - n));  // n digits at the top, zeros below
    x = (x * 10 + (x >> 8)) & 0x00ff00ff00ff00ffull;            // pairs, in 16-bit lanes
    x = (x * 100 + (x >> 16)) & 0x0000ffff0000ffffull;          // fours, in 32-bit lanes
    value = static_cast<uint32_t>(x * 10000 + (x >> 32));  // all eight, in the low 32 bits
    return n;
}

// "00".."99": the two digits of each value below 100, for put_port.
inline constexpr auto kDigitPairs = [] {
    struct {
        char c[200];
    } t{};
    for (int i = 0; i < 100; ++i) {
        t.c[2 * i] = static_cast<char>('0' + i / 10);
        t.c[2 * i + 1] = static_cast<char>('0' + i % 10);
    }
    return t;
}();

// A port's decimal text (1-5 digits, no leading zero) as 8 bytes written at out, the digits first;
// returns how many are digits. No loop and no branch: the value split at 100 twice (the
// compiler's division by a constant, a multiply), the low two pairs of digits from a table, the
// length from the leading '0' bytes (one bit scan; four compares took ~16 instructions).
// std::to_chars took a call and two loops whose trip counts follow the value (~40 instructions);
// a multiply for each of the five digits took ~60.
[[nodiscard]] inline std::size_t put_port(char* out, uint16_t port) noexcept {
    const uint32_t v = port;
    const uint32_t hi = v / 100, lo = v % 100;      // hi <= 655
    const uint32_t top = hi / 100, mid = hi % 100;  // top <= 6
    uint16_t pm, pl;
    std::memcpy(&pm, kDigitPairs.c + 2 * mid, 2);
    std::memcpy(&pl, kDigitPairs.c + 2 * lo, 2);
    const uint64_t digits = (0x30u + top) | uint64_t{pm} << 8 | uint64_t{pl} << 24;
    // The leading zeros: the '0' bytes before the first other digit (the last digit always
    // counts: bit 32 stands in for it).
    const auto zeros = static_cast<unsigned>(__builtin_ctzll((digits ^ 0x3030303030ull) | uint64_t{1} << 32)) / 8;
    const uint64_t w = digits >> (8 * zeros);  // shifted out
    std::memcpy(out, &w, sizeof w);
    return 5 - zeros;
}
static_assert(std::endian::native == std::endian::little, "put_port's digits are stored little-endian");

}  // namespace farend
