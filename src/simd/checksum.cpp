#include <farend/simd/checksum.hpp>
#include <farend/simd/scan.hpp>

#include <immintrin.h>

#include <cstring>

namespace farend::simd {

__attribute__((target("avx2"))) uint64_t ones_sum_avx2(const uint8_t* p, std::size_t len) noexcept {
    // 16 words at a time widened to 32-bit lanes; a lane takes 2^16 adds of at most 0xffff before
    // it could overflow, so the accumulators are emptied into 64 bits every 32 KiB.
    uint64_t total = 0;
    std::size_t i = 0;
    while (i + 32 <= len) {
        __m256i acc = _mm256_setzero_si256();
        const std::size_t stop = std::min(len, i + 32768) & ~std::size_t{31};
        for (; i + 32 <= stop; i += 32) {
            const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
            const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 16));
            acc = _mm256_add_epi32(acc, _mm256_cvtepu16_epi32(lo));
            acc = _mm256_add_epi32(acc, _mm256_cvtepu16_epi32(hi));
        }
        alignas(32) uint32_t lanes[8];
        _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc);
        for (uint32_t l : lanes) total += l;
    }
    return total + ones_sum_scalar(p + i, len - i);
}

SumFn ones_sum() noexcept {
    return active().backend == Backend::scalar ? &ones_sum_scalar : &ones_sum_avx2;
}

}  // namespace farend::simd
