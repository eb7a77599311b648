// Header names the NAT path cares about, mapped from full and compact forms, case-insensitively
// (RFC 3261 7.3.1 and 7.3.3; compact forms from RFC 3261 20, 3265, 3515, 3841, 4028, 4474).
#pragma once

#include <cstdint>
#include <string_view>

namespace farend::sip {

enum class HeaderId : uint8_t {
    other = 0,
    via,                // v
    from,               // f
    to,                 // t
    call_id,            // i
    cseq,
    contact,            // m
    content_length,     // l
    content_type,       // c
    content_encoding,   // e
    supported,          // k
    subject,            // s
    event,              // o
    refer_to,           // r
    allow_events,       // u
    referred_by,        // b
    session_expires,    // x
    accept_contact,     // a
    reject_contact,     // j
    request_disposition,// d
    identity,           // y
    identity_info,      // n
    max_forwards,
    route,
    record_route,
    expires,
    content_disposition,
    mime_version,
    // common headers farend does not read: known only so that their names need no token check
    allow,
    user_agent,
    server,
    accept,
    date,
    authorization,
    proxy_authorization,
    www_authenticate,
    proxy_authenticate,
    require,
    proxy_require,
    p_asserted_identity,
    path,
    count
};

inline constexpr std::size_t kHeaderIdCount = static_cast<std::size_t>(HeaderId::count);

// Maps a header name (no surrounding whitespace) to its id; unknown names are HeaderId::other.
[[nodiscard]] HeaderId header_id(std::string_view name) noexcept;

// Canonical full name, e.g. "Content-Length"; "" for other.
[[nodiscard]] std::string_view header_name(HeaderId id) noexcept;

enum class Method : uint8_t {
    other = 0, invite, ack, bye, cancel, register_, options, prack, subscribe, notify, publish, info, refer,
    message, update
};

// Methods are case-sensitive (RFC 3261 7.1).
[[nodiscard]] Method method_id(std::string_view token) noexcept;

}  // namespace farend::sip
