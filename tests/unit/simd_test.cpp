// Every SIMD kernel against the scalar one, on every length and alignment and on random bytes.
#include <farend/simd/scan.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace farend::simd;

namespace {

std::vector<BlockMasks> run(const Kernel& k, const uint8_t* p, size_t n) {
    std::vector<BlockMasks> out(blocks_for(n) + 1);
    std::memset(out.data(), 0xa5, out.size() * sizeof(BlockMasks));
    k.scan(p, n, out.data());
    out.pop_back();
    return out;
}

void expect_same(const std::vector<BlockMasks>& a, const std::vector<BlockMasks>& b, const std::string& what) {
    ASSERT_EQ(a.size(), b.size()) << what;
    for (size_t i = 0; i < a.size(); ++i)
        for (unsigned c = 0; c < kClassCount; ++c) ASSERT_EQ(a[i].m[c], b[i].m[c]) << what << " block " << i << " class " << c;
}

}  // namespace

TEST(Simd, ScalarMarksEachClass) {
    const std::string s = "\r\n:,;<>\" \tx";
    auto m = run(*kernel(Backend::scalar), reinterpret_cast<const uint8_t*>(s.data()), s.size());
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].m[kCR], 1u << 0);
    EXPECT_EQ(m[0].m[kLF], 1u << 1);
    EXPECT_EQ(m[0].m[kColon], 1u << 2);
    EXPECT_EQ(m[0].m[kComma], 1u << 3);
    EXPECT_EQ(m[0].m[kSemi], 1u << 4);
    EXPECT_EQ(m[0].m[kLt], 1u << 5);
    EXPECT_EQ(m[0].m[kGt], 1u << 6);
    EXPECT_EQ(m[0].m[kQuote], 1u << 7);
    EXPECT_EQ(m[0].m[kWs], (1u << 8) | (1u << 9));
}

TEST(Simd, TailBitsBeyondLengthAreClear) {
    std::string s(70, ' ');
    for (const Kernel* k : supported()) {
        auto m = run(*k, reinterpret_cast<const uint8_t*>(s.data()), s.size());
        ASSERT_EQ(m.size(), 2u);
        EXPECT_EQ(m[0].m[kWs], ~uint64_t{0}) << k->name;
        EXPECT_EQ(m[1].m[kWs], (uint64_t{1} << 6) - 1) << k->name;
    }
}

TEST(Simd, EveryKernelMatchesScalarOnRandomBytes) {
    std::mt19937_64 rng(42);
    // Bias towards the interesting bytes so every class appears often.
    constexpr char kInteresting[] = "\r\n:,;<>\" \t\0\x80\xff\x0b\x0c\x2d\x3d";  // the NUL included
    const std::string interesting(kInteresting, sizeof kInteresting - 1);
    std::vector<uint8_t> buf(4096 + 64);
    for (int round = 0; round < 400; ++round) {
        for (auto& b : buf)
            b = (rng() % 3 == 0) ? static_cast<uint8_t>(interesting[rng() % interesting.size()])
                                 : static_cast<uint8_t>(rng());
        const size_t off = rng() % 64;
        const size_t len = rng() % 4096;
        const auto ref = run(*kernel(Backend::scalar), buf.data() + off, len);
        for (const Kernel* k : supported())
            expect_same(run(*k, buf.data() + off, len), ref, std::string(k->name) + " len " + std::to_string(len));
    }
}

TEST(Simd, EveryByteValueAtEveryPosition) {
    // Each of the 256 byte values at each of a block's 64 positions, among bytes of no class:
    // each kernel marks exactly the classes the scalar one does (the AVX2 white-space lookup
    // reads a byte's low nibble: every other byte with nibble 0 or 9 must stay unmarked).
    std::vector<uint8_t> buf(128, 'a');
    for (int v = 0; v < 256; ++v) {
        for (size_t pos = 0; pos < 64; ++pos) {
            std::fill(buf.begin(), buf.end(), static_cast<uint8_t>('a'));
            buf[pos] = buf[64 + (63 - pos)] = static_cast<uint8_t>(v);
            const auto ref = run(*kernel(Backend::scalar), buf.data(), buf.size());
            for (const Kernel* k : supported())
                expect_same(run(*k, buf.data(), buf.size()), ref, std::string(k->name) + " byte " + std::to_string(v));
        }
    }
}

