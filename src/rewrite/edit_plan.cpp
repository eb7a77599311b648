// Applying an edit plan in place. Segment k (the bytes between edit k-1 and edit k) moves by the
// sum of the size changes of the edits before it. If no segment moves left, one backwards pass
// of memmoves is safe; if none moves right, one forward pass; otherwise the message is first
// moved right by the largest shift and then rebuilt front to back (every read is then at or
// after the write position).
#include <farend/rewrite/edit_plan.hpp>

#include <farend/base/bytes.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>

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
    int64_t shift = 0, max_shift = 0, min_shift = 0;
    for (uint32_t i = 0; i < count_; ++i) {
        bad |= e[i].off < end;
        end = uint64_t{e[i].off} + e[i].len;
        shift += int64_t{e[i].text_len} - int64_t{e[i].len};
        max_shift = std::max(max_shift, shift);
        min_shift = std::min(min_shift, shift);
    }
    if (bad || end > size) {
        r.status = ApplyStatus::overlap;
        return r;
    }
    const int64_t final_size = int64_t{size} + shift;
    const int64_t need = std::max<int64_t>(final_size, int64_t{size} + (min_shift < 0 ? max_shift : 0));
    if (need > capacity) {
        r.status = ApplyStatus::no_room;
        r.needed = static_cast<uint32_t>(need - capacity);
        return r;
    }
    if (min_shift >= 0) {
        // Backwards: every segment moves right (or stays); write from the end.
        uint32_t src_end = size;
        int64_t s = shift;
        for (int i = static_cast<int>(count_) - 1; i >= 0; --i) {
            const uint32_t seg = e[i].off + e[i].len;
            if (src_end != seg) move_bytes(buf + seg + s, buf + seg, src_end - seg);  // often none: edits side by side
            s -= int64_t{e[i].text_len} - int64_t{e[i].len};
            copy_bytes(buf + e[i].off + s, e[i].text, e[i].text_len);
            src_end = e[i].off;
        }
    } else {
        // Front to back, reading from a copy moved right by max_shift (0 when nothing grows).
        const uint32_t h = static_cast<uint32_t>(max_shift);
        uint32_t w = e[0].off;  // the prefix before the first edit stays where it is
        if (h) std::memmove(buf + w + h, buf + w, size - w);
        for (uint32_t i = 0; i < count_; ++i) {
            copy_bytes(buf + w, e[i].text, e[i].text_len);
            w += e[i].text_len;
            const uint32_t seg = e[i].off + e[i].len;
            const uint32_t seg_end = i + 1 < count_ ? e[i + 1].off : size;
            if (seg_end != seg) move_bytes(buf + w, buf + h + seg, seg_end - seg);
            w += seg_end - seg;
        }
    }
    r.size = static_cast<uint32_t>(final_size);
    return r;
}

}  // namespace farend::rewrite
