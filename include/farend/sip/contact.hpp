// Contact header values (RFC 3261 20.10, 25.1): "*", or a comma list of name-addr / addr-spec
// with contact-params. Display names may be quoted strings holding '<', '@', ',' or ':'.
#pragma once

#include <farend/sip/message.hpp>
#include <farend/sip/uri.hpp>

#include <cstddef>
#include <string_view>

namespace farend::sip {

struct Contact {
    Slice value;        // the whole contact-param, first to last non-LWS byte
    bool star = false;  // "Contact: *"
    bool name_addr = false;  // the URI is in angle brackets
    Slice display;      // display name as written (quotes included), empty when none
    Uri uri;            // the URI without '<' '>'
    Slice params;       // contact-params after the URI ('expires', 'q', ...), from the first ';'
    Param expires, q;
    uint8_t param_count = 0;
    bool valid = false;
};

// Parses the contact values of one Contact header into out[0..cap); returns how many it filled.
// mv are the class masks of buf (not read: the bytes are searched in place).
// Parsing stops at the first bad value, which is returned with valid=false. `known`: a host:port
// read before (the top Via's sent-by), for parse_uri().
std::size_t parse_contact_values(std::string_view buf, MaskView mv, Slice value, Contact* out, std::size_t cap,
                                 const HostPort* known = nullptr) noexcept;

namespace detail {
// parse_contact_values without its fast path for the usual contact (every contact read the
// general way): for the tests that hold the two to the same result.
std::size_t parse_contact_values_general(std::string_view buf, MaskView mv, Slice value, Contact* out, std::size_t cap,
                                         const HostPort* known = nullptr) noexcept;
}  // namespace detail

}  // namespace farend::sip
