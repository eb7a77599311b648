// The header index: one pass over a SIP datagram that finds the start line, every header line
// (name id, value span, folded continuation lines joined logically), the end of the header
// section and the body, with a verdict. Nothing is copied or allocated; all spans are offsets
// into the caller's buffer.
#pragma once

#include <farend/base/slice.hpp>
#include <farend/simd/scan.hpp>
#include <farend/sip/header_id.hpp>
#include <farend/sip/mask_view.hpp>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string_view>

namespace farend::sip {

// The largest SIP message over UDP (RFC 3261 18.1.1 caps datagrams at the IP maximum; 65535 is
// the most the 16-bit UDP length can carry).
inline constexpr std::size_t kMaxMessage = 65535;
inline constexpr std::size_t kMaxHeaders = 96;

enum class Verdict : uint8_t { complete, incomplete, error };

// Why a message is not complete. Names are the telemetry counter suffixes; descriptions say
// what a non-zero count means.
#define FAREND_SIP_PARSE_ERRORS(X)                                                                      \
    X(none, "none", "the message parsed")                                                               \
    X(empty, "empty", "datagram empty or only white space or zero bytes (a NAT keepalive)")             \
    X(stun, "stun", "a STUN message (RFC 5389), an agent's keepalive on the SIP port (RFC 5626 4.4.2)") \
    X(too_large, "too-large", "message longer than 65535 bytes")                                        \
    X(bad_start_line, "bad-start-line", "first line is neither a request line nor a status line")      \
    X(bad_method, "bad-method", "request method is not a token")                                        \
    X(bad_request_uri, "bad-request-uri", "Request-URI empty, not a URI, or holds whitespace")          \
    X(bad_version, "bad-version", "SIP version missing or not SIP/2.0")                                 \
    X(bad_status_code, "bad-status-code", "status code is not three digits 100-699")                    \
    X(no_end_of_headers, "no-end-of-headers", "no empty line ends the header section")                  \
    X(header_without_colon, "header-without-colon", "a header line has no colon")                       \
    X(bad_header_name, "bad-header-name", "a header name is empty or not a token")                      \
    X(fold_before_first_header, "fold-before-header", "a continuation line precedes every header")      \
    X(too_many_headers, "too-many-headers", "more header lines than the index holds (96)")              \
    X(bad_content_length, "bad-content-length", "Content-Length is not a non-negative decimal number")  \
    X(content_length_too_large, "content-length-too-large", "Content-Length larger than any datagram")  \
    X(content_length_conflict, "content-length-conflict", "several Content-Length values that differ")  \
    X(body_truncated, "body-truncated", "Content-Length larger than the body that arrived")

enum class ParseError : uint8_t {
#define FAREND_X(id, name, desc) id,
    FAREND_SIP_PARSE_ERRORS(FAREND_X)
#undef FAREND_X
        count
};
inline constexpr std::size_t kParseErrorCount = static_cast<std::size_t>(ParseError::count);

[[nodiscard]] std::string_view error_name(ParseError e) noexcept;
// An agent's keepalive, not broken SIP: forwarded whatever --malformed says, since dropping it
// would let the agent's NAT binding lapse (and a STUN keepalive expects the switch's answer).
[[nodiscard]] constexpr bool is_keepalive(ParseError e) noexcept { return e == ParseError::empty || e == ParseError::stun; }
[[nodiscard]] std::string_view error_description(ParseError e) noexcept;

struct StartLine {
    bool is_request = false;
    Slice line;  // the whole first line, without its line end
    // request
    Slice method;
    Method method_id = Method::other;
    Slice uri;
    // both
    Slice version;
    // response
    uint16_t status = 0;
    Slice reason;
};

struct Header {
    Slice name;       // as written, without whitespace before the colon
    Slice value;      // first to last non-whitespace byte of the value, continuation lines included
                      // (their CR LF and leading whitespace stay inside: parsers read them as LWS)
    uint32_t line_end = 0;  // one past the LF ending its last physical line
    HeaderId id = HeaderId::other;
    bool folded = false;    // spans several physical lines

    // First byte of the header line: the name starts it (white space before a name makes a
    // continuation line).
    [[nodiscard]] uint32_t line_off() const noexcept { return name.off; }
};

// A set of header ids, a bit each: the headers an index keeps (MessageParser::parse).
using HeaderSet = uint64_t;
static_assert(kHeaderIdCount <= 64, "a HeaderSet has a bit for every HeaderId");
[[nodiscard]] constexpr HeaderSet header_set(std::initializer_list<HeaderId> ids) noexcept {
    HeaderSet s = 0;
    for (const HeaderId id : ids) s |= HeaderSet{1} << static_cast<unsigned>(id);
    return s;
}
[[nodiscard]] constexpr bool contains(HeaderSet s, HeaderId id) noexcept { return (s >> static_cast<unsigned>(id)) & 1u; }
inline constexpr HeaderSet kAllHeaders = ~HeaderSet{0};

struct ContentLength {
    enum class Status : uint8_t { absent, ok, bad_value, too_large, conflict };
    Status status = Status::absent;
    uint32_t value = 0;
    uint8_t count = 0;         // Content-Length / l headers seen
    bool leading_zeros = false;
    int16_t header = -1;       // index of the first one
    Slice digits;              // its digits (for rewriting in place)
};

struct MessageIndex {
    Verdict verdict = Verdict::error;
    ParseError error = ParseError::empty;
    uint32_t error_off = 0;  // where the problem was found

