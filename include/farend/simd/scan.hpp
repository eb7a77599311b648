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

// The index class is what the header index and the SDP reader walk in every block (lines: LF; a
// header name's colon is found in the 16 bytes the name lookup loads, the start line's and an SDP
// line's spaces in the bytes of that line: find_any and space_bits in base/bytes.hpp). The value
// classes serve only the rules' slower readers of To/From/URI hosts (an escaped quote, a long URI)
// and the alias path. White space was an index class until the thirty-ninth session: its masks
// cost ~45 instructions a message (AVX2) for the five or so lines that read them. MessageParser
// scans the index class of the whole datagram up front and the value classes block by block on
// demand (sip::LazyMasks): most messages never need them, and on AVX2 each class costs two
// movemasks a block, which only one port executes. The Via, Contact and URI parsers search their
// few dozen bytes in place (find_any in base/bytes.hpp) instead: cheaper than scanning the blocks
// those values lie in.
inline constexpr unsigned kIndexClassSet = 1u << kLF;
inline constexpr unsigned kValueClassSet = ((1u << kClassCount) - 1) & ~kIndexClassSet;
inline constexpr unsigned kAllClassSet = kIndexClassSet | kValueClassSet;

inline constexpr std::size_t kBlock = 64;

[[nodiscard]] constexpr std::size_t blocks_for(std::size_t len) noexcept { return (len + kBlock - 1) / kBlock; }

// Fills out[0 .. blocks_for(len)-1]; the bits past len in the last block are zero. Reads exactly
// data[0 .. len-1]: a last partial block is read with a masked load (AVX-512), as the last 64
// bytes of the data with their masks shifted down (AVX2, when len >= 64), or from a zero-padded
// copy (NUL belongs to no class).
using ScanFn = void (*)(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept;
// The same for the value classes only, of blocks [first, end) of the data (end <= blocks_for(len));
// the index classes' words are left as they are. Reads no more of the data than ScanFn does.
using ScanRangeFn = void (*)(const uint8_t* data, std::size_t len, std::size_t first, std::size_t end,
                             BlockMasks* out) noexcept;

// What MessageParser scans up front (ScanFn: the index classes for a kernel with lazy_values,
// every class otherwise), returning an unfolded sum of data's little-endian 16-bit words: equal
// to simd::ones_sum's (checksum.hpp) modulo 0xffff, so net::fold gives the same 16 bits. The UDP
// checksum's share of the datagram. The vector kernels (AVX2, AVX-512) take the words from the
// scan's own loads; the scalar kernel sums in a pass of its own.
using ScanSumFn = uint64_t (*)(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept;

enum class Backend : uint8_t { scalar, avx2, avx512 };

struct Kernel {
    Backend backend;
    const char* name;
    ScanFn scan;                // every class
    ScanFn scan_index;          // the index classes only (the value classes' words are left as they are)
    ScanRangeFn scan_values;    // the value classes of a range of blocks
    ScanSumFn scan_summed;      // the up-front scan (scan_index or scan) and the data's sum
    // Whether scanning the value classes only where a parser asks pays (the vector kernels, whose
    // cost is per class); the scalar kernel's is per byte, so it scans every class in one pass.
    bool lazy_values;
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
void scan_index_scalar(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept;
void scan_index_avx2(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept;
void scan_index_avx512(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept;
uint64_t scan_summed_scalar(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept;
uint64_t scan_summed_avx2(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept;
uint64_t scan_summed_avx512(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept;
void scan_values_scalar(const uint8_t* data, std::size_t len, std::size_t first, std::size_t end, BlockMasks* out) noexcept;
void scan_values_avx2(const uint8_t* data, std::size_t len, std::size_t first, std::size_t end, BlockMasks* out) noexcept;
void scan_values_avx512(const uint8_t* data, std::size_t len, std::size_t first, std::size_t end, BlockMasks* out) noexcept;

}  // namespace farend::simd
