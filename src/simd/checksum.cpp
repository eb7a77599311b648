#include <farend/simd/checksum.hpp>
#include <farend/simd/scan.hpp>

#include "sum_avx2.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace farend::simd {

using avx2::kLoadBias;
using avx2::lanes_sum;
using avx2::mask_at;
using avx2::pairs;

__attribute__((target("avx2"))) uint64_t ones_sum_avx2(const uint8_t* p, std::size_t len) noexcept {
    // The words of two loads a round (pairs()) into one accumulator of signed 32-bit lanes. A
    // round adds at least -0x20000 and at most 0x1fffc to a lane, so the accumulator is emptied
    // into 64 bits every 32 KiB (512 rounds), long before it could overflow. Every load of 32
    // bytes is owed 16 * 0x8000 = 0x80000, added once at the end: the sum is exact, not folded.
    if (len < 32) return ones_sum_scalar(p, len);
    // An odd last byte is the low byte of a word of its own: added or not by len's parity, not
    // by a branch (datagram lengths' parity follows their addresses' digits: a coin toss).
    uint64_t total = p[len - 1] & (uint64_t{0} - (len & 1));
    const std::size_t even = len & ~std::size_t{1};
    std::size_t i = 0;
    while (even - i >= 64) {
        __m256i a = _mm256_setzero_si256();
        const std::size_t stop = i + std::min<std::size_t>((even - i) & ~std::size_t{63}, 32768);
        for (; i < stop; i += 64)
            a = _mm256_add_epi32(a, _mm256_add_epi32(pairs(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i))),
                                                     pairs(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32)))));
        total += static_cast<uint64_t>(lanes_sum(a));
    }
    // The rest, rem < 64 bytes (even), in two masked loads and no branch on its length: the 32
    // bytes that end at `even` keep their last min(rem, 32) (kMask + up); the 32 at i keep their
    // first rem - 32 when rem > 32 (kMask + 64 - low), else the first load's address is read
    // again, all masked off. Nothing outside p[0, len) is read (len >= 32); the masks' edges are
    // even, so the words stay in step. A masked word is a zero word: its -0x8000 is paid back
    // with the others'.
    const std::size_t rem = even - i;
    const std::size_t up = std::min<std::size_t>(rem, 32), low = rem - up;
    const uint8_t* const lp = low ? p + i : p + even - 32;
    const __m256i hi = _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + even - 32)), mask_at(up));
    const __m256i lo = _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(lp)), mask_at(64 - low));
    const uint64_t loads = i / 32 + 2;
    return total + static_cast<uint64_t>(lanes_sum(_mm256_add_epi32(pairs(hi), pairs(lo)))) + loads * kLoadBias;
}

SumFn ones_sum() noexcept {
    return active().backend == Backend::scalar ? &ones_sum_scalar : &ones_sum_avx2;
}

}  // namespace farend::simd
