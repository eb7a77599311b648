// The body side of a message: Content-Length, Content-Type (media type and boundary), multipart
// bodies (RFC 2046 5.1), and where the SDP bodies are.
#pragma once

#include <farend/base/bytes.hpp>
#include <farend/base/slice.hpp>
#include <farend/sip/message.hpp>

#include <cstddef>
#include <string_view>

namespace farend::sip {

// Every Content-Length / l header: spaces around the number and leading zeros are accepted
// (and leading_zeros is set), a sign, other text or no digits is bad_value, more than 65535 is
// too_large, two headers with different values is conflict (RFC 4475 3.3.9).
[[nodiscard]] ContentLength parse_content_length(std::string_view buf, const MessageIndex& index) noexcept;

struct MediaType {
    Slice type;      // "application"
    Slice subtype;   // "sdp"
    Slice params;    // from the first ';' to the end of the value
    Slice boundary;  // multipart boundary, without quotes
    bool valid = false;

    // Literals compared a word at a time (iequals_lit), where iequals() took ~10 instructions a
    // byte: ~140 an SDP body for "application/sdp".
    [[nodiscard]] bool is(std::string_view buf, const FoldedLit& t, const FoldedLit& st) const noexcept {
        return valid && iequals_lit(text(buf, type), t) && iequals_lit(text(buf, subtype), st);
    }
    [[nodiscard]] bool is_sdp(std::string_view buf) const noexcept { return is(buf, "application", "sdp"); }
    [[nodiscard]] bool is_multipart(std::string_view buf) const noexcept {
        return valid && iequals_lit(text(buf, type), "multipart");
    }
};

// media-type = m-type SLASH m-subtype *(SEMI m-parameter) (RFC 3261 20.15).
[[nodiscard]] MediaType parse_media_type(std::string_view buf, Slice value) noexcept;

struct BodyPart {
    Slice headers;  // the part's header lines (may be empty)
    Slice body;     // the part's content, without the CRLF before the next delimiter
    MediaType type; // from its Content-Type, or invalid when it has none (RFC 2046: text/plain)
};

enum class MultipartStatus : uint8_t { ok, no_boundary, no_close_delimiter, too_many_parts, bad_part };

struct Multipart {
    static constexpr std::size_t kMaxParts = 16;
    MultipartStatus status = MultipartStatus::ok;
    uint8_t count = 0;
    BodyPart parts[kMaxParts];
};

// Splits body (a slice of buf) on "--boundary" delimiter lines.
void split_multipart(std::string_view buf, Slice body, std::string_view boundary, Multipart& out) noexcept;

struct SdpBodies {
    static constexpr std::size_t kMax = 8;
    uint8_t count = 0;
    bool truncated = false;   // more SDP bodies than kMax, or a multipart body that did not split
    bool encoded = false;     // Content-Encoding other than identity: the body is not readable text
    Slice bodies[kMax];  // [0, count): find_sdp_bodies() leaves those past it as they were
};

// Every application/sdp body of a complete message: the message body itself, or the parts of a
// multipart body (nested multiparts are followed up to a depth of 3).
void find_sdp_bodies(std::string_view buf, const MessageIndex& index, SdpBodies& out) noexcept;

}  // namespace farend::sip
