// The AVX2 pieces of the one's-complement sum (RFC 1071) shared by ones_sum_avx2 (checksum.cpp)
// and the scanner's summing pass (scan_avx2.cpp). Internal to farend_simd.
#pragma once

#include <immintrin.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace farend::simd::avx2 {

// 32 zero bytes, 32 of 0xff, 32 zero bytes: the masks of a load's bytes. kMask + r (r <= 32):
// 32 - r zeros, then r bytes of 0xff (a load's last r bytes); kMask + 64 - k (k <= 32): k bytes of
// 0xff, then zeros (its first k).
inline constexpr auto kMask = [] {
    std::array<uint8_t, 96> t{};
    for (std::size_t i = 32; i < 64; ++i) t[i] = 0xff;
    return t;
}();

__attribute__((target("avx2"))) inline __m256i mask_at(std::size_t off) noexcept {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask.data() + off));
}

// Eight signed 32-bit lanes summed into 64 bits.
__attribute__((target("avx2"))) inline int64_t lanes_sum(__m256i a) noexcept {
    const __m256i s = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(a)),
                                       _mm256_cvtepi32_epi64(_mm256_extracti128_si256(a, 1)));
    const __m128i h = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    return _mm_cvtsi128_si64(h) + _mm_extract_epi64(h, 1);
}

// A load's sixteen little-endian words, pairwise: each 32-bit lane is w0 + w1 - 0x10000. The
// words' top bits flipped make them signed words w - 0x8000 (no overflow), which vpmaddwd
// multiplies by one and adds in pairs: two operations a load (the load folded into the XOR),
// where masking the low words and shifting down the high ones took four. The caller adds back
// kLoadBias a load.
__attribute__((target("avx2"))) inline __m256i pairs(__m256i v) noexcept {
    return _mm256_madd_epi16(_mm256_xor_si256(v, _mm256_set1_epi16(static_cast<short>(0x8000))),
                             _mm256_set1_epi16(1));
}
inline constexpr uint64_t kLoadBias = 16 * 0x8000;

}  // namespace farend::simd::avx2
