// AVX-512BW kernel: one 64-byte load, compares straight into 64-bit mask registers.
#include <farend/simd/checksum.hpp>
#include <farend/simd/scan.hpp>

#include <immintrin.h>

#include <algorithm>

#define FAREND_AVX512 __attribute__((target("avx512f,avx512bw,bmi,bmi2,popcnt")))

namespace farend::simd {
namespace {

template <unsigned Set>
FAREND_AVX512 inline void scan_vec(__m512i v, BlockMasks& out) noexcept {
    if constexpr ((Set & kIndexClassSet) != 0) {
        out.m[kLF] = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'));
        out.m[kWs] =
            _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(' ')) | _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\t'));
    }
    if constexpr ((Set & kValueClassSet) != 0) {
        out.m[kCR] = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\r'));
        out.m[kColon] = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(':'));
        out.m[kComma] = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(','));
        out.m[kSemi] = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(';'));
        out.m[kLt] = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('<'));
        out.m[kGt] = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('>'));
        out.m[kQuote] = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"'));
    }
}

template <unsigned Set>
FAREND_AVX512 inline void scan_range(const uint8_t* data, std::size_t len, std::size_t first, std::size_t end,
                                     BlockMasks* out) noexcept {
    // The whole blocks first, by pointer (one bound, as in scan_avx2.cpp).
    const std::size_t whole = std::min(end, len / kBlock);
    std::size_t b = first;
    if (b < whole) {
        const uint8_t* p = data + b * kBlock;
        BlockMasks* o = out + b;
        BlockMasks* const stop = out + whole;
        do {
            scan_vec<Set>(_mm512_loadu_si512(p), *o);
            p += kBlock;
        } while (++o != stop);
        b = whole;
    }
    if (b < end) {
        // A masked load touches only the bytes the mask selects: no read past the buffer,
        // and masked-off lanes are zero (NUL is no class).
        const std::size_t rest = len - b * kBlock;
        const __mmask64 m = rest >= 64 ? ~__mmask64{0} : ((__mmask64{1} << rest) - 1);
        scan_vec<Set>(_mm512_maskz_loadu_epi8(m, data + b * kBlock), out[b]);
    }
}

}  // namespace

FAREND_AVX512 void scan_avx512(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept {
    scan_range<kAllClassSet>(data, len, 0, blocks_for(len), out);
}
FAREND_AVX512 void scan_index_avx512(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept {
    scan_range<kIndexClassSet>(data, len, 0, blocks_for(len), out);
}
uint64_t scan_summed_avx512(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept {
    // The sum in a pass of its own, by the AVX2 kernel (simd::ones_sum() does the same).
    scan_index_avx512(data, len, out);
    return ones_sum_avx2(data, len);
}
FAREND_AVX512 void scan_values_avx512(const uint8_t* data, std::size_t len, std::size_t first, std::size_t end,
                                      BlockMasks* out) noexcept {
    scan_range<kValueClassSet>(data, len, first, end, out);
}

}  // namespace farend::simd
