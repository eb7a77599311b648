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
// 0x8000 a word.
__attribute__((target("avx2"))) inline __m256i pairs(__m256i v) noexcept {
    return _mm256_madd_epi16(_mm256_xor_si256(v, _mm256_set1_epi16(static_cast<short>(0x8000))),
                             _mm256_set1_epi16(1));
}
}  // namespace

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
    const __m256i hi = _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + even - 32)),
                                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask.data() + up)));
    const __m256i lo = _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(lp)),
                                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask.data() + 64 - low)));
    const uint64_t loads = i / 32 + 2;
    return total + static_cast<uint64_t>(lanes_sum(_mm256_add_epi32(pairs(hi), pairs(lo)))) + loads * 0x80000;
}

SumFn ones_sum() noexcept {
    return active().backend == Backend::scalar ? &ones_sum_scalar : &ones_sum_avx2;
}

}  // namespace farend::simd
