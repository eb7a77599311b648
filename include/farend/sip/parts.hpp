// The parts of a message NAT detection and rewriting work on, parsed once: the top Via of a
// request, every Contact value, every SDP body with its addresses. Per-worker scratch (~20 KiB):
// keep one and reuse it, do not put it on the stack per packet.
#pragma once

#include <farend/sip/contact.hpp>
#include <farend/sip/content.hpp>
#include <farend/sip/message.hpp>
#include <farend/sip/sdp.hpp>
#include <farend/sip/via.hpp>

namespace farend::sip {

struct MessageParts {
    static constexpr std::size_t kMaxContacts = 16;

    bool has_top_via = false;       // requests only: a response's top Via belongs to the requester
    Via top_via;
    uint8_t contact_count = 0;
    bool contacts_truncated = false;  // more Contact values than kMaxContacts
    bool contact_invalid = false;     // a Contact value that does not parse (it is left alone)
    Contact contacts[kMaxContacts];
    SdpBodies sdp_bodies;
    Sdp sdp[SdpBodies::kMax];
};

// Whether a message's Contacts name its sender. A 3xx response's Contacts are where to try instead
// (RFC 3261 21.3) and a 485's the alternatives to the ambiguous address (21.4.23): other
// parties' addresses, which no NAT test reads and no rewrite touches (a redirect rewritten to the
// sender's public address would send the call back to the party that redirected it). Kamailio's
// default configuration fixes the Contacts of requests and 1xx/2xx replies only.
[[nodiscard]] constexpr bool contacts_name_sender(const StartLine& s) noexcept {
    return s.is_request || ((s.status < 300 || s.status > 399) && s.status != 485);
}

// Fills parts from a complete message. SDP bodies are read only when want_sdp is set. The
// Contacts only when they name the sender (contacts_name_sender): else contact_count is 0.
void extract_parts(std::string_view buf, MaskView mv, const MessageIndex& index, bool want_sdp,
                   MessageParts& parts) noexcept;

// The SDP part alone, for when extract_parts ran without it.
void extract_sdp(std::string_view buf, MaskView mv, const MessageIndex& index, MessageParts& parts) noexcept;

}  // namespace farend::sip
