// An edit plan: byte-range replacements on one message, collected in any order, applied in place
// in one go. Either every edit is applied or none is (when the buffer lacks room, the plan says
// how many more bytes it needs and the message is untouched). A replacement text is copied into
// the plan's arena (replace, insert, add: any text) or pointed to where it is (replace_ref,
// insert_ref: a literal or a run of the plan's own scratch).
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
    const char* text = nullptr;  // the replacement text: in the plan's arena or scratch, or a literal
    uint32_t off = 0;            // first byte replaced (or insertion point)
    uint32_t len = 0;            // bytes removed
    uint32_t text_len = 0;
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
    // A text an edit points to instead of copying it: a string literal, or a run of the plan's own
    // scratch (scratch_text()). Both outlive apply(); no other text converts to one, so an edit
    // cannot point at a caller's temporary. (The copying forms below take any text.)
    class Text {
    public:
        template <std::size_t N>
        consteval Text(const char (&literal)[N]) noexcept : p_(literal), n_(N - 1) {}  // NOLINT: implicit by design
        [[nodiscard]] constexpr std::string_view view() const noexcept { return {p_, n_}; }
        [[nodiscard]] constexpr std::size_t size() const noexcept { return n_; }

    private:
        constexpr Text(const char* p, uint32_t n) noexcept : p_(p), n_(n) {}
        friend class EditPlan;
        const char* p_;
        uint32_t n_;
    };
    // Scratch for the texts a planner writes once per message (the source's address and port in
    // their forms, a new Content-Length): kept until clear(), so its runs may be Texts.
    static constexpr std::size_t kScratch = 256;
    [[nodiscard]] char* scratch() noexcept { return scratch_.data(); }
    // scratch()[off, off + len) as a Text, bounded by the scratch.
    [[nodiscard]] Text scratch_text(uint32_t off, uint32_t len) const noexcept {
        off = off < kScratch ? off : uint32_t{kScratch};
        return {scratch_.data() + off, len < kScratch - off ? len : uint32_t{kScratch} - off};
    }

    // Enough for every address of an SDP of ~1,000 (the usual message has 3-7 edits; only the
    // edits used are touched). Beyond: plan_overflow, the message left as it came.
    static constexpr std::size_t kMaxEdits = 1024;
    static constexpr std::size_t kArena = 65535;  // the copied texts of one message

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
    void erase(Slice at) noexcept { place(at.off, at.len, "", 0); }
    // The general form: buf[off, off + len) replaced with the texts one after the other.
    void add(uint32_t off, uint32_t len, std::span<const std::string_view> texts) noexcept;
    // Without a copy: the edit points to the text (a literal, or the plan's scratch).
    [[gnu::always_inline]] void replace_ref(Slice at, Text text) noexcept { place(at.off, at.len, text.p_, text.n_); }
    [[gnu::always_inline]] void insert_ref(uint32_t off, Text text) noexcept { place(off, 0, text.p_, text.n_); }

    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    [[nodiscard]] bool overflowed() const noexcept { return overflow_; }
    // Bytes the message grows by (negative: shrinks).
    [[nodiscard]] int64_t growth() const noexcept;
    // The i-th edit in order of offset (then of insertion: add() keeps edits at one offset in the
    // order they came).
    [[nodiscard]] const Edit& edit(std::size_t i) const noexcept { return edits_[i]; }
    [[nodiscard]] static std::string_view text(const Edit& e) noexcept { return {e.text, e.text_len}; }

    // Applies every edit to buf[0, size) within capacity, in order of offset (add() keeps them so;
    // at one offset, in the order they were added).
    ApplyResult apply(char* buf, uint32_t size, uint32_t capacity) noexcept;

private:
    // The edit [off, off + len) -> text[0, n), kept in apply()'s order.
    void place(uint32_t off, uint32_t len, const char* text, uint32_t n) noexcept;

    // 32-bit counts: the loops index with them (16-bit ones took a zero extension at each use).
    // First: beside the scratch and the first edits, not 88 KiB past them on a page of their own.
    uint32_t count_ = 0;
    uint32_t arena_used_ = 0;
    bool overflow_ = false;
    std::array<char, kScratch> scratch_{};
    std::array<Edit, kMaxEdits> edits_{};
    std::array<char, kArena> arena_{};
};

// Inline: the planners add a few edits a message, most in order of offset: four stores each. The
// texts stay where they are (a literal, the plan's scratch) until apply() copies them into the
// message once; copied into an arena first, they cost ~140 instructions a packet more.
[[gnu::always_inline]] inline void EditPlan::place(uint32_t off, uint32_t len, const char* text, uint32_t n) noexcept {
    if (count_ == kMaxEdits) [[unlikely]] {
        overflow_ = true;
        return;
    }
    // Kept in apply()'s order (offset, then insertion) as they come: most come in order, the
    // rest (a Content-Length planned after the body's edits) move past a few. A sort in apply()
    // cost ~70 instructions a rewritten message.
    uint32_t k = count_;
    for (; k > 0 && edits_[k - 1u].off > off; --k) edits_[k] = edits_[k - 1u];
    Edit& e = edits_[k];
    e.text = text;
    e.off = off;
    e.len = len;
    e.text_len = n;
    ++count_;
}

// The copying form: the pieces one after the other into the arena, the edit pointing there.
inline void EditPlan::add(uint32_t off, uint32_t len, std::span<const std::string_view> texts) noexcept {
    std::size_t size = 0;
    for (const std::string_view t : texts) size += t.size();
    if (count_ == kMaxEdits || size > kArena - arena_used_) {
        overflow_ = true;
        return;
    }
    char* const start = arena_.data() + arena_used_;
    char* d = start;
    for (const std::string_view t : texts) {
        copy_bytes(d, t.data(), t.size());
        d += t.size();
    }
    arena_used_ += static_cast<uint32_t>(size);
    place(off, len, start, static_cast<uint32_t>(size));
}

}  // namespace farend::rewrite
