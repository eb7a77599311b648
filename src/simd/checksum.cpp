#include <farend/simd/checksum.hpp>
#include <farend/simd/scan.hpp>

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace farend::simd {

namespace {
// 32 zero bytes, 32 of 0xff, 32 zero bytes: the masks of a load's bytes. kMask + r (r <= 32):
// 32 - r zeros, then r bytes of 0xff (a load's last r bytes); kMask + 64 - k (k <= 32): k bytes of
// 0xff, then zeros (its first k).
constexpr auto kMask = [] {
    std::array<uint8_t, 96> t{};
    for (std::size_t i = 32; i < 64; ++i) t[i] = 0xff;
    return t;
}();

// Eight 32-bit lanes summed into 64 bits.
__attribute__((target("avx2"))) inline uint64_t lanes_sum(__m256i a) noexcept {
    const __m256i s = _mm256_add_epi64(_mm256_and_si256(a, _mm256_set1_epi64x(0xffffffff)), _mm256_srli_epi64(a, 32));
    const __m128i h = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    return static_cast<uint64_t>(_mm_cvtsi128_si64(h)) + static_cast<uint64_t>(_mm_extract_epi64(h, 1));
}
// A lane's two little-endian words added: the low one masked, the high one shifted down.
__attribute__((target("avx2"))) inline __m256i words(__m256i v) noexcept {
    return _mm256_add_epi32(_mm256_and_si256(v, _mm256_set1_epi32(0xffff)), _mm256_srli_epi32(v, 16));
}
}  // namespace

__attribute__((target("avx2"))) uint64_t ones_sum_avx2(const uint8_t* p, std::size_t len) noexcept {
    // Each 32-bit lane of a load holds two little-endian words: the low one masked plus the high
    // one shifted down (no shuffle), two loads a round into two accumulators. A lane takes at
    // most 2 * 0xffff a load, so the accumulators are emptied into 64 bits every 32 KiB (512
    // rounds) long before one could overflow.
    if (len < 32) return ones_sum_scalar(p, len);
    // An odd last byte is the low byte of a word of its own: added or not by len's parity, not
    // by a branch (datagram lengths' parity follows their addresses' digits: a coin toss).
    uint64_t total = p[len - 1] & (uint64_t{0} - (len & 1));
    const std::size_t even = len & ~std::size_t{1};
    std::size_t i = 0;
    while (even - i >= 64) {
        __m256i a = _mm256_setzero_si256(), b = _mm256_setzero_si256();
        const std::size_t stop = i + std::min<std::size_t>((even - i) & ~std::size_t{63}, 32768);
        for (; i < stop; i += 64) {
            a = _mm256_add_epi32(a, words(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i))));
            b = _mm256_add_epi32(b, words(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32))));
        }
        total += lanes_sum(a) + lanes_sum(b);
    }
    // The rest, rem < 64 bytes (even), in two masked loads and no branch on its length: the 32
    // bytes that end at `even` keep their last min(rem, 32) (kMask + up); the 32 at i keep their
    // first rem - 32 when rem > 32 (kMask + 64 - low), else the first load's address is read
    // again, all masked off. Nothing outside p[0, len) is read (len >= 32); the masks' edges are
    // even, so the words stay in step.
    const std::size_t rem = even - i;
    const std::size_t up = std::min<std::size_t>(rem, 32), low = rem - up;
    const uint8_t* const lp = low ? p + i : p + even - 32;
    const __m256i hi = _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + even - 32)),
                                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask.data() + up)));
    const __m256i lo = _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(lp)),
                                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask.data() + 64 - low)));
    return total + lanes_sum(_mm256_add_epi32(words(hi), words(lo)));
}

SumFn ones_sum() noexcept {
    return active().backend == Backend::scalar ? &ones_sum_scalar : &ones_sum_avx2;
}

}  // namespace farend::simd
