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
// dots that is one. One SSE2 load finds the run and its three dots; the four octets' values come
// out of the same register at once: at each byte, its digit plus ten times the digit before it
// plus a hundred times the one before that, when those are digits of its run (bytes hold it
// exactly for every octet up to 255; larger ones are caught by their hundreds and tens digits).
// ~70 instructions where reading each octet at the positions the dots give took ~110.
inline uint32_t dotted_quad16(const char* s, uint32_t n, uint8_t (&out)[4]) noexcept {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
    const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
    const auto digits = static_cast<uint32_t>(_mm_movemask_epi8(is_digit));
    const auto dots = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.'))));
    const uint32_t live = n >= 16 ? 0xffffu : (1u << n) - 1;
    const auto len = static_cast<uint32_t>(__builtin_ctz(~((digits | dots) & live)));  // <= 16
    if (len == 16) return 0;  // 16 digits and dots: no quad (and maybe more of them)
    const uint32_t in_run = (1u << len) - 1;
    // Exactly three dots (no popcount: baseline x86-64 has no POPCNT instruction).
    const uint32_t dm = dots & in_run;
    const uint32_t dm2 = dm & (dm - 1), dm3 = dm2 & (dm2 - 1);
    if (dm3 == 0 || (dm3 & (dm3 - 1)) != 0) return 0;
    // Each octet 1-3 digits: no dot first or last, no two dots together, no four digits together.
    const uint32_t dg = digits & in_run;
    if (((dm & 1) | (dm >> (len - 1)) | (dm & (dm >> 1)) | (dg & (dg >> 1) & (dg >> 2) & (dg >> 3))) != 0) return 0;
    // Digit values (0 at the dots), then per byte: ones + 10 * tens + 100 * hundreds, where the
    // tens are the byte before (0 after a dot) and the hundreds the one before that when the byte
    // before is a digit. Shifts of 16-bit lanes by 1 and 3 keep each byte's 0..9 inside its byte.
    const __m128i ones = _mm_and_si128(d, is_digit);
    const __m128i tens = _mm_slli_si128(ones, 1);
    const __m128i hundreds = _mm_and_si128(_mm_slli_si128(ones, 2), _mm_slli_si128(is_digit, 1));
    const __m128i ten_tens = _mm_add_epi8(_mm_slli_epi16(tens, 3), _mm_add_epi8(tens, tens));
    const __m128i below_100 = _mm_add_epi8(ones, ten_tens);  // 0..99
    // An octet is over 255 when its hundreds digit is over 2, or 2 with the rest over 55; else
    // its value fits the byte: 100 * hundreds (0, 100 or 200) added as 64 + 32 + 4 times it.
    const __m128i two = _mm_set1_epi8(2);
    const __m128i over = _mm_or_si128(
        _mm_cmpgt_epi8(hundreds, two),
        _mm_and_si128(_mm_cmpeq_epi8(hundreds, two), _mm_cmpgt_epi8(below_100, _mm_set1_epi8(55))));
    const __m128i h_small = _mm_min_epu8(hundreds, two);  // <= 2: the 16-bit shifts stay in the byte
    const __m128i value = _mm_add_epi8(
        below_100, _mm_add_epi8(_mm_slli_epi16(h_small, 6), _mm_add_epi8(_mm_slli_epi16(h_small, 5), _mm_slli_epi16(h_small, 2))));
    // The octets end before each dot and at the run's end.
    const uint32_t ends = (dm >> 1) | (1u << (len - 1));
    if (static_cast<uint32_t>(_mm_movemask_epi8(over)) & ends) return 0;
    alignas(16) uint8_t vals[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(vals), value);
    const auto d1 = static_cast<uint32_t>(__builtin_ctz(dm));
    const auto d2 = static_cast<uint32_t>(__builtin_ctz(dm2));
    const auto d3 = static_cast<uint32_t>(__builtin_ctz(dm3));
    // The four octets in one 4-byte store: the callers read them back as one 4-byte load
    // (IpAddr::set_v4), which four byte stores still in flight could not serve (a store-forwarding
    // wait of every dotted quad read).
    const uint32_t octets = uint32_t{vals[d1 - 1]} | uint32_t{vals[d2 - 1]} << 8 | uint32_t{vals[d3 - 1]} << 16 |
                            uint32_t{vals[len - 1]} << 24;
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