TEST(Simd, EveryLengthUpTo200) {
    std::string s;
    for (int i = 0; i < 200; ++i) s += "a:b\r\n,;<>\" \t"[i % 13];
    for (size_t n = 0; n <= s.size(); ++n) {
        const auto ref = run(*kernel(Backend::scalar), reinterpret_cast<const uint8_t*>(s.data()), n);
        for (const Kernel* k : supported())
            expect_same(run(*k, reinterpret_cast<const uint8_t*>(s.data()), n), ref, k->name);
    }
}

// MessageParser scans the index classes of a datagram, then the value classes of the blocks a
// parser asks for, in runs: each part must write its classes exactly as the full scan does, leave
// the other classes' words alone, and read nothing past the data (the guard-page tests).
TEST(Simd, IndexThenValueRangesMakeTheFullScan) {
    std::mt19937_64 rng(20261202);
    constexpr char kInteresting[] = "\r\n:,;<>\" \t\0\x80\xff";  // the NUL included
    const std::string interesting(kInteresting, sizeof kInteresting - 1);
    std::vector<uint8_t> buf(1024 + 64);
    const auto check = [](const std::vector<BlockMasks>& got, const std::vector<BlockMasks>& ref, unsigned set,
                          uint64_t sentinel, const std::string& what) {
        ASSERT_EQ(got.size(), ref.size());
        for (size_t b = 0; b < got.size(); ++b)
            for (unsigned c = 0; c < kClassCount; ++c)
                ASSERT_EQ(got[b].m[c], (set >> c) & 1 ? ref[b].m[c] : sentinel) << what << " block " << b << " class " << c;
    };
    for (int round = 0; round < 600; ++round) {
        for (auto& b : buf)
            b = rng() % 3 == 0 ? static_cast<uint8_t>(interesting[rng() % interesting.size()]) : static_cast<uint8_t>(rng());
        const size_t off = rng() % 64;
        const size_t len = round < 200 ? static_cast<size_t>(round) : rng() % 1024;
        const uint8_t* p = buf.data() + off;
        const auto ref = run(*kernel(Backend::scalar), p, len);
        for (const Kernel* k : supported()) {
            const std::string what = std::string(k->name) + " len " + std::to_string(len);
            std::vector<BlockMasks> got(blocks_for(len));
            if (!got.empty()) std::memset(got.data(), 0xa5, got.size() * sizeof(BlockMasks));
            k->scan_index(p, len, got.data());
            check(got, ref, kIndexClassSet, 0xa5a5a5a5a5a5a5a5ull, what + " index");
            // The value classes in random runs of blocks, in random order, each block once.
            std::vector<size_t> cuts{0, got.size()};
            for (int c = 0; c < 3 && !got.empty(); ++c) cuts.push_back(rng() % (got.size() + 1));
            std::sort(cuts.begin(), cuts.end());
            std::vector<std::pair<size_t, size_t>> runs;
            for (size_t i = 0; i + 1 < cuts.size(); ++i)
                if (cuts[i] < cuts[i + 1]) runs.emplace_back(cuts[i], cuts[i + 1]);
            std::shuffle(runs.begin(), runs.end(), rng);
            for (const auto& [first, end] : runs) k->scan_values(p, len, first, end, got.data());
            check(got, ref, kIndexClassSet | kValueClassSet, 0, what + " values");
        }
    }
}

