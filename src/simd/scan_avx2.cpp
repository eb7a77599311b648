// AVX2 kernel: two 32-byte halves, one compare + movemask per class per half (white space: a
// vpshufb lookup, then the compare).
// ~20 cycles per 64-byte block for all nine classes on Zen/Skylake (18 movemasks dominate: on
// Intel only one port executes them); the index classes alone (LF, white space) take 4 a block.
#include <farend/simd/scan.hpp>

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#define FAREND_AVX2 __attribute__((target("avx2,bmi,bmi2,popcnt")))

namespace farend::simd {
namespace {

// A class's 64-bit mask written as its two 32-bit halves (little-endian): two stores instead of
// a shift and an OR per class.
FAREND_AVX2 inline void put(uint64_t& mask, __m256i lo_eq, __m256i hi_eq) noexcept {
    const int a = _mm256_movemask_epi8(lo_eq);
    const int b = _mm256_movemask_epi8(hi_eq);
    std::memcpy(reinterpret_cast<char*>(&mask), &a, 4);
    std::memcpy(reinterpret_cast<char*>(&mask) + 4, &b, 4);
}

FAREND_AVX2 inline void eq64(uint64_t& mask, __m256i lo, __m256i hi, char c) noexcept {
    const __m256i v = _mm256_set1_epi8(c);
    put(mask, _mm256_cmpeq_epi8(lo, v), _mm256_cmpeq_epi8(hi, v));
}

// The classes of Set (kIndexClassSet, kValueClassSet or both) of one 64-byte block.
template <unsigned Set>
FAREND_AVX2 inline void scan_block(const uint8_t* p, BlockMasks& out) noexcept {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    if constexpr ((Set & kIndexClassSet) != 0) {
        eq64(out.m[kLF], lo, hi, '\n');
        // ' ' and '\t' by one lookup and one compare a half: vpshufb gives each byte the table's
        // byte at its low nibble (zero for a byte with its top bit set), which equals the byte
        // only for ' ' (nibble 0) and '\t' (nibble 9). The other nibbles hold 0x80, which no
        // byte that reaches the table equals. Two compares and an OR a half before.
        const __m256i ws = _mm256_setr_epi8(' ', -128, -128, -128, -128, -128, -128, -128, -128, '\t', -128, -128, -128,
                                            -128, -128, -128, ' ', -128, -128, -128, -128, -128, -128, -128, -128, '\t',
                                            -128, -128, -128, -128, -128, -128);
        put(out.m[kWs], _mm256_cmpeq_epi8(_mm256_shuffle_epi8(ws, lo), lo),
            _mm256_cmpeq_epi8(_mm256_shuffle_epi8(ws, hi), hi));
    }
    if constexpr ((Set & kValueClassSet) != 0) {
        eq64(out.m[kCR], lo, hi, '\r');
        eq64(out.m[kColon], lo, hi, ':');
        eq64(out.m[kComma], lo, hi, ',');
        eq64(out.m[kSemi], lo, hi, ';');
        eq64(out.m[kLt], lo, hi, '<');
        eq64(out.m[kGt], lo, hi, '>');
        eq64(out.m[kQuote], lo, hi, '"');
    }
}

// Blocks [first, end) of the data, end <= blocks_for(len).
template <unsigned Set>
FAREND_AVX2 inline void scan_range(const uint8_t* data, std::size_t len, std::size_t first, std::size_t end,
                                   BlockMasks* out) noexcept {
    // The whole blocks first, by pointer (one bound: ~4 instructions a block fewer than testing
    // both the range's end and the data's).
    const std::size_t whole = std::min(end, len / kBlock);
    std::size_t b = first;
    if (b < whole) {
        const uint8_t* p = data + b * kBlock;
        BlockMasks* o = out + b;
        BlockMasks* const stop = out + whole;
        do {
            scan_block<Set>(p, *o);
            p += kBlock;
        } while (++o != stop);
        b = whole;
    }
    if (b == end) return;
    const std::size_t rest = len - b * kBlock;  // the last block, partial: 0 < rest < 64
    if (len >= kBlock) {
        // The last 64 bytes of the data, which end where the partial block does: their masks
        // shifted down by the bytes they share with the block before (no copy, no read past).
        BlockMasks t;
        scan_block<Set>(data + len - kBlock, t);
        for (unsigned s = Set; s; s &= s - 1) {
            const unsigned k = static_cast<unsigned>(__builtin_ctz(s));
            out[b].m[k] = t.m[k] >> (kBlock - rest);
        }
    } else {
        alignas(64) uint8_t tail[kBlock] = {};
        std::memcpy(tail, data + b * kBlock, rest);
        scan_block<Set>(tail, out[b]);
    }
}

}  // namespace

FAREND_AVX2 void scan_avx2(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept {
    scan_range<kAllClassSet>(data, len, 0, blocks_for(len), out);
}
FAREND_AVX2 void scan_index_avx2(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept {
    scan_range<kIndexClassSet>(data, len, 0, blocks_for(len), out);
}
FAREND_AVX2 void scan_values_avx2(const uint8_t* data, std::size_t len, std::size_t first, std::size_t end,
                                  BlockMasks* out) noexcept {
    scan_range<kValueClassSet>(data, len, first, end, out);
}

}  // namespace farend::simd
