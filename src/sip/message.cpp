// The header index. Walks the LF mask line by line; within a line the first colon, from the 16
// bytes at the line's start that the name lookup loads, ends the header name. ~90 instructions a
// line (AVX2), plus ~25 a 64-byte block for the LF mask and the payload's checksum words.
#include "header_table.hpp"

#include <farend/sip/content.hpp>
#include <farend/sip/chars.hpp>
#include <farend/sip/message.hpp>

#include <farend/simd/checksum.hpp>

#include <algorithm>
#include <cstring>

#include <emmintrin.h>

namespace farend::sip {

namespace {

struct ErrorInfo {
    std::string_view name, description;
};
constexpr ErrorInfo kErrors[] = {
#define FAREND_X(id, name, desc) {name, desc},
    FAREND_SIP_PARSE_ERRORS(FAREND_X)
#undef FAREND_X
};

bool all_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (!chars::is_token(static_cast<unsigned char>(c))) return false;
    return true;
}

bool is_sip_version(std::string_view v) noexcept {
    // SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; ABNF literals are case-insensitive. Only 2.0
    // is understood; anything else is passed on untouched (RFC 3261 8.2.2.1: 505).
    return iequals_lit(v, "SIP/2.0");
}

// RFC 3986 scheme ":" followed by at least one byte, nothing below 0x21 or above 0x7e.
bool plausible_request_uri(std::string_view u) noexcept {
    if (u.size() > 4 && iequals_lit({u.data(), 4}, "sip:"))  // the usual scheme
        return !chars::has_space_or_control(u.data() + 4, u.size() - 4);
    if (u.empty() || !chars::is_alpha(u[0])) return false;
    std::size_t i = 1;
    while (i < u.size() && (chars::is_alpha(u[i]) || chars::is_digit(u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.'))
        ++i;
    if (i >= u.size() || u[i] != ':' || i + 1 >= u.size()) return false;
    return !chars::has_space_or_control(u.data(), u.size());
}

// GCC packs a Header's two slices into one vector store (four moves into vector registers and
// three shuffles); four plain stores are fewer instructions (~30 fewer a REGISTER). Clang does
// not pack them and has no such attribute.
#if defined(__GNUC__) && !defined(__clang__)
#define FAREND_SCALAR_STORES __attribute__((optimize("no-tree-slp-vectorize")))
#else
#define FAREND_SCALAR_STORES
#endif
// (On the function template, GCC heeds it only where the class declares it.)

class Indexer {
public:
    Indexer(std::string_view buf, MaskView mv, MessageIndex& out, HeaderSet keep, bool padded) noexcept
        : buf_(buf), mv_(mv), out_(out), keep_(keep), padded_(padded) {}

    void run() noexcept;

private:
    void fail(ParseError e, uint32_t off, Verdict v = Verdict::error) noexcept {
        out_.verdict = v;
        out_.error = e;
        out_.error_off = off;
    }
    bool start_line(uint32_t s, uint32_t e) noexcept;
    template <bool Some, bool Padded>
    FAREND_SCALAR_STORES void header_lines(uint32_t s) noexcept;
    bool continuation(uint32_t count, uint32_t s, uint32_t e, uint32_t next) noexcept;
    void body() noexcept;

    [[nodiscard]] uint32_t skip_ws(uint32_t p, uint32_t e) const noexcept {
        while (p < e && chars::is_ws(buf_[p])) ++p;
        return p;
    }
    [[nodiscard]] uint32_t trim_ws_back(uint32_t s, uint32_t e) const noexcept {
        while (e > s && chars::is_ws(buf_[e - 1])) --e;
        return e;
    }

    std::string_view buf_;
    MaskView mv_;
    MessageIndex& out_;
    HeaderSet keep_;
    bool padded_;  // kPaddedSlack bytes past buf_'s end are readable
};

bool Indexer::start_line(uint32_t s, uint32_t e) noexcept {
    StartLine& sl = out_.start;
    sl.line = make_slice(s, e);
    // Views by pointer and length: the start line lies inside buf_ (substr's bounds check is a call).
    const char* const b = buf_.data();
    if (e - s >= 4 && iequals_lit({b + s, 4}, "SIP/")) {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        sl.is_request = false;
        const uint32_t sp = find_any<' ', '\t'>(b, static_cast<uint32_t>(buf_.size()), s, e);
        sl.version = make_slice(s, sp);
        if (!is_sip_version({b + sl.version.off, sl.version.len})) return fail(ParseError::bad_version, s), false;
        const uint32_t c = sp + 1;
        if (sp >= e || buf_[sp] != ' ' || c + 3 > e || !chars::is_digit(buf_[c]) || !chars::is_digit(buf_[c + 1]) ||
            !chars::is_digit(buf_[c + 2]) || (c + 3 < e && buf_[c + 3] != ' '))
            return fail(ParseError::bad_status_code, c), false;
        sl.status = static_cast<uint16_t>((buf_[c] - '0') * 100 + (buf_[c + 1] - '0') * 10 + (buf_[c + 2] - '0'));
        if (sl.status < 100 || sl.status > 699) return fail(ParseError::bad_status_code, c), false;
        // A missing " Reason-Phrase" is tolerated: it carries nothing farend needs.
        sl.reason = c + 4 <= e ? make_slice(c + 4, e) : Slice{e, 0};
        return true;
    }
    // Request-Line = Method SP Request-URI SP SIP-Version: exactly two single spaces
    // (RFC 4475 3.1.2.9 lwsstart and 3.1.2.10 trws are invalid).
    sl.is_request = true;
    const uint32_t sp1 = find_any<' ', '\t'>(b, static_cast<uint32_t>(buf_.size()), s, e);
    if (sp1 == e || sp1 == s || buf_[sp1] != ' ') return fail(ParseError::bad_start_line, s), false;
    sl.method = make_slice(s, sp1);
    const std::string_view method{b + s, sp1 - s};
    sl.method_id = method_id(method);
    // A known method is a token already.
    if (sl.method_id == Method::other && !all_token(method))
        return fail(ParseError::bad_method, s), false;
    // The version follows the last space; usually that is " SIP/2.0" at the end.
    uint32_t sp2;
    if (e - sp1 > 9 && b[e - 8] == ' ' && is_sip_version({b + e - 7, 7})) {
        sp2 = e - 8;
        sl.version = make_slice(sp2 + 1, e);
    } else {
        sp2 = e;
        while (sp2 > sp1 + 1 && buf_[sp2 - 1] != ' ') --sp2;
        if (sp2 <= sp1 + 1) return fail(ParseError::bad_version, sp1), false;  // "INVITE sip:x" (no version)
        --sp2;
        sl.version = make_slice(sp2 + 1, e);
        if (!is_sip_version({b + sl.version.off, sl.version.len})) return fail(ParseError::bad_version, sp2 + 1), false;
    }
    sl.uri = make_slice(sp1 + 1, sp2);
    if (!plausible_request_uri({b + sl.uri.off, sl.uri.len})) return fail(ParseError::bad_request_uri, sp1 + 1), false;
    return true;
}

bool Indexer::continuation(uint32_t count, uint32_t s, uint32_t e, uint32_t next) noexcept {
    // RFC 3261 7.3.1: a line starting with SP/HT continues the previous header; the CR LF and
    // the white space are LWS of that header's value.
    if (count == 0) return fail(ParseError::fold_before_first_header, s), false;
    Header& h = out_.headers[count - 1u];
    h.folded = true;
    h.line_end = next;
    const uint32_t c = skip_ws(s, e);
    const uint32_t ce = trim_ws_back(c, e);
    if (c < ce) h.value = h.value.empty() ? make_slice(c, ce) : make_slice(h.value.off, ce);
    return true;
}

void Indexer::body() noexcept {
    const uint32_t n = static_cast<uint32_t>(buf_.size());
    ContentLength& cl = out_.content_length;
    cl = parse_content_length(buf_, out_);
    switch (cl.status) {
        case ContentLength::Status::bad_value:
            return fail(ParseError::bad_content_length, out_.headers[static_cast<std::size_t>(cl.header)].value.off);
        case ContentLength::Status::too_large:
            return fail(ParseError::content_length_too_large, cl.digits.off);
        case ContentLength::Status::conflict:
            return fail(ParseError::content_length_conflict, cl.digits.off);
        case ContentLength::Status::absent:
            // RFC 3261 18.3: over UDP the body is the rest of the datagram.
            out_.body_len = n - out_.body_off;
            break;
        case ContentLength::Status::ok:
            if (cl.value > n - out_.body_off) {
                out_.body_len = n - out_.body_off;
                return fail(ParseError::body_truncated, cl.digits.off, Verdict::incomplete);
            }
            out_.body_len = cl.value;
            out_.trailing = n - out_.body_off - cl.value;  // RFC 3261 18.3: ignored
            break;
    }
    out_.verdict = Verdict::complete;
    out_.error = ParseError::none;
}

void Indexer::run() noexcept {
    const uint32_t n = static_cast<uint32_t>(buf_.size());
    out_.size = n;
    if (buf_.size() > kMaxMessage) return fail(ParseError::too_large, 0);
    // What comes before the start line: nothing when the first byte is above the space (a
    // method's or "SIP/2.0"'s first letter), so the usual message leaves at one compare.
    uint32_t s = 0;
    if (n == 0 || static_cast<unsigned char>(buf_[0]) <= ' ') [[unlikely]] {
        // RFC 5626 4.4.2: over UDP, agents keep their flows open with STUN Binding requests to
        // the SIP port. RFC 7983 tells them from SIP by the first byte (0-3), RFC 5389 6 by the
        // magic cookie and a length that is the datagram's.
        if (n >= 20 && static_cast<unsigned char>(buf_[0]) < 4) {
            const uint32_t length = static_cast<unsigned char>(buf_[2]) << 8 | static_cast<unsigned char>(buf_[3]);
            if (load_u32(buf_.data() + 4) == load_u32("\x21\x12\xa4\x42") && (length & 3) == 0 && length + 20 == n)
                return fail(ParseError::stun, 0);
        }
        // RFC 3261 7.5: CRLFs before the start line are ignored (keep-alives are only CRLFs).
        while (s < n && (buf_[s] == '\r' || buf_[s] == '\n')) ++s;
        // Agents keep NAT bindings open with datagrams of only CRLF (RFC 5626 4.4.1), spaces, or
        // zero bytes (four, as farend's own --keepalive-method null4 sends).
        const auto keepalive_byte = [](char c) {
            constexpr uint64_t kBytes = (uint64_t{1} << ' ') | (uint64_t{1} << '\t') | (uint64_t{1} << '\r') |
                                        (uint64_t{1} << '\n') | uint64_t{1};  // NUL
            const auto u = static_cast<unsigned char>(c);
            return u <= ' ' && ((kBytes >> u) & 1) != 0;
        };
        uint32_t w = s;
        while (w < n && keepalive_byte(buf_[w])) ++w;
        if (w == n) return fail(ParseError::empty, 0);
    }

    // The start line, then every header line: walk the LF bits block by block.
    uint32_t lf = mv_.next(simd::kLF, s, n);
    if (lf == n) return fail(ParseError::no_end_of_headers, s, Verdict::incomplete);
    {
        const uint32_t e = lf - (lf > s && buf_[lf - 1] == '\r');
        if (!start_line(s, e)) return;
    }
    // Four loops: every header kept, or some (their test a line is compiled only into those);
    // padded or not (only the unpadded ones test a line's place against the datagram's end).
    if (keep_ == kAllHeaders)
        padded_ ? header_lines<false, true>(lf + 1) : header_lines<false, false>(lf + 1);
    else
        padded_ ? header_lines<true, true>(lf + 1) : header_lines<true, false>(lf + 1);
}

// Every header line from s (just after the start line) to the empty line. Hot: ~12 lines a
// message, so the loop keeps its state (count, the LF bits of the current block, pointers) in
// locals and writes each Header once; the index's header_count is stored when it ends. A line is
// [s, e) and b[e] is its CR or LF, so looking one byte past a position below e stays inside.
// Some: only the headers of keep_'s ids are kept. A line of another id is read and checked as
// far as its name (everything that can fail a line is decided there, but for the count of
// lines), then left: no value bounds, no stores (~58 instructions a line against ~88). Its
// continuation lines are left with it.
// Padded: 16 bytes are readable from every line's start (kPaddedSlack past the datagram's end):
// no line tests its place against the end (~2 instructions a line).
template <bool Some, bool Padded>
FAREND_SCALAR_STORES void Indexer::header_lines(uint32_t s) noexcept {
    const char* const b = buf_.data();
    const uint32_t n = static_cast<uint32_t>(buf_.size());
    const simd::BlockMasks* const blocks = mv_.blocks;
    // The headers and the first/last tables are reached from one base register (three pointers
    // of their own were spilled to the stack and reloaded every line).
    MessageIndex& o = out_;
    uint32_t count = 0;  // headers kept
    uint32_t lines = 0;  // Some: every header line (count, when all are kept)
    const HeaderSet keep = keep_;
    // A name that starts at or before this offset has 16 bytes to read in place (s >= 1 here, so
    // 0 for a datagram under 16 bytes means never); Padded: every name.
    const uint32_t in_place = n >= 16 ? n - 16 : 0;
    // The current block's LF word, walked by pointer, and the offset of its first byte (one add a
    // block, no multiply a line); last: the LF word of the datagram's last block. s == n (the
    // start line's LF ends the datagram) starts at the last block with no bits: the pointer stays
    // inside the datagram's blocks.
    const uint32_t first_blk = (s < n ? s : n - 1) / 64;
    const uint64_t* lfw = &blocks[first_blk].m[simd::kLF];
    const uint64_t* const last = &blocks[(n - 1) / 64].m[simd::kLF];
    uint32_t base = first_blk * 64;
    uint64_t lfs = s < n ? *lfw & (~uint64_t{0} << (s % 64)) : 0;
    // Stores what the loop kept in locals; every way out of the loop calls it first.
    const auto publish = [&] {
        out_.header_count = static_cast<uint16_t>(count);
        out_.line_count = static_cast<uint16_t>(Some ? lines : count);
    };
    for (;;) {
        while (lfs == 0) {
            if (lfw >= last) [[unlikely]]
                return publish(), fail(ParseError::no_end_of_headers, s, Verdict::incomplete);
            lfw += sizeof(simd::BlockMasks) / sizeof(uint64_t);
            lfs = *lfw;
            base += 64;
        }
        const uint32_t lf = base + static_cast<uint32_t>(__builtin_ctzll(lfs));
        lfs &= lfs - 1;
        // The empty line: CR LF or a bare LF (lf >= s). A line of two bytes or more is never
        // empty: its end (e, its CR or else its LF) is found only where it is needed, below.
        // (lf <= s + 1: one add and a compare, where lf - s < 2 took a copy as well.)
        if (lf <= s + 1 && (lf == s || b[s] == '\r')) [[unlikely]] {
            publish();
            out_.headers_end = s;
            out_.body_off = lf + 1;
            return body();
        }
        // lf > s here, so b[lf - 1] is this line's. The usual line ends in CR LF: a branch that
        // holds, not a flag to add.
        const auto line_end = [b, lf] { return b[lf - 1] == '\r' ? lf - 1 : lf; };
        // The first colon after s and the name's id. The usual line has 16 bytes left in the
        // datagram: the colon is among the 16 bytes at s (every known name but four is shorter),
        // and the lookup reads the name from the same load. Else find_byte() finds it (the colon
        // is a value class, not scanned for every block: only this fallback and some readers of
        // header values look for it). The vector's colon may lie past the line's end (a line
        // without one), and is not tested against it here: a known name has no CR or LF (nor a
        // byte that OR 0x20 makes one of its letters), so a name that runs past the line's end is
        // no known one, and the line of an unknown name is tested below (~2 instructions a line).
        uint32_t colon;
        HeaderId id = HeaderId::other;
        if (Padded || s <= in_place) [[likely]] {
            const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + s));
            const auto cm = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(raw, _mm_set1_epi8(':'))));
            if (cm) [[likely]] {
                colon = s + static_cast<uint32_t>(__builtin_ctz(cm));
                id = detail::lookup_loaded<true>(raw, b + s, colon - s);
            } else {
                const uint32_t e = line_end();
                colon = find_byte(b, n, s + 16 < e ? s + 16 : e, e, ':');
                if (colon < e) id = detail::lookup_loaded(raw, b + s, colon - s);
            }
        } else {
            const uint32_t e = line_end();
            colon = find_byte(b, n, s, e, ':');
            if (colon < e) id = detail::lookup_header({b + s, colon - s});
        }
        // The usual line is "Name: value": no white space at the line's start (a continuation),
        // before the colon, after its single space or at the value's end. A known name is all
        // letters, digits and '-' (no white space at its ends): its line only has the value's two
        // ends to test, in one branch (b[v] is at worst this line's CR or LF). Unknown names take
        // the general path: continuation, white space around the colon, the token check.
        uint32_t name_end = colon;
        if (id == HeaderId::other) [[unlikely]] {
            const uint32_t e = line_end();
            if (chars::is_ws(b[s])) {
                // Some: the line before continues a kept header when that header's last line
                // ended here; else it continues a header left (and is left too), or there was
                // no header line yet (continuation() reports it).
                const bool kept = !Some || lines == 0 || (count != 0 && o.headers[count - 1u].line_end == s);
                if (kept && !continuation(count, s, e, lf + 1)) return publish();  // continuation() reported it
                s = lf + 1;
                continue;
            }
            if (colon >= e) return publish(), fail(ParseError::header_without_colon, s);
            // HCOLON = *( SP / HTAB ) ":" SWS: "Via : x" is Via.
            name_end = trim_ws_back(s, colon);
            if (name_end != colon) id = detail::lookup_header({b + s, name_end - s});
            // A known name is a token already: only unknown names need the byte-wise check.
            if (id == HeaderId::other && !all_token({b + s, name_end - s}))
                return publish(), fail(ParseError::bad_header_name, s);
        }
        if constexpr (Some) {
            if (!contains(keep, id)) {
                if (lines == kMaxHeaders) [[unlikely]]
                    return publish(), fail(ParseError::too_many_headers, s);
                ++lines;
                s = lf + 1;
                continue;
            }
        }
        // The usual value follows ": " and its first and last bytes are above 0x20: neither white
        // space nor a control byte (b[colon + 2] is at worst this line's CR or LF, as b[colon + 1]
        // is a space before e). Two compares with an immediate, no table: 12 instructions fewer a
        // REGISTER than a white-space table, whose address the loop had no register to keep. Any
        // other spelling ("Name:value" too, or a value at a control byte, which the loops keep as
        // the fast path would) takes the loops.
        const uint32_t e = line_end();
        uint32_t v = colon + 2, ve = e;
        const char* const cp = b + colon;  // by pointer: ~3 fewer instructions a line than by offset
        const auto above_space = [](char c) { return static_cast<unsigned char>(c) > ' '; };
        if (cp[1] != ' ' || !above_space(cp[2]) || !above_space(b[e - 1])) [[unlikely]] {
            v = skip_ws(colon + 1, e);
            ve = trim_ws_back(v, e);
        }
        if ((Some ? lines : count) == kMaxHeaders) [[unlikely]]
            return publish(), fail(ParseError::too_many_headers, s);
        Header& h = o.headers[count];
        h.name = Slice{s, name_end - s};
        h.value = Slice{v, ve - v};
        h.line_end = lf + 1;
        h.id = id;
        h.folded = false;
        int16_t& f = o.first[static_cast<std::size_t>(id)];
        if (f < 0) f = static_cast<int16_t>(count);
        o.last[static_cast<std::size_t>(id)] = static_cast<int16_t>(count);
        ++count;
        if constexpr (Some) ++lines;
        s = lf + 1;
    }
}

}  // namespace