// scan_summed is the parser's up-front scan and the UDP checksum's sum of the same bytes in one
// pass: its masks must be scan_index's (scan's for the scalar kernel, which is not lazy) and its
// sum must fold as the exact sum does (congruent modulo 0xffff: AVX2 shifts the sum of a last
// partial block it loads at an odd start), for every length and start, random bytes and the
// words at the signed edges of the vector sum (0x0000, 0xffff, 0x7fff, 0x8000), up to 64 KiB.
TEST(Simd, SummedScanIsTheUpFrontScanAndTheSum) {
    const auto exact = [](const uint8_t* p, size_t n) {
        uint64_t s = 0;
        for (size_t i = 0; i + 1 < n; i += 2) s += static_cast<uint64_t>(p[i] | (p[i + 1] << 8));
        if (n % 2) s += p[n - 1];
        return s;
    };
    std::mt19937_64 rng(20261204);
    constexpr char kInteresting[] = "\r\n \t\0\x7f\x80\xff";  // the NUL included
    const std::string interesting(kInteresting, sizeof kInteresting - 1);
    std::vector<uint8_t> buf(65536 + 64);
    const auto check = [&](const uint8_t* p, size_t len, const std::string& what) {
        const uint64_t want = exact(p, len);
        for (const Kernel* k : supported()) {
            std::vector<BlockMasks> ref(blocks_for(len) + 1), got(blocks_for(len) + 1);
            std::memset(ref.data(), 0xa5, ref.size() * sizeof(BlockMasks));
            std::memset(got.data(), 0xa5, got.size() * sizeof(BlockMasks));
            (k->lazy_values ? k->scan_index : k->scan)(p, len, ref.data());
            const uint64_t sum = k->scan_summed(p, len, got.data());
            ASSERT_EQ(sum % 0xffff, want % 0xffff) << k->name << " " << what << " len " << len;
            ASSERT_EQ(sum == 0, want == 0) << k->name << " " << what << " len " << len;
            ASSERT_EQ(0, std::memcmp(ref.data(), got.data(), got.size() * sizeof(BlockMasks)))
                << k->name << " " << what << " len " << len;  // the guard block past the data too
        }
    };
    for (int round = 0; round < 1500; ++round) {
        for (auto& b : buf)
            b = rng() % 3 == 0 ? static_cast<uint8_t>(interesting[rng() % interesting.size()]) : static_cast<uint8_t>(rng());
        const size_t off = rng() % 64;
        const size_t len = round < 400 ? static_cast<size_t>(round) : round < 1490 ? rng() % 2048 : 65536 - rng() % 64;
        check(buf.data() + off, len, "random, start " + std::to_string(off));
    }
    const std::pair<uint8_t, uint8_t> edges[] = {{0x00, 0x00}, {0xff, 0xff}, {0x00, 0x80}, {0xff, 0x7f}};
    for (const auto& [even, odd] : edges) {
        for (size_t i = 0; i < buf.size(); ++i) buf[i] = i % 2 ? odd : even;
        for (size_t len : {1, 2, 63, 64, 65, 127, 128, 129, 1499, 1500, 65535, 65536})
            for (size_t off : {0, 1}) check(buf.data() + off, len, "edge " + std::to_string(even) + "/" + std::to_string(odd));
    }
}

TEST(Simd, DispatchKnowsKernelsByName) {
    EXPECT_NE(kernel_by_name("scalar"), nullptr);
    EXPECT_EQ(kernel_by_name("sse9"), nullptr);
    EXPECT_EQ(supported()[0]->backend, Backend::scalar);
    EXPECT_NE(&active(), nullptr);
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) {
        EXPECT_NE(kernel(Backend::avx2), nullptr);
    }
    if (__builtin_cpu_supports("avx512bw")) {
        EXPECT_NE(kernel(Backend::avx512), nullptr);
    }
    // FAREND_SIMD, when the test runner sets it, must win.
    if (const char* env = std::getenv("FAREND_SIMD")) {
        EXPECT_STREQ(active().name, env);
    }
}
