// Every SIMD kernel against the scalar one, on every length and alignment and on random bytes.
#include <farend/simd/scan.hpp>

#include <gtest/gtest.h>

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
    const std::string interesting = "\r\n:,;<>\" \t\0\x80\xff\x0b\x0c\x2d\x3d";
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

TEST(Simd, EveryLengthUpTo200) {
    std::string s;
    for (int i = 0; i < 200; ++i) s += "a:b\r\n,;<>\" \t"[i % 13];
    for (size_t n = 0; n <= s.size(); ++n) {
        const auto ref = run(*kernel(Backend::scalar), reinterpret_cast<const uint8_t*>(s.data()), n);
        for (const Kernel* k : supported())
            expect_same(run(*k, reinterpret_cast<const uint8_t*>(s.data()), n), ref, k->name);
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
