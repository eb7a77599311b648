// The Internet checksum's one's-complement sum (RFC 1071) over a byte range: scalar and AVX2
// kernels, chosen with the scanner's dispatch (FAREND_SIMD applies). The sum is of 16-bit words
// in memory order; fold it with farend::net::fold (byte order is handled there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace farend::simd {

// Unfolded sum of the little-endian 16-bit words of data[0..len) (an odd last byte counts as its
// own low byte). Exact for len up to 2^32 bytes.
using SumFn = uint64_t (*)(const uint8_t* data, std::size_t len) noexcept;

// Inline: short ranges (headers, addresses) are summed with it directly, without a call.
inline uint64_t ones_sum_scalar(const uint8_t* p, std::size_t len) noexcept {
    // 32-bit loads into a 64-bit accumulator: each add carries into the upper half, folded later.
    uint64_t sum = 0;
    std::size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        uint32_t w;
        std::memcpy(&w, p + i, 4);
        sum += w;
    }
    if (i + 2 <= len) {
        uint16_t w;
        std::memcpy(&w, p + i, 2);
        sum += w;
        i += 2;
    }
    if (i < len) sum += p[i];
    return sum;
}
uint64_t ones_sum_avx2(const uint8_t* data, std::size_t len) noexcept;

// The kernel matching simd::active() (AVX-512 machines use the AVX2 one).
[[nodiscard]] SumFn ones_sum() noexcept;

}  // namespace farend::simd
