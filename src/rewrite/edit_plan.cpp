// Applying an edit plan in place. Segment k (the bytes between edit k-1 and edit k) moves by the
// sum of the size changes of the edits before it. The segments' sources lie in order and so do
// their destinations, with the texts between them: a segment that moves left can only land on
// the sources of segments before it that move left too, and one that moves right only on those
// of segments after it that move right. So the segments that move left go first, front to back;
// then those that move right, back to front, each text written once every segment has left its
// place. Every byte moves at most once, and the buffer needs room for the result only.
#include <farend/rewrite/edit_plan.hpp>

#include <farend/base/bytes.hpp>

#include <algorithm>
#include <cstddef>

namespace farend::rewrite {

int64_t EditPlan::growth() const noexcept {
    int64_t g = 0;
    for (uint32_t i = 0; i < count_; ++i) g += int64_t{edits_[i].text_len} - int64_t{edits_[i].len};
    return g;
}

ApplyResult EditPlan::apply(char* buf, uint32_t size, uint32_t capacity) noexcept {
    ApplyResult r;
    r.size = size;
    if (overflow_) {
        r.status = ApplyStatus::plan_overflow;
        return r;
    }
    if (count_ == 0) return r;
    Edit* const e = edits_.data();
    // Validate: no edit overlaps the one before it (insertions may share an offset with each
    // other and with the start of a replacement that follows them), and the last ends inside the
    // message. place() keeps the edits in order of offset, so every edit then ends at or before
    // the next one's start, and so inside the message: one compare an edit and no branch in the
    // loop, where a test of each edit against the size took three and their branches. 64 bits,
    // so that no offset and length wrap. Segment k moves by the sum of the size changes before it.
    uint64_t end = 0;
    bool bad = false;
    int64_t shift = 0, min_shift = 0;
    for (uint32_t i = 0; i < count_; ++i) {
        bad |= e[i].off < end;
        end = uint64_t{e[i].off} + e[i].len;
        shift += int64_t{e[i].text_len} - int64_t{e[i].len};
        min_shift = std::min(min_shift, shift);
    }
    if (bad || end > size) {
        r.status = ApplyStatus::overlap;
        return r;
    }
    const int64_t final_size = int64_t{size} + shift;
    if (final_size > capacity) {
        r.status = ApplyStatus::no_room;
        r.needed = static_cast<uint32_t>(final_size - capacity);
        return r;
    }
    if (min_shift < 0) {
        // The segments that move left, front to back. Each lands left of its source, on places
        // that only segments before it which move left held (those moved already).
        int64_t s = 0;
        for (uint32_t i = 0; i < count_; ++i) {
            s += int64_t{e[i].text_len} - int64_t{e[i].len};
            if (s >= 0) continue;
            const uint32_t seg = e[i].off + e[i].len;
            const uint32_t seg_end = i + 1 < count_ ? e[i + 1].off : size;
            if (seg_end != seg) move_bytes(buf + seg + s, buf + seg, seg_end - seg);
        }
    }
    // The segments that move right, back to front, and every text. A text's place can hold only
    // sources of segments after it (moved by now: in this pass, or in the one before) and of
    // segments before it that move left (moved in the one before). Segments that do not move
    // stay (often none: edits side by side).
    uint32_t src_end = size;
    int64_t s = shift;
    for (int i = static_cast<int>(count_) - 1; i >= 0; --i) {
        const uint32_t seg = e[i].off + e[i].len;
        if (s > 0 && src_end != seg) move_bytes(buf + seg + s, buf + seg, src_end - seg);
        s -= int64_t{e[i].text_len} - int64_t{e[i].len};
        copy_bytes(buf + e[i].off + s, e[i].text, e[i].text_len);
        src_end = e[i].off;
    }
    r.size = static_cast<uint32_t>(final_size);
    return r;
}

}  // namespace farend::rewrite