    StartLine start;
    // The headers kept: every one (kAllHeaders), or those of the ids in `kept`. Every header line
    // is read and checked alike whatever the set (the verdict, the error and its offset, the body
    // do not depend on it); a line of an id outside it is only not stored, so find() does not
    // see it. Content-Length is always kept (the body's length). header_count counts the kept
    // ones, line_count every header line.
    HeaderSet kept = kAllHeaders;
    uint16_t header_count = 0;
    uint16_t line_count = 0;
    std::array<Header, kMaxHeaders> headers;
    std::array<int16_t, kHeaderIdCount> first{};  // index of the first header of each id, -1 if none
    std::array<int16_t, kHeaderIdCount> last{};   // index of the last one; meaningful only where first is set

    uint32_t headers_end = 0;  // offset of the empty line that ends the header section
    uint32_t body_off = 0;     // first byte of the body
    uint32_t body_len = 0;     // per Content-Length, or the rest of the datagram when it is absent
    uint32_t trailing = 0;     // bytes after the body (ignored: RFC 3261 18.3)
    uint32_t size = 0;         // datagram length
    ContentLength content_length;

    [[nodiscard]] bool complete() const noexcept { return verdict == Verdict::complete; }
    [[nodiscard]] const Header* find(HeaderId id) const noexcept {
        int16_t i = first[static_cast<std::size_t>(id)];
        return i < 0 ? nullptr : &headers[static_cast<std::size_t>(i)];
    }
    // The header after h (one of headers) with h's id, in message order; nullptr after the last.
    // Every header of one id: for (h = find(id); h; h = next(*h)). Looks no further than the
    // id's last header (the usual single Contact or Content-Length: no look at all).
    [[nodiscard]] const Header* next(const Header& h) const noexcept {
        const Header* const end = &headers[static_cast<std::size_t>(last[static_cast<std::size_t>(h.id)])];
        for (const Header* p = &h + 1; p <= end; ++p)
            if (p->id == h.id) return p;
        return nullptr;
    }
    [[nodiscard]] Slice body() const noexcept { return Slice{body_off, body_len}; }
};

// Reusable per-thread parser: holds the class masks of the last message (72 KiB), which the SDP
// reader (and the rules' slower host readers) read through mask_view(). parse() scans the index
// classes of the whole datagram; the value classes are scanned block by block when a reader asks
// for them (MaskView::ensure).
class MessageParser {
public:
    explicit MessageParser(const simd::Kernel& kernel = simd::active());
    MessageParser(const MessageParser&) = delete;
    MessageParser& operator=(const MessageParser&) = delete;

    // Scans and indexes a whole datagram, keeping the headers of the ids in `keep` (see
    // MessageIndex::kept). The returned index stays valid until the next call. With `sum`, it
    // also receives the datagram's unfolded one's-complement sum (simd::ScanSumFn), taken by the
    // scan's own pass where the kernel can: what a UDP checksum check needs of the payload.
    // slack: how many bytes past the datagram's end may be read (never written; the dataplane's
    // buffers have their room there). With kPaddedSlack or more, the header index loads each
    // line's first 16 bytes with no test of how near the end the line starts.
    const MessageIndex& parse(std::string_view datagram, HeaderSet keep = kAllHeaders, uint64_t* sum = nullptr,
                              std::size_t slack = 0) noexcept;

    [[nodiscard]] const MessageIndex& index() const noexcept { return index_; }
    [[nodiscard]] MaskView mask_view() const noexcept { return MaskView{masks_.get(), len_, &lazy_}; }
    [[nodiscard]] const simd::Kernel& kernel() const noexcept { return *kernel_; }

private:
    const simd::Kernel* kernel_;
    std::unique_ptr<simd::BlockMasks[]> masks_;
    uint32_t len_ = 0;
    mutable LazyMasks lazy_;  // the value classes of masks_, made when a reader asks (const readers too)
    MessageIndex index_;
};

// Whether a line of the start line or the header section (all of the datagram when the index is
// not complete) ends in a bare LF, without CR (RFC 3261 7.5 allows it; agents that do it want
// their line ends kept). Walked on demand: nothing on the forwarding path needs it, so the index
// does not track it per line.
[[nodiscard]] bool has_bare_lf(std::string_view buf, const MessageIndex& m) noexcept;

// The bytes past a datagram's end that MessageParser::parse() and build_index() need readable to
// take the header index's padded loop.
inline constexpr std::size_t kPaddedSlack = 16;

// The same index built from masks that are already filled (used by MessageParser and tests);
// slack as for MessageParser::parse().
void build_index(std::string_view buf, MaskView masks, MessageIndex& out, HeaderSet keep = kAllHeaders,
                 std::size_t slack = 0) noexcept;

}  // namespace farend::sip
