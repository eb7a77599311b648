// The Internet checksum's one's-complement sum (RFC 1071) over a byte range: scalar and AVX2
// kernels, chosen with the scanner's dispatch (FAREND_SIMD applies). The sum is of 16-bit words
// in memory order; fold it with farend::net::fold (byte order is handled there).
#pragma once

#include <cstddef>
#include <cstdint>

namespace farend::simd {

// Unfolded sum of the little-endian 16-bit words of data[0..len) (an odd last byte counts as its
// own low byte). Exact for len up to 2^32 bytes.
using SumFn = uint64_t (*)(const uint8_t* data, std::size_t len) noexcept;

uint64_t ones_sum_scalar(const uint8_t* data, std::size_t len) noexcept;
uint64_t ones_sum_avx2(const uint8_t* data, std::size_t len) noexcept;

// The kernel matching simd::active() (AVX-512 machines use the AVX2 one).
[[nodiscard]] SumFn ones_sum() noexcept;

}  // namespace farend::simd
