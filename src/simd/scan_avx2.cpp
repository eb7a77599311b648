// AVX2 kernel: two 32-byte halves, one compare + movemask per class per half (white space: a
// vpshufb lookup, then the compare).
// ~20 cycles per 64-byte block for all nine classes on Zen/Skylake (18 movemasks dominate: on
// Intel only one port executes them); the index class alone (LF) takes 2 a block.
#include <farend/simd/scan.hpp>

#include <immintrin.h>

#include "sum_avx2.hpp"

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

// The classes of Set (kIndexClassSet, kValueClassSet or both) of one 64-byte block, its halves
// loaded.
template <unsigned Set>
FAREND_AVX2 inline void scan_halves(__m256i lo, __m256i hi, BlockMasks& out) noexcept {
    if constexpr ((Set & kIndexClassSet) != 0) eq64(out.m[kLF], lo, hi, '\n');
    if constexpr ((Set & kValueClassSet) != 0) {
        // ' ' and '\t' by one lookup and one compare a half: vpshufb gives each byte the table's
        // byte at its low nibble (zero for a byte with its top bit set), which equals the byte
        // only for ' ' (nibble 0) and '\t' (nibble 9). The other nibbles hold 0x80, which no
        // byte that reaches the table equals. Two compares and an OR a half before.
        const __m256i ws = _mm256_setr_epi8(' ', -128, -128, -128, -128, -128, -128, -128, -128, '\t', -128, -128, -128,
                                            -128, -128, -128, ' ', -128, -128, -128, -128, -128, -128, -128, -128, '\t',
                                            -128, -128, -128, -128, -128, -128);
        put(out.m[kWs], _mm256_cmpeq_epi8(_mm256_shuffle_epi8(ws, lo), lo),
            _mm256_cmpeq_epi8(_mm256_shuffle_epi8(ws, hi), hi));
        eq64(out.m[kCR], lo, hi, '\r');
        eq64(out.m[kColon], lo, hi, ':');
        eq64(out.m[kComma], lo, hi, ',');
        eq64(out.m[kSemi], lo, hi, ';');
        eq64(out.m[kLt], lo, hi, '<');
        eq64(out.m[kGt], lo, hi, '>');
        eq64(out.m[kQuote], lo, hi, '"');
    }
}

FAREND_AVX2 inline __m256i load(const uint8_t* p) noexcept {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

template <unsigned Set>
FAREND_AVX2 inline void scan_block(const uint8_t* p, BlockMasks& out) noexcept {
    scan_halves<Set>(load(p), load(p + 32), out);
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

// scan_range<kIndexClassSet> of the whole data and the unfolded sum of its little-endian words
// (ones_sum_avx2's), from the same loads: the words of a block cost four operations more than its
// masks (pairs() twice, two adds), where a pass of their own loaded every byte again. The lanes
// of the accumulator take at most 0x20000 a block in either direction: 1,024 blocks (64 KiB)
// stay far inside 32 bits.
FAREND_AVX2 inline uint64_t scan_index_summed(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept {
    constexpr unsigned Set = kIndexClassSet;
    const std::size_t whole = len / kBlock;
    __m256i acc = _mm256_setzero_si256();
    const uint8_t* p = data;
    for (BlockMasks *o = out, *const stop = out + whole; o != stop; ++o, p += kBlock) {
        const __m256i lo = load(p), hi = load(p + 32);
        scan_halves<Set>(lo, hi, *o);
        acc = _mm256_add_epi32(acc, _mm256_add_epi32(avx2::pairs(lo), avx2::pairs(hi)));
    }
    const std::size_t rest = len - whole * kBlock;  // the last block, partial: 0 <= rest < 64
    uint64_t total = whole * 2 * avx2::kLoadBias;
    if (rest == 0) return total + static_cast<uint64_t>(avx2::lanes_sum(acc));
    if (len >= kBlock) {
        // The last 64 bytes of the data, as scan_range reads them; their last `rest` bytes are the
        // block's. They start at len - 64: with an odd len each word of the load pairs the bytes
        // of two of the data's words, high byte first, and their sum is the data's times 2^8
        // modulo 0xffff (a byte swap, RFC 1071 2.(B)). The data's is the load's times 2^8 again
        // (2^16 = 1 modulo 0xffff): a shift by len's parity, not a branch.
        const __m256i lo = load(data + len - kBlock), hi = load(data + len - 32);
        BlockMasks t;
        scan_halves<Set>(lo, hi, t);
        out[whole].m[kLF] = t.m[kLF] >> (kBlock - rest);
        const std::size_t up = std::min<std::size_t>(rest, 32);
        const __m256i kept = _mm256_add_epi32(avx2::pairs(_mm256_and_si256(lo, avx2::mask_at(rest - up))),
                                              avx2::pairs(_mm256_and_si256(hi, avx2::mask_at(up))));
        const uint64_t last = static_cast<uint64_t>(avx2::lanes_sum(kept)) + 2 * avx2::kLoadBias;
        return total + static_cast<uint64_t>(avx2::lanes_sum(acc)) + (last << (8 * (len & 1)));
    }
    // Shorter than a block: a zero-padded copy, whose zeros add nothing (an odd last byte is the
    // low byte of a word with a zero high byte, as the sum's convention has it).
    alignas(64) uint8_t tail[kBlock] = {};
    std::memcpy(tail, data, rest);
    const __m256i lo = load(tail), hi = load(tail + 32);
    scan_halves<Set>(lo, hi, out[0]);
    return total + 2 * avx2::kLoadBias + static_cast<uint64_t>(avx2::lanes_sum(_mm256_add_epi32(avx2::pairs(lo), avx2::pairs(hi))));
}

}  // namespace

FAREND_AVX2 uint64_t scan_summed_avx2(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept {
    return scan_index_summed(data, len, out);
}
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