std::string_view error_name(ParseError e) noexcept { return kErrors[static_cast<std::size_t>(e)].name; }
std::string_view error_description(ParseError e) noexcept {
    return kErrors[static_cast<std::size_t>(e)].description;
}

bool has_bare_lf(std::string_view buf, const MessageIndex& m) noexcept {
    const std::size_t end = m.complete() ? m.body_off : buf.size();
    for (std::size_t i = m.start.line.off; i < end && i < buf.size(); ++i)
        if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r')) return true;
    return false;
}

void build_index(std::string_view buf, MaskView masks, MessageIndex& out, HeaderSet keep, std::size_t slack) noexcept {
    out.verdict = Verdict::error;
    out.error = ParseError::none;
    out.error_off = 0;
    out.start = StartLine{};
    keep |= header_set({HeaderId::content_length});  // the body's length: kept always
    out.kept = keep;
    out.header_count = out.line_count = 0;
    std::memset(out.first.data(), 0xff, sizeof out.first);  // every index -1
    out.headers_end = out.body_off = out.body_len = out.trailing = 0;
    out.content_length = ContentLength{};
    Indexer(buf, masks, out, keep, slack >= kPaddedSlack).run();
}

void LazyMasks::fill_blocks(uint32_t b0, uint32_t b1) noexcept {
    const auto nblocks = static_cast<uint32_t>(simd::blocks_for(len));
    if (b1 >= nblocks) b1 = nblocks - 1;  // nblocks 0: b0 > b1 below
    if (b0 <= b1 && b0 / 64 == b1 / 64) {
        // The usual ask (a header value: one word of bits, the blocks it lacks in one run): one
        // scan, as a tail call.
        const uint32_t w = b0 / 64;
        const uint64_t want = (~uint64_t{0} >> (63 - (b1 - b0))) << (b0 % 64);
        const uint64_t missing = want & ~filled[w];
        if (missing == 0) return;
        const auto first = static_cast<uint32_t>(__builtin_ctzll(missing));
        const uint64_t run = missing >> first;
        if ((run & (run + 1)) == 0) {  // contiguous: 0b0..01..1
            const uint32_t count = ~run ? static_cast<uint32_t>(__builtin_ctzll(~run)) : 64;
            filled[w] |= missing;
            return fill(data, len, w * 64 + first, w * 64 + first + count, blocks);
        }
    }
    for (uint32_t b = b0; b <= b1 && b < nblocks;) {
        if (has(b)) {
            ++b;
            continue;
        }
        uint32_t e = b + 1;  // one scan for a run of blocks that lack them
        while (e <= b1 && !has(e)) ++e;
        fill(data, len, b, e, blocks);
        for (uint32_t k = b; k < e; ++k) filled[k / 64] |= uint64_t{1} << (k % 64);
        b = e;
    }
}

