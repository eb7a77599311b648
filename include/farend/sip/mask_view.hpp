// Walks the block scanner's class masks: "where is the next ';' at or after this offset".
// The parsers use it to jump between structural bytes instead of testing every byte.
#pragma once

#include <farend/simd/scan.hpp>

#include <cstddef>
#include <cstdint>

namespace farend::sip {

using ClassSet = uint16_t;  // bit k set selects simd::Class k
[[nodiscard]] constexpr ClassSet classes(std::initializer_list<simd::Class> cs) noexcept {
    ClassSet s = 0;
    for (auto c : cs) s = static_cast<ClassSet>(s | (1u << c));
    return s;
}

struct MaskView {
    const simd::BlockMasks* blocks = nullptr;
    uint32_t len = 0;

    // Offset of the first byte in [from, limit) of class c, or limit if none.
    [[nodiscard, gnu::always_inline]] uint32_t next(simd::Class c, uint32_t from, uint32_t limit) const noexcept {
        if (from >= limit) return limit;
        uint32_t b = from / 64;
        uint64_t m = blocks[b].m[c] & (~uint64_t{0} << (from % 64));
        const uint32_t last = (limit - 1) / 64;
        for (;;) {
            if (m) {
                uint32_t pos = b * 64 + static_cast<uint32_t>(__builtin_ctzll(m));
                return pos < limit ? pos : limit;
            }
            if (++b > last) return limit;
            m = blocks[b].m[c];
        }
    }

    // Offset of the first byte in [from, limit) of any class in set, or limit if none.
    [[nodiscard]] uint32_t next_any(ClassSet set, uint32_t from, uint32_t limit) const noexcept {
        if (from >= limit) return limit;
        uint32_t b = from / 64;
        uint64_t m = gather(b, set) & (~uint64_t{0} << (from % 64));
        const uint32_t last = (limit - 1) / 64;
        for (;;) {
            if (m) {
                uint32_t pos = b * 64 + static_cast<uint32_t>(__builtin_ctzll(m));
                return pos < limit ? pos : limit;
            }
            if (++b > last) return limit;
            m = gather(b, set);
        }
    }

private:
    [[nodiscard]] uint64_t gather(uint32_t b, ClassSet set) const noexcept {
        uint64_t m = 0;
        while (set) {
            unsigned k = static_cast<unsigned>(__builtin_ctz(set));
            m |= blocks[b].m[k];
            set = static_cast<ClassSet>(set & (set - 1));
        }
        return m;
    }
};

}  // namespace farend::sip
