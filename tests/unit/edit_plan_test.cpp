#include <farend/rewrite/edit_plan.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <random>
#include <string>
#include <vector>

using namespace farend;
using namespace farend::rewrite;

namespace {

struct RefEdit {
    uint32_t off, len;
    std::string text;
    int seq;
};

std::string reference(const std::string& in, std::vector<RefEdit> edits) {
    std::stable_sort(edits.begin(), edits.end(), [](const RefEdit& a, const RefEdit& b) { return a.off < b.off; });
    std::string out;
    uint32_t p = 0;
    for (const auto& e : edits) {
        out.append(in, p, e.off - p);
        out += e.text;
        p = e.off + e.len;
    }
    out.append(in, p, std::string::npos);
    return out;
}

}  // namespace

TEST(EditPlan, ReplaceInsertErase) {
    std::string buf = "hello cruel world";
    buf.resize(64, '#');
    EditPlan plan;
    plan.replace(Slice{6, 5}, "kind");
    plan.insert(0, ">> ");
    plan.erase(Slice{11, 1});
    plan.insert(17, "!");
    const auto r = plan.apply(buf.data(), 17, 64);
    ASSERT_EQ(r.status, ApplyStatus::ok);
    EXPECT_EQ(buf.substr(0, r.size), ">> hello kindworld!");
    EXPECT_EQ(plan.growth(), 2);
}

TEST(EditPlan, InsertionsAtOneOffsetKeepTheirOrder) {
    std::string buf = "ab";
    buf.resize(16);
    EditPlan plan;
    plan.insert(1, "1");
    plan.insert(1, "2");
    plan.insert(1, "3");
    const auto r = plan.apply(buf.data(), 2, 16);
    ASSERT_EQ(r.status, ApplyStatus::ok);
    EXPECT_EQ(buf.substr(0, r.size), "a123b");
}

TEST(EditPlan, AnEditsTextMayBeSeveralPieces) {
    // The pieces are copied one after the other, an empty one adds nothing, and they need not
    // outlive the call (the temporaries below are gone when apply() runs).
    std::string buf = "host:5060;x";
    buf.resize(64);
    EditPlan plan;
    plan.replace(Slice{0, 9}, {std::string("203.0.113.5"), ":", std::string("40001")});
    plan.insert(11, {";received=", "", "1.2.3.4"});
    plan.insert(11, std::initializer_list<std::string_view>{});  // nothing at all
    const auto r = plan.apply(buf.data(), 11, 64);
    ASSERT_EQ(r.status, ApplyStatus::ok);
    EXPECT_EQ(buf.substr(0, r.size), "203.0.113.5:40001;x;received=1.2.3.4");
    EXPECT_EQ(plan.size(), 3u);
    EXPECT_EQ(plan.text(plan.edit(0)), "203.0.113.5:40001");
}

// A Text is a literal or a run of the plan's scratch: nothing that could be a caller's temporary
// converts to one (the copying forms take those).
static_assert(!std::is_constructible_v<EditPlan::Text, std::string_view>);
static_assert(!std::is_constructible_v<EditPlan::Text, const char*>);
static_assert(!std::is_constructible_v<EditPlan::Text, std::string>);

TEST(EditPlan, TextsByReferenceFromLiteralsAndTheScratch) {
    // The edits point to their texts: written into the scratch after they were planned, the new
    // bytes are what apply() writes (the scratch must outlive the plan's application, and does).
    std::string buf = "sip:a@10.0.0.1:5060>";
    buf.resize(64);
    EditPlan plan;
    char* s = plan.scratch();
    std::memcpy(s, "203.0.113.5:40000", 17);
    plan.replace_ref(Slice{6, 13}, plan.scratch_text(0, 17));
    plan.insert_ref(0, "<");
    plan.replace(Slice{19, 1}, std::string(">;x"));  // a copy, beside the references
    ASSERT_EQ(plan.size(), 3u);
    EXPECT_EQ(EditPlan::text(plan.edit(0)), "<");
    EXPECT_EQ(EditPlan::text(plan.edit(1)), "203.0.113.5:40000");
    EXPECT_EQ(plan.edit(1).text, s);  // not copied
    std::memcpy(s, "198", 3);
    const auto r = plan.apply(buf.data(), 20, 64);
    ASSERT_EQ(r.status, ApplyStatus::ok);
    EXPECT_EQ(buf.substr(0, r.size), "<sip:a@198.0.113.5:40000>;x");
}