MessageParser::MessageParser(const simd::Kernel& kernel)
    : kernel_(&kernel), masks_(new simd::BlockMasks[simd::blocks_for(kMaxMessage)]) {}

const MessageIndex& MessageParser::parse(std::string_view datagram, HeaderSet keep, uint64_t* sum,
                                         std::size_t slack) noexcept {
    const auto* data = reinterpret_cast<const uint8_t*>(datagram.data());
    if (datagram.size() > kMaxMessage) [[unlikely]] {
        if (sum) *sum = simd::ones_sum()(data, datagram.size());  // not scanned, but summed all the same
        len_ = 0;
        lazy_.len = 0;
        build_index(datagram, MaskView{masks_.get(), 0}, index_, keep);  // reports too_large
        return index_;
    }
    len_ = static_cast<uint32_t>(datagram.size());
    lazy_.data = data;
    lazy_.len = len_;
    lazy_.fill = kernel_->scan_values;
    lazy_.blocks = masks_.get();
    // A lazy kernel scans the index classes now and no block has its value classes yet; the
    // others scan every class of every block. The filled words of the datagram's blocks: one for
    // up to 4 KiB (GCC made the loop a byte-wise memset of 8 stores for that one word), a memset
    // of the rest for more.
    const bool lazy = kernel_->lazy_values;
    const std::size_t words = (simd::blocks_for(datagram.size()) + 63) / 64;
    lazy_.filled[0] = lazy ? 0 : ~uint64_t{0};
    if (words > 1) [[unlikely]]
        std::memset(&lazy_.filled[1], lazy ? 0 : 0xff, (words - 1) * sizeof lazy_.filled[0]);
    if (sum)
        *sum = kernel_->scan_summed(data, datagram.size(), masks_.get());
    else if (lazy)
        kernel_->scan_index(data, datagram.size(), masks_.get());
    else
        kernel_->scan(data, datagram.size(), masks_.get());
    build_index(datagram, mask_view(), index_, keep, slack);
    return index_;
}

}  // namespace farend::sip
