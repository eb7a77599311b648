// Portable kernel: one table lookup per byte. The reference the SIMD kernels are tested against.
#include <farend/simd/checksum.hpp>
#include <farend/simd/scan.hpp>

#include <array>
#include <cstring>

namespace farend::simd {
namespace {

constexpr std::array<uint16_t, 256> make_table() {
    std::array<uint16_t, 256> t{};
    t['\r'] = 1u << kCR;
    t['\n'] = 1u << kLF;
    t[':'] = 1u << kColon;
    t[','] = 1u << kComma;
    t[';'] = 1u << kSemi;
    t['<'] = 1u << kLt;
    t['>'] = 1u << kGt;
    t['"'] = 1u << kQuote;
    t[' '] = 1u << kWs;
    t['\t'] = 1u << kWs;
    return t;
}
constexpr auto kTable = make_table();

// The classes of `set` of bytes p[0, n): their words are rewritten, the others left alone.
void scan_block(const uint8_t* p, std::size_t n, unsigned set, BlockMasks& out) noexcept {
    for (unsigned s = set; s; s &= s - 1) out.m[__builtin_ctz(s)] = 0;
    for (std::size_t i = 0; i < n; ++i) {
        unsigned c = kTable[p[i]] & set;
        while (c) {
            unsigned k = static_cast<unsigned>(__builtin_ctz(c));
            out.m[k] |= uint64_t{1} << i;
            c &= c - 1;
        }
    }
}

void scan_range(const uint8_t* data, std::size_t len, std::size_t first, std::size_t end, unsigned set,
                BlockMasks* out) noexcept {
    for (std::size_t b = first; b < end; ++b) {
        const std::size_t n = len - b * kBlock < kBlock ? len - b * kBlock : kBlock;
        scan_block(data + b * kBlock, n, set, out[b]);
    }
}

}  // namespace

void scan_scalar(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept {
    scan_range(data, len, 0, blocks_for(len), kAllClassSet, out);
}
void scan_index_scalar(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept {
    scan_range(data, len, 0, blocks_for(len), kIndexClassSet, out);
}
uint64_t scan_summed_scalar(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept {
    scan_scalar(data, len, out);
    return ones_sum_scalar(data, len);
}
void scan_values_scalar(const uint8_t* data, std::size_t len, std::size_t first, std::size_t end,
                        BlockMasks* out) noexcept {
    scan_range(data, len, first, end, kValueClassSet, out);
}

}  // namespace farend::simd
