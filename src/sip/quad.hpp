// The dotted-quad reader shared by the URI and SDP parsers: one SSE2 load for the usual IPv4
// literal instead of a byte-wise walk. Internal to the sip module.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace farend::sip::detail {

#if defined(__SSE2__)
// The dotted quad at the start of s (16 readable bytes, of which the first n, 1..16, are the
// field's), into out: its length, or 0 when the field does not start with a run of digits and
// dots that is one. One SSE2 load finds the run and its three dots, and each octet is read at the
// positions the dots give.
inline uint32_t dotted_quad16(const char* s, uint32_t n, uint8_t (&out)[4]) noexcept {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
    const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    const uint32_t digits =
        static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d)));
    const uint32_t dots = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.'))));
    const uint32_t live = n >= 16 ? 0xffffu : (1u << n) - 1;
    const uint32_t len = static_cast<uint32_t>(__builtin_ctz(~((digits | dots) & live)));  // <= 16
    if (len == 16) return 0;  // 16 digits and dots: no quad (and maybe more of them)
    // Exactly three dots (no popcount: baseline x86-64 has no POPCNT instruction).
    const uint32_t dm = dots & ((1u << len) - 1);
    const uint32_t dm2 = dm & (dm - 1), dm3 = dm2 & (dm2 - 1);
    if (dm3 == 0 || (dm3 & (dm3 - 1)) != 0) return 0;
    const uint32_t d1 = static_cast<uint32_t>(__builtin_ctz(dm));
    const uint32_t d2 = static_cast<uint32_t>(__builtin_ctz(dm2));
    const uint32_t d3 = static_cast<uint32_t>(__builtin_ctz(dm3));
    alignas(16) uint8_t dig[20] = {};  // four zeros, then the 16 bytes' digit values
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dig + 4), d);
    // Octet [s, e) of 1-3 digits: the four digit values ending at e as one little-endian word
    // (the ones in the top byte), those before the octet masked off; then ones + 10 * tens in one
    // multiply, plus 100 * hundreds.
    static constexpr uint32_t kKeep[4] = {0, 0xff000000u, 0xffff0000u, 0xffffff00u};
    const auto octet = [&dig](uint32_t from, uint32_t e, uint8_t& o) noexcept {
        const uint32_t k = e - from;
        if (k - 1 > 2) return false;  // empty or four digits and more
        uint32_t w;
        std::memcpy(&w, dig + e, 4);  // dig[4 + e - 4, 4 + e)
        w &= kKeep[k];
        const uint32_t val = (((w >> 16) * 0xa01u) >> 8 & 0xffu) + 100u * (w >> 8 & 0xffu);
        o = static_cast<uint8_t>(val);
        return val <= 255;
    };
    // Octets [0, d1), (d1, d2), (d2, d3), (d3, len).
    if (!octet(0, d1, out[0]) || !octet(d1 + 1, d2, out[1]) || !octet(d2 + 1, d3, out[2]) ||
        !octet(d3 + 1, len, out[3]))
        return 0;
    return len;
}
#endif

// A dotted quad at p in b[0, size), p <= end <= size, into out: returns the offset after its run
// of digits and dots, or 0 when [p, end) does not start with a run that is one ("1.2.3.4.5" and
// "1.2.3.0004" are not; the callers then take their general, byte-wise way, which decides them).
// Within 16 bytes of the buffer's end (an SDP's last line, a URI ending the datagram) the bytes
// left are copied into a local block first: nothing past b[size) is read.
inline uint32_t dotted_quad(const char* b, uint32_t size, uint32_t p, uint32_t end, uint8_t (&out)[4]) noexcept {
#if defined(__SSE2__)
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
    (void)b, (void)size, (void)p, (void)end, (void)out;  // no SSE2: the general way
    return 0;
#endif
}

}  // namespace farend::sip::detail