TEST(EditPlan, ScratchTextsStayInsideTheScratch) {
    EditPlan plan;
    const char* s = plan.scratch();
    const auto k = static_cast<uint32_t>(EditPlan::kScratch);
    EXPECT_EQ(plan.scratch_text(k - 4, 100).view(), std::string_view(s + k - 4, 4));
    EXPECT_EQ(plan.scratch_text(k + 10, 5).size(), 0u);
    EXPECT_EQ(plan.scratch_text(0, UINT32_MAX).size(), EditPlan::kScratch);
}

TEST(EditPlan, PiecesBeyondTheArenaOverflowTheWholeEdit) {
    // Two pieces that fit apart but not together: the edit is refused whole, never half copied.
    EditPlan plan;
    const std::string half(EditPlan::kArena / 2 + 1, 'x');
    plan.insert(0, {half, half});
    EXPECT_TRUE(plan.overflowed());
    EXPECT_EQ(plan.size(), 0u);
    std::string buf(8, 'a');
    EXPECT_EQ(plan.apply(buf.data(), 8, 8).status, ApplyStatus::plan_overflow);
    EXPECT_EQ(buf, std::string(8, 'a'));
}

TEST(EditPlan, NoRoomChangesNothingAndSaysHowMuch) {
    std::string buf = "0123456789";
    EditPlan plan;
    plan.replace(Slice{2, 2}, "abcdef");
    const auto r = plan.apply(buf.data(), 10, 10);
    EXPECT_EQ(r.status, ApplyStatus::no_room);
    EXPECT_EQ(r.needed, 4u);
    EXPECT_EQ(buf, "0123456789");
}

TEST(EditPlan, OverlapsAreRefused) {
    std::string buf = "0123456789";
    buf.resize(32);
    EditPlan plan;
    plan.replace(Slice{2, 4}, "x");
    plan.replace(Slice{5, 2}, "y");
    EXPECT_EQ(plan.apply(buf.data(), 10, 32).status, ApplyStatus::overlap);
    EXPECT_EQ(buf.substr(0, 10), "0123456789");
    plan.clear();
    plan.replace(Slice{8, 4}, "x");  // past the end
    EXPECT_EQ(plan.apply(buf.data(), 10, 32).status, ApplyStatus::overlap);
}

TEST(EditPlan, OverflowIsReported) {
    EditPlan plan;
    for (size_t i = 0; i <= EditPlan::kMaxEdits; ++i) plan.insert(0, "x");
    EXPECT_TRUE(plan.overflowed());
    std::string buf(8, 'a');
    EXPECT_EQ(plan.apply(buf.data(), 8, 8).status, ApplyStatus::plan_overflow);
}

