// The dotted-quad reader shared by the URI and SDP parsers: one 16-byte load (SSSE3) for the usual IPv4
// literal instead of a byte-wise walk. Internal to the sip module.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif

namespace farend::sip::detail {

#if defined(__SSSE3__)
// The 81 shapes of a dotted quad (each octet 1-3 digits), by where its three dots and its end
// are: key = the dots' bits | the bit at its length. A multiply puts each key in a slot of its
// own among 256 (make_quad_table() fails the build if two share one); the slot holds the key, to
// tell any other run of digits and dots, and a pshufb mask that puts each octet's digits in the
// last three bytes of its 32-bit lane, right-aligned (zeros before a shorter octet's digits).
struct QuadTable {
    alignas(16) uint8_t shuffles[256][16];
    uint32_t keys[256];  // 0: an empty slot (a real key has its length's bit set)
};
inline constexpr uint32_t kQuadMul = 0xd6af10d1u;
[[nodiscard]] constexpr uint32_t quad_slot(uint32_t key) noexcept { return key * kQuadMul >> 24; }
constexpr QuadTable make_quad_table() {
    QuadTable t{};
    for (auto& row : t.shuffles)
        for (auto& b : row) b = 0x80;  // pshufb: a zero byte
    for (uint32_t shape = 0; shape < 81; ++shape) {
        const uint32_t lens[4] = {1 + shape / 27, 1 + shape / 9 % 3, 1 + shape / 3 % 3, 1 + shape % 3};
        uint32_t at = 0, key = 0;
        for (uint32_t i = 0; i < 4; ++i) {
            at += lens[i];  // the dot after octet i, or the end after the last
            key |= uint32_t{1} << at;
            ++at;
        }
        const uint32_t slot = quad_slot(key);
        if (t.keys[slot] != 0) throw "dotted-quad shapes collide: change kQuadMul";  // fails the build
        t.keys[slot] = key;
        uint32_t first = 0;
        for (uint32_t i = 0; i < 4; ++i) {
            for (uint32_t j = 0; j < lens[i]; ++j) t.shuffles[slot][4 * i + 4 - lens[i] + j] = static_cast<uint8_t>(first + j);
            first += lens[i] + 1;
        }
    }
    return t;
}
alignas(64) inline constexpr QuadTable kQuadTable = make_quad_table();

// The dotted quad at the start of s (16 readable bytes, of which the first n, 1..16, are the
// field's), into out: its length, or 0 when the field does not start with a run of digits and
// dots that is one. One load finds the run of digits and dots; its shape (the dots' places and
// its length) is looked up in kQuadTable, which also rejects every shape that is no quad (a
// dot first or last, two together, four digits together, other than three dots); one pshufb
// lines up the octets' digits and two multiply-adds give their values (then over 255 or not).
// ~30 instructions where computing each byte's value from the digits before it took ~70.
inline uint32_t dotted_quad16(const char* s, uint32_t n, uint8_t (&out)[4]) noexcept {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
    const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    const auto digits = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d)));
    const auto dots = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.'))));
    const uint32_t live = n >= 16 ? 0xffffu : (1u << n) - 1;
    const auto len = static_cast<uint32_t>(__builtin_ctz(~((digits | dots) & live)));  // <= 16
    const uint32_t key = (dots & ((1u << len) - 1)) | 1u << len;
    const uint32_t slot = quad_slot(key);
    if (kQuadTable.keys[slot] != key) return 0;
    // Per octet, 32 bits: 0, hundreds, tens, ones -> 100 * h + 10 * t, o -> its value.
    const __m128i lined = _mm_shuffle_epi8(d, _mm_load_si128(reinterpret_cast<const __m128i*>(kQuadTable.shuffles[slot])));
    const __m128i value = _mm_madd_epi16(_mm_maddubs_epi16(lined, _mm_setr_epi8(0, 100, 10, 1, 0, 100, 10, 1, 0, 100, 10, 1, 0, 100, 10, 1)),
                                         _mm_set1_epi16(1));
    if (_mm_movemask_epi8(_mm_cmpgt_epi32(value, _mm_set1_epi32(255))) != 0) return 0;
    // The four octets in one 4-byte store: the callers read them back as one 4-byte load
    // (IpAddr::set_v4), which four byte stores still in flight could not serve (a store-forwarding
    // wait of every dotted quad read).
    const __m128i packed = _mm_packs_epi32(value, value);
    const auto octets = static_cast<uint32_t>(_mm_cvtsi128_si32(_mm_packus_epi16(packed, packed)));
    std::memcpy(out, &octets, 4);
    return len;
}
#endif

// A dotted quad at p in b[0, size), p <= end <= size, into out: returns the offset after its run
// of digits and dots, or 0 when [p, end) does not start with a run that is one ("1.2.3.4.5" and
// "1.2.3.0004" are not; the callers then take their general, byte-wise way, which decides them).
// Within 16 bytes of the buffer's end (an SDP's last line, a URI ending the datagram) the bytes
// left are copied into a local block first: nothing past b[size) is read.
inline uint32_t dotted_quad(const char* b, uint32_t size, uint32_t p, uint32_t end, uint8_t (&out)[4]) noexcept {
#if defined(__SSSE3__)
    uint32_t len;
    if (size - p >= 16) [[likely]] {
        len = dotted_quad16(b + p, end - p, out);
    } else if (size >= 16) {
        // The buffer's last 16 bytes, stored before 16 zeros and read back from p's place in them.
        alignas(16) char tail[32];
        _mm_store_si128(reinterpret_cast<__m128i*>(tail), _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + size - 16)));
        _mm_store_si128(reinterpret_cast<__m128i*>(tail + 16), _mm_setzero_si128());
        len = dotted_quad16(tail + 16 - (size - p), end - p, out);
    } else {
        alignas(16) char tail[16] = {};
        std::memcpy(tail, b + p, size - p);
        len = dotted_quad16(tail, end - p, out);
    }
    return len ? p + len : 0;
#else
    (void)b, (void)size, (void)p, (void)end, (void)out;  // no SSSE3: the general way
    return 0;
#endif
}

}  // namespace farend::sip::detail
