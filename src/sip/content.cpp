#include <farend/base/bytes.hpp>
#include <farend/sip/chars.hpp>
#include <farend/sip/content.hpp>

namespace farend::sip {

ContentLength parse_content_length(std::string_view buf, const MessageIndex& index) noexcept {
    ContentLength cl;
    // The first header's index and the last's: one and the same for the usual single header,
    // told without next()'s walk, and the index kept without a division of pointers.
    const auto id = static_cast<std::size_t>(HeaderId::content_length);
    const int16_t first = index.first[id];
    if (first < 0) return cl;
    const Header* const one = &index.headers[static_cast<std::size_t>(first)];
    // The usual: one header of one to four digits, no leading zero ("0" itself included).
    if (const uint32_t n = one->value.len; n - 1 < 4 && index.last[id] == first) {
        const char* p = buf.data() + one->value.off;
        uint32_t value = 0, bad = 0;
        for (uint32_t k = 0; k < n; ++k) {
            const uint32_t d = static_cast<unsigned char>(p[k]) - uint32_t{'0'};
            bad |= d > 9;
            value = value * 10 + d;
        }
        if (!bad && (p[0] != '0' || n == 1)) {  // at most 9,999: never above kMaxMessage
            cl.status = ContentLength::Status::ok;
            cl.value = value;
            cl.count = 1;
            cl.header = first;
            cl.digits = one->value;
            return cl;
        }
    }
    for (const Header* hp = one; hp; hp = index.next(*hp)) {
        const Header& h = *hp;
        const auto i = static_cast<int16_t>(hp - index.headers.data());
        ++cl.count;
        // The value is trimmed already; folding could leave LWS inside: that is not a number.
        const std::string_view v = text(buf, h.value);
        bool digits_only = !v.empty();
        for (char c : v) digits_only = digits_only && chars::is_digit(c);
        if (!digits_only) {
            cl.status = ContentLength::Status::bad_value;
            if (cl.header < 0) cl.header = static_cast<int16_t>(i);
            return cl;
        }
        std::size_t z = 0;
        while (z + 1 < v.size() && v[z] == '0') ++z;
        const std::string_view sig = v.substr(z);
        uint64_t value = 0;
        if (sig.size() <= 6)
            for (char c : sig) value = value * 10 + static_cast<uint64_t>(c - '0');
        else
            value = uint64_t{1} << 32;
        if (cl.header < 0) {
            cl.header = static_cast<int16_t>(i);
            cl.digits = h.value;
            cl.leading_zeros = z > 0;
            if (value > kMaxMessage) {
                cl.status = ContentLength::Status::too_large;
                return cl;
            }
            cl.value = static_cast<uint32_t>(value);
            cl.status = ContentLength::Status::ok;
        } else if (value != cl.value) {
            cl.status = ContentLength::Status::conflict;
            return cl;
        }
    }
    return cl;
}

namespace {
// The usual SIP body's type, exactly "application/sdp" in any case: two word compares. What
// parse_media_type() and find_sdp_bodies() take without parsing.
bool plain_sdp_type(std::string_view buf, Slice value) noexcept {
    return value.len == 15 && iequals_lit(text(buf, value), "application/sdp");
}
}  // namespace

MediaType parse_media_type(std::string_view buf, Slice value) noexcept {
    MediaType mt;
    if (plain_sdp_type(buf, value)) {
        mt.type = Slice{value.off, 11};
        mt.subtype = Slice{value.off + 12, 3};
        mt.params = Slice{value.end(), 0};
        mt.valid = true;
        return mt;
    }
    uint32_t p = value.off;
    const uint32_t e = value.end();
    auto skip_lws = [&] {
        while (p < e && chars::is_lws(buf[p])) ++p;
    };
    auto token = [&]() -> Slice {
        uint32_t s = p;
        while (p < e && chars::is_token(static_cast<unsigned char>(buf[p]))) ++p;
        return make_slice(s, p);
    };
    skip_lws();
    mt.type = token();
    skip_lws();
    if (mt.type.empty() || p >= e || buf[p] != '/') return mt;
    ++p;
    skip_lws();
    mt.subtype = token();
    if (mt.subtype.empty()) return mt;
    skip_lws();
    mt.params = make_slice(p, e);
    // m-parameter = m-attribute EQUAL m-value; m-value = token / quoted-string
    while (p < e && buf[p] == ';') {
        ++p;
        skip_lws();
        const Slice name = token();
        skip_lws();
        if (name.empty()) return mt;
        if (p >= e || buf[p] != '=') continue;
        ++p;
        skip_lws();
        Slice val;
        if (p < e && buf[p] == '"') {
            const uint32_t s = ++p;
            while (p < e && buf[p] != '"') p += (buf[p] == '\\' && p + 1 < e) ? 2 : 1;
            if (p >= e) return mt;
            val = make_slice(s, p);
            ++p;
        } else {
            // RFC 2046 boundary chars include some that are not token chars ("'()+_,-./:=?").
            const uint32_t s = p;
            while (p < e && buf[p] != ';' && !chars::is_lws(buf[p])) ++p;
            val = make_slice(s, p);
        }
        if (iequals(text(buf, name), "boundary")) mt.boundary = val;
        skip_lws();
    }
    mt.valid = p == e;
    return mt;
}

namespace {

// Finds the next delimiter line "--boundary" at the start of a line at or after `from`.
// Returns its offset (at the first '-') or `end` when there is none.
uint32_t next_delimiter(std::string_view buf, uint32_t from, uint32_t body_start, uint32_t end,
                        std::string_view boundary) noexcept {
    const std::string_view region = buf.substr(0, end);
    std::size_t p = from;
    for (;;) {
        p = region.find("--", p);
        if (p == std::string_view::npos || p + 2 + boundary.size() > end) return end;
        if ((p == body_start || buf[p - 1] == '\n') && region.substr(p + 2, boundary.size()) == boundary)
            return static_cast<uint32_t>(p);
        ++p;
    }
}

Slice part_type_value(std::string_view buf, Slice headers) noexcept {
    uint32_t p = headers.off;
    const uint32_t e = headers.end();
    while (p < e) {
        uint32_t le = p;
        while (le < e && buf[le] != '\n') ++le;
        const std::string_view line = buf.substr(p, le - p);
        const std::size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
            std::string_view name = line.substr(0, colon);
            while (!name.empty() && chars::is_ws(name.back())) name.remove_suffix(1);
            if (iequals(name, "content-type") || iequals(name, "c")) {
                uint32_t vs = p + static_cast<uint32_t>(colon) + 1;
                uint32_t ve = le;
                // Folded part headers: take continuation lines too.
                while (ve + 1 < e && chars::is_ws(buf[ve + 1])) {
                    ve = ve + 1;
                    while (ve < e && buf[ve] != '\n') ++ve;
                }
                while (vs < ve && chars::is_lws(buf[vs])) ++vs;
                while (ve > vs && chars::is_lws(buf[ve - 1])) --ve;
                return make_slice(vs, ve);
            }
        }
        p = le + 1;
    }
    return Slice{e, 0};
}

}  // namespace

