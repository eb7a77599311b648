// Portable kernel: one table lookup per byte. The reference the SIMD kernels are tested against.
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

void scan_block(const uint8_t* p, std::size_t n, BlockMasks& out) noexcept {
    out = BlockMasks{};
    for (std::size_t i = 0; i < n; ++i) {
        unsigned c = kTable[p[i]];
        while (c) {
            unsigned k = static_cast<unsigned>(__builtin_ctz(c));
            out.m[k] |= uint64_t{1} << i;
            c &= c - 1;
        }
    }
}

}  // namespace

void scan_scalar(const uint8_t* data, std::size_t len, BlockMasks* out) noexcept {
    std::size_t b = 0;
    for (; (b + 1) * kBlock <= len; ++b) scan_block(data + b * kBlock, kBlock, out[b]);
    if (std::size_t rest = len - b * kBlock) scan_block(data + b * kBlock, rest, out[b]);
}

}  // namespace farend::simd
