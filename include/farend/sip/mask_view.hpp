// Walks the block scanner's class masks: "where is the next ';' at or after this offset".
// The parsers use it to jump between structural bytes instead of testing every byte.
#pragma once

#include <farend/simd/scan.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace farend::sip {

using ClassSet = uint16_t;  // bit k set selects simd::Class k
[[nodiscard]] constexpr ClassSet classes(std::initializer_list<simd::Class> cs) noexcept {
    ClassSet s = 0;
    for (auto c : cs) s = static_cast<ClassSet>(s | (1u << c));
    return s;
}

// The value classes (simd::kValueClassSet) of a datagram's blocks, made on demand: MessageParser
// scans only the index classes of the whole datagram, and a parser that reads value classes
// first asks for the bytes it reads (MaskView::ensure). Each block is scanned at most once a
// datagram. Owned by MessageParser; reset by each parse().
struct LazyMasks {
    static constexpr std::size_t kMaxBlocks = (65535 + simd::kBlock - 1) / simd::kBlock;
    const uint8_t* data = nullptr;
    uint32_t len = 0;
    simd::ScanRangeFn fill = nullptr;
    simd::BlockMasks* blocks = nullptr;
    uint64_t filled[(kMaxBlocks + 63) / 64] = {};  // bit b: block b has its value classes

    [[nodiscard]] bool has(uint32_t b) const noexcept { return (filled[b / 64] >> (b % 64)) & 1; }
    // Scans the value classes of the blocks of [b0, b1] (clamped to the datagram) that lack them.
    void fill_blocks(uint32_t b0, uint32_t b1) noexcept;
};

struct MaskView {
    const simd::BlockMasks* blocks = nullptr;
    uint32_t len = 0;
    LazyMasks* lazy = nullptr;  // null: every class of every block is there (a full scan)

    // Makes the value classes of bytes [from, to) readable. Every reader of value classes calls
    // it for the span it reads, before it reads; ~8 instructions when they are there already.
    [[gnu::always_inline]] void ensure(uint32_t from, uint32_t to) const noexcept {
        if (!lazy || from >= to) return;
        const uint32_t b0 = from / 64, b1 = (to - 1) / 64;
        if (b0 / 64 == b1 / 64) {
            const uint64_t want = (~uint64_t{0} >> (63 - (b1 - b0))) << (b0 % 64);
            if ((lazy->filled[b0 / 64] & want) == want) return;
        }
        lazy->fill_blocks(b0, b1);
    }

    // Offset of the first byte in [from, limit) of class c, or limit if none.
    [[nodiscard, gnu::always_inline]] uint32_t next(simd::Class c, uint32_t from, uint32_t limit) const noexcept {
        if (from >= limit) return limit;
        uint32_t b = from / 64;
        check(1u << c, b);
        uint64_t m = blocks[b].m[c] & (~uint64_t{0} << (from % 64));
        const uint32_t last = (limit - 1) / 64;
        for (;;) {
            if (m) {
                uint32_t pos = b * 64 + static_cast<uint32_t>(__builtin_ctzll(m));
                return pos < limit ? pos : limit;
            }
            if (++b > last) return limit;
            check(1u << c, b);
            m = blocks[b].m[c];
        }
    }

    // Offset of the first byte in [from, limit) of any class in set, or limit if none.
    [[nodiscard]] uint32_t next_any(ClassSet set, uint32_t from, uint32_t limit) const noexcept {
        if (from >= limit) return limit;
        uint32_t b = from / 64;
        check(set, b);
        uint64_t m = gather(b, set) & (~uint64_t{0} << (from % 64));
        const uint32_t last = (limit - 1) / 64;
        for (;;) {
            if (m) {
                uint32_t pos = b * 64 + static_cast<uint32_t>(__builtin_ctzll(m));
                return pos < limit ? pos : limit;
            }
            if (++b > last) return limit;
            check(set, b);
            m = gather(b, set);
        }
    }

private:
    // With FAREND_CHECK_MASKS (the sanitizer and fuzzing build): a read of a value class that no
    // ensure() made readable stops the program, so a parser that forgot to ask is caught by the
    // tests and the fuzzers instead of reading the masks of an earlier datagram.
    [[gnu::always_inline]] void check([[maybe_unused]] unsigned set, [[maybe_unused]] uint32_t b) const noexcept {
#ifdef FAREND_CHECK_MASKS
        if (lazy && (set & simd::kValueClassSet) && !lazy->has(b)) __builtin_trap();
#endif
    }

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