void split_multipart(std::string_view buf, Slice body, std::string_view boundary, Multipart& out) noexcept {
    out.count = 0;
    out.status = MultipartStatus::ok;
    if (boundary.empty() || boundary.size() > 70) {  // RFC 2046 5.1.1: 1 to 70 characters
        out.status = MultipartStatus::no_boundary;
        return;
    }
    const uint32_t end = body.end();
    uint32_t d = next_delimiter(buf, body.off, body.off, end, boundary);
    if (d == end) {
        out.status = MultipartStatus::no_boundary;
        return;
    }
    for (;;) {
        uint32_t p = d + 2 + static_cast<uint32_t>(boundary.size());
        if (p + 2 <= end && buf[p] == '-' && buf[p + 1] == '-') return;  // close delimiter
        // transport-padding, then the line end
        while (p < end && chars::is_ws(buf[p])) ++p;
        if (p < end && buf[p] == '\r') ++p;
        if (p >= end || buf[p] != '\n') {
            out.status = MultipartStatus::bad_part;
            return;
        }
        const uint32_t part_start = p + 1;
        const uint32_t next = next_delimiter(buf, part_start, body.off, end, boundary);
        if (next == end) {
            out.status = MultipartStatus::no_close_delimiter;
            return;
        }
        // The line end before the delimiter belongs to the delimiter (RFC 2046 5.1.1).
        uint32_t part_end = next;
        if (part_end > part_start && buf[part_end - 1] == '\n') --part_end;
        if (part_end > part_start && buf[part_end - 1] == '\r') --part_end;
        if (out.count == Multipart::kMaxParts) {
            out.status = MultipartStatus::too_many_parts;
            return;
        }
        BodyPart& part = out.parts[out.count++];
        // Part headers end at the first empty line; a part may have none (it starts with CRLF).
        uint32_t h = part_start;
        uint32_t headers_end = part_start, content = part_start;
        for (;;) {
            uint32_t le = h;
            while (le < part_end && buf[le] != '\n') ++le;
            const uint32_t line_len = le - h - ((le > h && buf[le - 1] == '\r') ? 1u : 0u);
            if (le >= part_end) {  // no empty line: all headers, no content
                headers_end = content = part_end;
                break;
            }
            if (line_len == 0) {
                headers_end = h;
                content = le + 1;
                break;
            }
            h = le + 1;
        }
        part.headers = make_slice(part_start, headers_end);
        part.body = make_slice(content, part_end);
        const Slice ct = part_type_value(buf, part.headers);
        part.type = ct.empty() ? MediaType{} : parse_media_type(buf, ct);
        d = next;
    }
}

namespace {

void collect(std::string_view buf, Slice body, const MediaType& type, int depth, SdpBodies& out) noexcept {
    if (type.is_sdp(buf)) {
        if (out.count == SdpBodies::kMax) {
            out.truncated = true;
            return;
        }
        out.bodies[out.count++] = body;
        return;
    }
    if (!type.is_multipart(buf)) return;
    if (depth >= 3) {
        out.truncated = true;
        return;
    }
    Multipart mp;
    split_multipart(buf, body, text(buf, type.boundary), mp);
    if (mp.status != MultipartStatus::ok) out.truncated = true;
    for (uint8_t i = 0; i < mp.count; ++i) collect(buf, mp.parts[i].body, mp.parts[i].type, depth + 1, out);
}

}  // namespace

void find_sdp_bodies(std::string_view buf, const MessageIndex& index, SdpBodies& out) noexcept {
    // The count and the flags: the slices past the count are never read (64 bytes not cleared).
    out.count = 0;
    out.truncated = out.encoded = false;
    if (!index.complete() || index.body_len == 0) return;
    if (const Header* enc = index.find(HeaderId::content_encoding);
        enc && !iequals(text(buf, enc->value), "identity")) {
        out.encoded = true;
        return;
    }
    const Header* ct = index.find(HeaderId::content_type);
    if (!ct) return;
    // The usual body's type (parse_media_type()'s own fast case): the body is the one SDP body,
    // without the media type built and collect()'s call and test of it (~100 instructions an
    // INVITE or 200 with SDP).
    if (plain_sdp_type(buf, ct->value)) {
        out.bodies[out.count++] = index.body();
        return;
    }
    collect(buf, index.body(), parse_media_type(buf, ct->value), 0, out);
}

}  // namespace farend::sip
