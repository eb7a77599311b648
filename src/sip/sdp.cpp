#include "quad.hpp"

#include <farend/base/bytes.hpp>
#include <farend/sip/sdp.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <vector>

namespace farend::sip {

namespace {

// Space-separated fields of one SDP line value: offsets only, filled up to n (no zeroing of
// unused slots on every line).
struct Fields {
    static constexpr int kMax = 7;
    uint32_t off[kMax], len[kMax];
    int n = 0;
    [[nodiscard]] Slice f(int i) const noexcept { return Slice{off[i], len[i]}; }
};

// The spaces of a line value [p, end) in one word, when the value has the usual shape: 1-64
// bytes, no tab, no space at its ends and no two together. False otherwise (the callers then take
// their general way).
[[gnu::always_inline]] inline bool single_spaced(std::string_view buf, uint32_t p, uint32_t end, uint64_t& sp) noexcept {
    const uint32_t len = end - p;
    if (len - 1 >= 64) return false;  // empty, or over 64 bytes
    uint64_t tabs;
    sp = space_bits(buf.data(), static_cast<uint32_t>(buf.size()), p, len, tabs);
    const uint64_t in = len < 64 ? (uint64_t{1} << len) - 1 : ~uint64_t{0};
    sp &= in;
    return (tabs & in) == 0 && ((sp & (sp >> 1)) | (sp & 1) | (sp >> (len - 1))) == 0;
}

// Fields are separated by SP (RFC 4566 5); the white-space mask finds each separator. Stops after
// `max` fields: each caller asks for one more than its line may hold, to tell an extra one.
void split_fields(std::string_view buf, uint32_t p, uint32_t end, int max, Fields& out) noexcept {
    out.n = 0;
    const auto field = [&out](uint32_t s, uint32_t e) {
        out.off[out.n] = s;
        out.len[out.n] = e - s;
        ++out.n;
    };
    // The usual value: at most 64 bytes, fields between single spaces (none at its ends). Its
    // white-space bits, one word from one or two blocks, give every field without a byte loop.
    // Anything else (a tab, two spaces, a longer line) takes the loop below, which decides it.
    if (uint64_t sp; single_spaced(buf, p, end, sp)) {
        uint32_t s = p;
        for (;;) {
            if (out.n == max) return;
            if (sp == 0) return field(s, end);
            const uint32_t e = p + static_cast<uint32_t>(__builtin_ctzll(sp));
            field(s, e);
            s = e + 1;
            sp &= sp - 1;
        }
    }
    while (p < end && out.n < max) {
        while (p < end && buf[p] == ' ') ++p;
        if (p >= end) break;
        const uint32_t e = find_any<' ', '\t'>(buf.data(), static_cast<uint32_t>(buf.size()), p, end);
        field(p, e);
        p = e;
    }
}

// The last IPv4 literal read the usual way in this body: where its field was, the field's length
// and what it gave. An SDP names one address on its o=, c= and a=rtcp: lines more often than not:
// a field of the same bytes gives the same literal, so those are compared (one or two words)
// instead of read again.
struct LastQuad {
    uint32_t off = 0, len = 0, addr_len = 0;  // len 0: none yet
    uint8_t quad[4] = {};
};

// The address of an addrtype and an address field: a.addrtype and a.addr (cut at a multicast
// "/ttl[/count]" or "/count"), and a.ip: the address when it is a literal of addrtype's family,
// else none (every field but kind, media and line is written: next_slot() clears nothing). The
// usual IPv4 literal first: its run of digits and dots ends at the field's end or at the '/'.
[[gnu::always_inline]] inline void read_address(std::string_view buf, Slice addrtype, Slice addr, SdpAddress& a,
                                                LastQuad& last) noexcept {
    const auto size = static_cast<uint32_t>(buf.size());
    const char* const b = buf.data();
    a.addrtype = addrtype;
    // "IP4" in any case by one 4-byte load: a field read here has a separator after it (the
    // address follows), so the fourth byte lies inside the datagram; it is masked off. ~5
    // instructions an address line fewer than the three byte loads of a 3-byte iequals_lit.
    if (addrtype.len == 3 && ((load_u32(b + addrtype.off) | 0x2020) & 0xffffff) == load_u32("ip4")) {  // its NUL: 0
        if (addr.len == last.len && same_bytes(b + addr.off, b + last.off, addr.len)) {  // len 0 never matches
            a.addr = Slice{addr.off, last.addr_len};
            a.ip.set_v4(last.quad);
            return;
        }
        uint8_t quad[4];
        const uint32_t q = detail::dotted_quad(b, size, addr.off, addr.end(), quad);
        if (q != 0 && (q == addr.end() || b[q] == '/')) {  // the usual literal
            a.addr = Slice{addr.off, q - addr.off};
            a.ip.set_v4(quad);
            if (addr.len != 0) {
                last.off = addr.off;
                last.len = addr.len;
                last.addr_len = q - addr.off;
                std::memcpy(last.quad, quad, 4);
            }
            return;
        }
        addr.len = find_byte(b, size, addr.off, addr.end(), '/') - addr.off;
        a.addr = addr;
        a.ip = IpAddr::parse_v4(text(buf, addr)).value_or(IpAddr{});
        return;
    }
    addr.len = find_byte(b, size, addr.off, addr.end(), '/') - addr.off;
    a.addr = addr;
    a.ip = iequals_lit(text(buf, addrtype), "IP6") ? IpAddr::parse_v6(text(buf, addr)).value_or(IpAddr{}) : IpAddr{};
}

// nettype addrtype address: fills addrtype/addr/ip; false when not of that form.
bool connection_fields(std::string_view buf, const Fields& fl, int at, SdpAddress& a, LastQuad& last) noexcept {
    if (fl.n < at + 3) return false;
    read_address(buf, fl.f(at + 1), fl.f(at + 2), a, last);
    return true;
}

// An address line's value (c=, o=, a=rtcp:) read the usual way: at most 64 bytes, exactly
// `fields` (>= 3) fields between single spaces (no tab, none at its ends), the last two addrtype
// and address. One word of its spaces gives the count (popcount) and the two last separators
// (from the top); nothing else is split or stored. False, with `a` untouched, when the value is not of that shape: the
// general way (split_fields, connection_fields) then decides it.
[[gnu::always_inline]] inline bool address_line(std::string_view buf, uint32_t p, uint32_t end,
                                                unsigned fields, SdpAddress& a, LastQuad& quad) noexcept {
    uint64_t sp;
    if (!single_spaced(buf, p, end, sp) || static_cast<unsigned>(std::popcount(sp)) + 1 != fields) return false;
    // The last two separators from the word's top (fields >= 3: there are two), no loop.
    const uint32_t last = p + 63 - static_cast<uint32_t>(std::countl_zero(sp));
    const uint32_t prev = p + 63 - static_cast<uint32_t>(std::countl_zero(sp & ~(uint64_t{1} << (last - p))));
    read_address(buf, Slice{prev + 1, last - prev - 1}, Slice{last + 1, end - last - 1}, a, quad);
    return true;
}

// Where an address past the table's end is read (next_slot), and dropped: one a thread, not one a
// body on the stack (its default members were six stores a body).
[[gnu::noinline, gnu::cold]] SdpAddress& overflow_slot() noexcept {
    static thread_local SdpAddress scratch;
    return scratch;
}

// The slot the next address is built in (no copy): the table's next one, or overflow_slot() when
// the table is full (that address is then dropped and the SDP marked truncated by add_addr()).
// Not cleared: the caller sets kind, media and line, and read_address() every other field (~4
// stores an address line fewer); a slot whose line turns out malformed is not counted, and the
// next address line takes it again.
[[gnu::always_inline]] inline SdpAddress& next_slot(Sdp& out) noexcept {
    if (out.addr_count < Sdp::kMaxAddrs) [[likely]]
        return out.addrs[out.addr_count];
    return overflow_slot();
}

// Counts the address built in next_slot().
void add_addr(Sdp& out) noexcept {
    if (out.addr_count == Sdp::kMaxAddrs)
        out.truncated = true;
    else
        ++out.addr_count;
}

}  // namespace

// Not inlined, and at a 64-byte boundary: its line loop then lies the same way in every binary. Inlined
// into its callers, its time moved by up to 20% (on this VM's AMD EPYC) with the size of the code
// before it: a change to the Via parser made INVITE+SDP 9% slower with fewer instructions.
[[gnu::noinline, gnu::aligned(64)]] void parse_sdp(std::string_view buf, MaskView mv, Slice body, Sdp& out,
                                                    const HostPort* known) noexcept {
    out.addr_count = out.media_count = 0;
    out.truncated = out.media_truncated = out.malformed = false;
    uint32_t p = body.off;
    const uint32_t end = body.end();
    if (p >= end) return;
    int16_t media = -1;
    LastQuad last_quad;
    // An IPv4 host (digits and dots only: unbracketed) read before: a field of its bytes reads as
    // that literal, whole (no '/' among them), whichever way the host was read.
    if (known && known->kind == HostKind::ipv4 && !known->bracketed && !known->host.empty()) {
        last_quad.off = known->host.off;
        last_quad.len = last_quad.addr_len = known->host.len;
        std::memcpy(last_quad.quad, known->ip.bytes().data(), 4);
    }
    // Lines from the LF mask, its bits of the current block kept in a register (lfs): the next
    // line's end is one bit-clear away, not a mask load after the previous line's end is known
    // (that chain, ~16 cycles a line, was most of the SDP's time). Only o=, c=, m= and a=rtcp:
    // lines are looked into.
    // The block's LF word is reached by pointer and its first byte's offset kept (base): no
    // multiply a line. The last block's bits past the body's end are cleared when it is loaded,
    // so a line end is base + its bit with no clamp to the end (~4 instructions a line fewer).
    const uint32_t last_blk = (end - 1) / 64;
    const uint32_t tail = end - last_blk * 64;  // 1..64 bytes of the body in its last block
    const uint64_t last_mask = tail == 64 ? ~uint64_t{0} : (uint64_t{1} << tail) - 1;
    constexpr std::size_t kStride = sizeof(simd::BlockMasks) / sizeof(uint64_t);
    const uint64_t* lfw = &mv.blocks[p / 64].m[simd::kLF];
    const uint64_t* const lfw_last = &mv.blocks[last_blk].m[simd::kLF];
    uint32_t base = p / 64 * 64;
    uint64_t lfs = *lfw & (~uint64_t{0} << (p % 64));
    if (lfw == lfw_last) lfs &= last_mask;
    for (;;) {
        // The next line's end: the usual line's LF is in the word at hand; past it, the next
        // block's, or the body's end for a last line without one (no line at all when fewer than
        // two bytes are left: no type and '='). No test of p against the end a line.
        while (lfs == 0 && lfw != lfw_last) [[unlikely]] {
            lfw += kStride;
            base += 64;
            lfs = *lfw;
            if (lfw == lfw_last) lfs &= last_mask;
        }
        uint32_t le = end;
        if (lfs != 0) [[likely]] {
            le = base + static_cast<uint32_t>(__builtin_ctzll(lfs));
            lfs &= lfs - 1;
        } else if (p >= end || end - p < 2) {
            break;
        }
        if (le == p) [[unlikely]] {  // an empty line: its LF may be the datagram's last byte
            p = le + 1;
            continue;
        }
        // type "=" value; RFC 4566 5: no white space around '='. The type and the '=' by one
        // 16-bit load: a line of another type (v=, s=, t=, b=, ...) or none is passed over
        // before its CR is looked at (~20 instructions a line fewer than testing every line's
        // CR, length and '=' in turn). The two bytes lie inside the datagram: a line with an LF
        // has a byte before it (above), and a last line without one two bytes or more; a line of
        // one byte is no "c=" (its second byte is its LF).
        const char type = buf[p];
        const uint32_t w = load_u16(buf.data() + p);
        if (w != load_u16("c=") && w != load_u16("o=") && w != load_u16("m=") && w != load_u16("a=")) {
            p = le + 1;
            continue;
        }
        // An a= line other than a=rtcp: (rtpmap, fmtp, ptime, ...: most of a usual SDP's lines)
        // is passed over as soon as its first bytes tell, before its CR and type are looked at
        // (~12 instructions a line). One that may be rtcp is tested again below, exactly.
        if (w == load_u16("a=") && (le - p < 8 || !same_bytes(buf.data() + p + 2, "rtcp:", 5))) {
            p = le + 1;
            continue;
        }
        uint32_t e = le;
        if (buf[e - 1] == '\r') --e;
        const Slice line{p, e - p};
        const uint32_t v = p + 2;
        if (type == 'm') {
            // m=<media> <port>[/<count>] <proto> <fmt> ...
            Fields fl;
            split_fields(buf, v, e, 3, fl);  // the format list after the first three is not read
            ++media;
            if (fl.n < 3) {
                out.malformed = true;
            } else if (out.media_count == Sdp::kMaxMedia) {
                out.media_truncated = true;
            } else {
                SdpMedia& m = out.media[out.media_count++];
                m.line = line;
                m.media = fl.f(0);
                Slice port = fl.f(1);
                const auto size = static_cast<uint32_t>(buf.size());
                const uint32_t field_end = port.end();
                // <port>/<number of ports>: a run of digits to the field's end or to its '/',
                // which digit_run (one load) reads and ends, as port_after() reads a URI's port.
                // Anything else (a byte that is neither digit nor '/' before the end, or 8 digits
                // and more) is no port: it still ends at the first '/', found as
                // connection_fields() finds it.
                uint32_t num = 0;
                const uint32_t digits = digit_run(buf.data(), size, port.off, field_end, num);
                bool ok = false;
                if (digits < 8 && (port.off + digits == field_end || buf[port.off + digits] == '/')) [[likely]] {
                    port.len = digits;
                    ok = digits != 0 && digits <= 5;
                } else {
                    port.len = find_byte(buf.data(), size, port.off, field_end, '/') - port.off;
                }
                m.port = port;
                if (!ok || num > 65535) out.malformed = true;
                m.port_num = ok && num <= 65535 ? static_cast<uint16_t>(num) : 0;
            }
        } else if (type == 'c' || type == 'o') {
            // c=<nettype> <addrtype> <connection-address>
            // o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
            SdpAddress& a = next_slot(out);
            a.kind = type == 'c' ? SdpAddrKind::connection : SdpAddrKind::origin;
            a.media = type == 'c' ? media : -1;
            a.line = line;
            if (address_line(buf, v, e, type == 'c' ? 3 : 6, a, last_quad)) {
                add_addr(out);
            } else {
                Fields fl;
                split_fields(buf, v, e, type == 'c' ? 4 : 7, fl);
                if (!connection_fields(buf, fl, type == 'c' ? 0 : 3, a, last_quad) || fl.n != (type == 'c' ? 3 : 6))
                    out.malformed = true;
                else
                    add_addr(out);
            }
        } else if (type == 'a' && e - v > 5 && same_bytes(buf.data() + v, "rtcp:", 5)) {
            // a=rtcp:<port> [<nettype> <addrtype> <connection-address>]
            SdpAddress& a = next_slot(out);
            a.kind = SdpAddrKind::rtcp;
            a.media = media;
            a.line = line;
            if (address_line(buf, v + 5, e, 4, a, last_quad)) {
                add_addr(out);
            } else {
                Fields fl;
                split_fields(buf, v + 5, e, 5, fl);
                if (fl.n == 4) {
                    if (connection_fields(buf, fl, 1, a, last_quad)) add_addr(out);
                } else if (fl.n != 1) {
                    out.malformed = true;
                }
            }
        }
        p = le + 1;
    }
}

bool parse_sdp_on(std::string_view buf, MaskView mv, Slice body, const Sdp& prev, Sdp& next) noexcept {
    if (prev.addr_count == 0) return false;
    // The line after the last address kept (its line ends inside the body, or the body does).
    const uint32_t end = body.end();
    const uint32_t lf = find_byte(buf.data(), static_cast<uint32_t>(buf.size()), prev.addrs[prev.addr_count - 1].line.end(),
                                  end, '\n');
    const uint32_t from = lf < end ? lf + 1 : end;
    if (from >= end) return false;
    parse_sdp(buf, mv, Slice{from, end - from}, next);
    return next.addr_count != 0;
}

void parse_sdp(std::string_view buf, Slice body, Sdp& out) {
    std::vector<simd::BlockMasks> masks(simd::blocks_for(buf.size()));
    simd::scan_scalar(reinterpret_cast<const uint8_t*>(buf.data()), buf.size(), masks.data());
    parse_sdp(buf, MaskView{masks.data(), static_cast<uint32_t>(buf.size())}, body, out);
}

}  // namespace farend::sip
