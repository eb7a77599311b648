// An edit plan: byte-range replacements on one message, collected in any order, applied in place
// in one go. Either every edit is applied or none is (when the buffer lacks room, the plan says
// how many more bytes it needs and the message is untouched).
#pragma once

#include <farend/base/bytes.hpp>
#include <farend/base/slice.hpp>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

namespace farend::rewrite {

struct Edit {
    uint32_t off = 0;       // first byte replaced (or insertion point)
    uint32_t len = 0;       // bytes removed
    uint16_t text_off = 0;  // replacement text in the plan's arena
    uint16_t text_len = 0;
};

enum class ApplyStatus : uint8_t {
    ok,
    no_room,        // buffer capacity too small: `needed` more bytes would do; nothing changed
    overlap,        // two edits touch the same bytes: a bug in the planner; nothing changed
    plan_overflow,  // more edits or replacement text than the plan holds; nothing changed
};

struct ApplyResult {
    ApplyStatus status = ApplyStatus::ok;
    uint32_t size = 0;    // message size after the edits (ok), or unchanged
    uint32_t needed = 0;  // no_room: extra capacity required
};

class EditPlan {
public:
    // Enough for every address of an SDP of ~1,000 (the usual message has 3-7 edits; only the
    // edits used are touched). Beyond: plan_overflow, the message left as it came.
    static constexpr std::size_t kMaxEdits = 1024;
    static constexpr std::size_t kArena = 65535;  // Edit::text_off is 16 bits

    void clear() noexcept {
        count_ = 0;
        arena_used_ = 0;
        overflow_ = false;
    }
    // Replace buf[at.off, at.end()) with text, or with texts one after the other (copied into the
    // plan: they need not outlive the call).
    void replace(Slice at, std::string_view text) noexcept { add(at.off, at.len, {&text, 1}); }
    void replace(Slice at, std::initializer_list<std::string_view> texts) noexcept {
        add(at.off, at.len, {texts.begin(), texts.size()});
    }
    void insert(uint32_t off, std::string_view text) noexcept { add(off, 0, {&text, 1}); }
    void insert(uint32_t off, std::initializer_list<std::string_view> texts) noexcept {
        add(off, 0, {texts.begin(), texts.size()});
    }
    void erase(Slice at) noexcept { add(at.off, at.len, {}); }
    // The general form: buf[off, off + len) replaced with the texts one after the other.
    void add(uint32_t off, uint32_t len, std::span<const std::string_view> texts) noexcept;

    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    [[nodiscard]] bool overflowed() const noexcept { return overflow_; }
    // Bytes the message grows by (negative: shrinks).
    [[nodiscard]] int64_t growth() const noexcept;
    // The i-th edit in order of offset (then of insertion: add() keeps edits at one offset in the
    // order they came).
    [[nodiscard]] const Edit& edit(std::size_t i) const noexcept { return edits_[i]; }
    [[nodiscard]] std::string_view text(const Edit& e) const noexcept {
        return {arena_.data() + e.text_off, e.text_len};
    }

    // Applies every edit to buf[0, size) within capacity, in order of offset (add() keeps them so;
    // at one offset, in the order they were added).
    ApplyResult apply(char* buf, uint32_t size, uint32_t capacity) noexcept;

private:
    // 32-bit counts: the loops index with them (16-bit ones took a zero extension at each use).
    // First: next to the first edits, not 76 KiB past them on a page of their own.
    uint32_t count_ = 0;
    uint32_t arena_used_ = 0;
    bool overflow_ = false;
    std::array<Edit, kMaxEdits> edits_{};
    // The arena's first bytes 1,152 bytes past the first edits' in a 4 KiB page, as they were when
    // the plan held 96 edits: a table of 1,024 (12 KiB) put them at the same offset, and the core
    // took the arena's loads for the edits' stores (4K aliasing): the dataplane 1.9% slower for
    // the same instructions. Never touched. (Checked in edit_plan.cpp.)
    [[maybe_unused]] char gap_[1152];
    std::array<char, kArena> arena_{};
};

// Inline: the planners add a few edits a message, most of one to four short pieces of known
// length (literals), which then copy without a call or a length test.
[[gnu::always_inline]] inline void EditPlan::add(uint32_t off, uint32_t len, std::span<const std::string_view> texts) noexcept {
    std::size_t size = 0;
    for (const std::string_view t : texts) size += t.size();
    if (count_ == kMaxEdits || size > kArena - arena_used_) {
        overflow_ = true;
        return;
    }
    // Kept in apply()'s order (offset, then insertion) as they come: most come in order, the
    // rest (a Content-Length planned after the body's edits) move past a few. A sort in apply()
    // cost ~70 instructions a rewritten message.
    uint32_t k = count_;
    for (; k > 0 && edits_[k - 1u].off > off; --k) edits_[k] = edits_[k - 1u];
    Edit& e = edits_[k];
    e.off = off;
    e.len = len;
    e.text_off = static_cast<uint16_t>(arena_used_);  // at most kArena
    e.text_len = static_cast<uint16_t>(size);
    // Each piece straight from where it is: no text is put together first and copied again.
    char* d = arena_.data() + arena_used_;
    for (const std::string_view t : texts) {
        copy_bytes(d, t.data(), t.size());
        d += t.size();
    }
    arena_used_ += static_cast<uint32_t>(size);
    ++count_;
}

}  // namespace farend::rewrite
