// The header-name lookup (src/sip/header_table.hpp) compiled here with BMI2, as the
// profile-guided build (x86-64-v3) compiles it into the index: its bucket comes from the loaded
// bytes cut by bzhi, where the baseline build the other unit tests run cuts them with a vector
// mask. Both must give every name the same id: checked against the library's header_id() (the
// baseline path) and the obvious compare, with the bytes after the name as the index loads them
// (": value", then anything).
#include "header_names.hpp"

#include "header_table.hpp"

#include <gtest/gtest.h>

#include <cstring>

#if !defined(__BMI2__)
#error "header_bmi2_test.cpp is built with -mbmi2 (tests/meson.build)"
#endif

using namespace farend;
using namespace farend::sip;

TEST(HeaderIdsBmi2, TheLookupCutByBzhiGivesEveryNameItsId) {
    if (!__builtin_cpu_supports("bmi2"))
        GTEST_SKIP() << "SKIPPED LOUDLY: this CPU has no BMI2, so the lookup compiled with it cannot run here";
    std::size_t checked = 0, known = 0;
    for (const std::string& name : test::names_near_known()) {
        if (name.empty() || name.size() > detail::kMaxName) continue;
        const HeaderId want = test::reference_header_id(name);
        ASSERT_EQ(header_id(name), want) << name;
        known += want != HeaderId::other;
        // As the index loads a line: the name, ':' and whatever follows, 16 bytes and more.
        for (const char* after : {": 0\r\n", ":\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", ": sip:x@y\r\nVia: z"}) {
            char line[64];
            std::memset(line, 'x', sizeof line);
            std::memcpy(line, name.data(), name.size());
            std::memcpy(line + name.size(), after, std::strlen(after));
            const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(line));
            ASSERT_EQ(detail::lookup_loaded(raw, line, name.size()), want) << name << " + " << after;
            if (name.size() < 16) {
                ASSERT_EQ(detail::lookup_loaded<true>(raw, line, name.size()), want) << name;
            }
            ++checked;
        }
    }
    EXPECT_GT(known, 800u);
    EXPECT_GT(checked, 30000u);
}