TEST(EditPlan, RandomPlansMatchAReferenceInEveryShiftPattern) {
    std::mt19937_64 rng(7);
    int patterns[3] = {0, 0, 0};  // all grow / all shrink / mixed
    for (int round = 0; round < 20000; ++round) {
        const uint32_t n = 1 + static_cast<uint32_t>(rng() % 300);
        std::string in(n, ' ');
        for (auto& c : in) c = static_cast<char>('a' + rng() % 26);
        // Non-overlapping edits at sorted random cut points.
        std::vector<RefEdit> edits;
        uint32_t p = 0;
        const int k = 1 + static_cast<int>(rng() % 8);
        for (int i = 0; i < k && p <= n; ++i) {
            const uint32_t off = p + static_cast<uint32_t>(rng() % (n - p + 1));
            const uint32_t len = static_cast<uint32_t>(rng() % (n - off + 1) % 12);
            std::string text(rng() % 14, '\0');
            for (auto& c : text) c = static_cast<char>('A' + rng() % 26);
            edits.push_back({off, len, text, i});
            p = off + len + (len == 0 ? 1 : 0);
        }
        const std::string want = reference(in, edits);
        // Shuffle the order edits are added in: apply must sort them.
        std::vector<RefEdit> shuffled = edits;
        std::shuffle(shuffled.begin(), shuffled.end(), rng);
        // (offsets are distinct here, so no order among insertions at one offset is at stake)
        EditPlan plan;
        for (const auto& e : shuffled) plan.replace(Slice{e.off, e.len}, e.text);
        int64_t s = 0, mn = 0, mx = 0;
        for (const auto& e : edits) {
            s += static_cast<int64_t>(e.text.size()) - e.len;
            mn = std::min(mn, s);
            mx = std::max(mx, s);
        }
        ++patterns[mn >= 0 ? 0 : (mx <= 0 ? 1 : 2)];
        // Too little room first: nothing may change.
        std::string buf = in;
        buf.resize(n + 300, '#');  // growth is at most 8 x 13 bytes
        // Room for the result is all apply() needs, whatever the pattern: one byte less is one short.
        const auto tight = plan.apply(buf.data(), n, n > 0 ? std::max<uint32_t>(1, static_cast<uint32_t>(want.size())) - 1 : 0);
        if (!want.empty()) {
            ASSERT_EQ(tight.status, ApplyStatus::no_room) << "round " << round;
            ASSERT_EQ(buf.substr(0, n), in);
            ASSERT_EQ(tight.needed, 1u) << "round " << round;
            const auto r = plan.apply(buf.data(), n, static_cast<uint32_t>(want.size()) - 1 + tight.needed);
            ASSERT_EQ(r.status, ApplyStatus::ok);
            ASSERT_EQ(buf.substr(0, r.size), want) << "round " << round;
        } else {
            ASSERT_EQ(tight.status, ApplyStatus::ok);
            std::string desc;
            for (const auto& e : edits) desc += " [" + std::to_string(e.off) + "+" + std::to_string(e.len) + "->" + e.text + "]";
            ASSERT_EQ(buf.substr(0, tight.size), want) << "round " << round << " n " << n << desc;
        }
    }
    EXPECT_GT(patterns[0], 100);
    EXPECT_GT(patterns[1], 100);
    EXPECT_GT(patterns[2], 100);
}

// Overlaps as apply() defines them (an edit that starts before the one before it in order of
// offset ends; the last past the message), however the edits came, with overlaps among them:
// the verdict of the whole sorted list. Where there is none, the result is the reference's.
TEST(EditPlan, OverlapsAreToldWhateverTheOrderTheEditsCameIn) {
    std::mt19937_64 rng(19);
    int overlapping = 0, clean = 0;
    for (int round = 0; round < 20000; ++round) {
        const uint32_t n = 1 + static_cast<uint32_t>(rng() % 40);
        std::string in(n, ' ');
        for (auto& c : in) c = static_cast<char>('a' + rng() % 26);
        std::vector<RefEdit> edits;
        const int k = 1 + static_cast<int>(rng() % 6);
        for (int i = 0; i < k; ++i) {
            const uint32_t off = static_cast<uint32_t>(rng() % (n + 2));  // now and then past the end
            const uint32_t len = static_cast<uint32_t>(rng() % 5);
            std::string text(rng() % 6, '\0');
            for (auto& c : text) c = static_cast<char>('A' + rng() % 26);
            edits.push_back({off, len, text, i});
        }
        // The verdict of the sorted list (stable: edits at one offset in the order they came).
        std::vector<RefEdit> sorted = edits;
        std::stable_sort(sorted.begin(), sorted.end(), [](const RefEdit& a, const RefEdit& b) { return a.off < b.off; });
        bool bad = false;
        uint64_t end = 0;
        for (const auto& e : sorted) {
            bad = bad || e.off < end;
            end = uint64_t{e.off} + e.len;
        }
        bad = bad || end > n;
        EditPlan plan;
        for (const auto& e : edits) plan.replace(Slice{e.off, e.len}, e.text);
        std::string buf = in;
        buf.resize(n + 64, '#');
        const auto r = plan.apply(buf.data(), n, n + 64);
        if (bad) {
            ++overlapping;
            ASSERT_EQ(r.status, ApplyStatus::overlap) << "round " << round;
            ASSERT_EQ(buf.substr(0, n), in);
        } else {
            ++clean;
            ASSERT_EQ(r.status, ApplyStatus::ok) << "round " << round;
            ASSERT_EQ(buf.substr(0, r.size), reference(in, sorted)) << "round " << round;
        }
    }
    EXPECT_GT(overlapping, 1000);
    EXPECT_GT(clean, 1000);
}
