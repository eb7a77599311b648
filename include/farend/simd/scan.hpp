// The block scanner: 64 bytes in, one 64-bit mask per byte class out (bit i set when byte i of
// the block is of that class). This is the only SIMD the SIP parser needs; the grammar stays
// scalar and walks these masks with count-trailing-zeros.
//
// Kernels: scalar (any x86-64 or other CPU), AVX2, AVX-512BW. One is chosen at first use from
// the CPU's features; FAREND_SIMD=scalar|avx2|avx512 forces one (an unsupported or unknown
// value falls back to the best supported kernel and says so once on stderr).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace farend::simd {

enum Class : unsigned {
    kCR,     // '\r'
    kLF,     // '\n'
    kColon,  // ':'
    kComma,  // ','
    kSemi,   // ';'
    kLt,     // '<'
    kGt,     // '>'
    kQuote,  // '"'
    kWs,     // ' ' or '\t'
    kClassCount
};

struct BlockMasks {
    uint64_t m[kClassCount];
};

inline constexpr std::size_t kBlock = 64;

[[nodiscard]] constexpr std::size_t blocks_for(std::size_t len) noexcept { return (len + kBlock - 1) / kBlock; }

// Fills out[0 .. blocks_for(len)-1]; the bits past len in the last block are zero. Reads exactly
// data[0 .. len-1]: a last partial block is read with a masked load (AVX-512), as the last 64
// bytes of the data with their masks shifted down (AVX2, when len >= 64), or from a zero-padded
// copy (NUL belongs to no class).
using ScanFn = void (*)(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept;

enum class Backend : uint8_t { scalar, avx2, avx512 };

struct Kernel {
    Backend backend;
    const char* name;
    ScanFn scan;
};

// The kernel in use (chosen once, thread-safe).
[[nodiscard]] const Kernel& active() noexcept;
// A given kernel, or nullptr when this CPU cannot run it.
[[nodiscard]] const Kernel* kernel(Backend b) noexcept;
// Every kernel this CPU can run, scalar first.
[[nodiscard]] std::span<const Kernel* const> supported() noexcept;
// "scalar", "avx2", "avx512" -> kernel (nullptr if unknown or unsupported).
[[nodiscard]] const Kernel* kernel_by_name(std::string_view name) noexcept;

// The kernels themselves (dispatch.cpp picks among them).
void scan_scalar(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept;
void scan_avx2(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept;
void scan_avx512(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept;

}  // namespace farend::simd
