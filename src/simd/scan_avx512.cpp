// AVX-512BW kernel: one 64-byte load, compares straight into 64-bit mask registers.
#include <farend/simd/scan.hpp>

#include <immintrin.h>

#include <algorithm>

#define FAREND_AVX512 __attribute__((target("avx512f,avx512bw,bmi,bmi2,popcnt")))

namespace farend::simd {
namespace {

template <unsigned Set>
FAREND_AVX512 inline void scan_vec(__m512i v, BlockMasks& out) noexcept {
    if constexpr ((Set & kIndexClassSet) != 0) out.m[kLF] = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'));
    if constexpr ((Set & kValueClassSet) != 0) {
        out.m[kWs] =
            _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(' ')) | _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\t'));
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
// The up-front scan (kIndexClassSet) and the one's-complement sum of the data (RFC 1071) from the
// same 64-byte loads, as scan_avx2.cpp's scan_index_summed does from its two 32-byte ones. Each
// load's 32 little-endian words, their top bits flipped (w - 0x8000, signed, no overflow), are
// added in pairs by vpmaddwd into 16 signed 32-bit lanes: a lane gains at least -0x10000 and at
// most 0xfffe a load, so after the 1,024 loads of the largest message (sip::kMaxMessage) it is
// within 2^26 of zero. Every load is owed 32 * 0x8000, added once at the end. The last, partial
// block is a masked load whose lanes past the data are zero (as scan_range reads it): a zero word
// adds nothing once paid back, and an odd last byte is the low byte of a word with a zero high
// byte, the sum's convention. The sum is exact (not folded), as ones_sum_avx2's.
FAREND_AVX512 uint64_t scan_summed_avx512(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept {
    constexpr unsigned Set = kIndexClassSet;
    const __m512i flip = _mm512_set1_epi16(static_cast<short>(0x8000)), ones = _mm512_set1_epi16(1);
    const auto pairs = [&](__m512i v) FAREND_AVX512 { return _mm512_madd_epi16(_mm512_xor_si512(v, flip), ones); };
    const std::size_t whole = len / kBlock;
    __m512i acc = _mm512_setzero_si512();
    const uint8_t* p = data;
    for (BlockMasks *o = out, *const stop = out + whole; o != stop; ++o, p += kBlock) {
        const __m512i v = _mm512_loadu_si512(p);
        scan_vec<Set>(v, *o);
        acc = _mm512_add_epi32(acc, pairs(v));
    }
    const std::size_t rest = len - whole * kBlock;  // 0 <= rest < 64
    std::size_t loads = whole;
    if (rest != 0) {
        const __m512i v = _mm512_maskz_loadu_epi8((__mmask64{1} << rest) - 1, p);
        scan_vec<Set>(v, out[whole]);
        acc = _mm512_add_epi32(acc, pairs(v));
        ++loads;
    }
    const __m512i wide = _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(acc)),
                                          _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(acc, 1)));
    return loads * 32 * 0x8000 + static_cast<uint64_t>(_mm512_reduce_add_epi64(wide));
}
FAREND_AVX512 void scan_values_avx512(const uint8_t* data, std::size_t len, std::size_t first, std::size_t end,
                                      BlockMasks* out) noexcept {
    scan_range<kValueClassSet>(data, len, first, end, out);
}

}  // namespace farend::simd
