#include <farend/sip/chars.hpp>
#include <farend/sip/parts.hpp>

namespace farend::sip {

void extract_parts(std::string_view buf, MaskView mv, const MessageIndex& index, bool want_sdp,
                   MessageParts& parts) noexcept {
    parts.has_top_via = false;
    parts.contact_count = 0;
    parts.contacts_truncated = parts.contact_invalid = false;
    parts.sdp_bodies.count = 0;
    parts.sdp_bodies.truncated = parts.sdp_bodies.encoded = false;
    if (index.start.is_request) parts.has_top_via = top_via(buf, mv, index, parts.top_via) && parts.top_via.valid;
    const Header* first = contacts_name_sender(index.start) ? index.find(HeaderId::contact) : nullptr;
    for (const Header* h = first; h; h = index.next(*h)) {
        const std::size_t room = MessageParts::kMaxContacts - parts.contact_count;
        if (room == 0) {
            parts.contacts_truncated = true;
            break;
        }
        // Behind a NAT the Contact names the Via's private host:port: read once (parse_hostport).
        const std::size_t n = parse_contact_values(buf, mv, h->value, parts.contacts + parts.contact_count, room,
                                                   parts.has_top_via ? &parts.top_via.sent_by : nullptr);
        for (std::size_t k = 0; k < n; ++k)
            if (!parts.contacts[parts.contact_count + k].valid) parts.contact_invalid = true;
        parts.contact_count = static_cast<uint8_t>(parts.contact_count + n);
        if (n == room && n > 0) {
            // Full: anything but white space and empty list elements (", ,", tolerated as
            // parse_contact_values tolerates them) after the last value is a value we did not read.
            const Slice v = h->value;
            uint32_t p = parts.contacts[parts.contact_count - 1].value.end();
            while (p < v.end() && (chars::is_lws(buf[p]) || buf[p] == ',')) ++p;
            if (p < v.end()) parts.contacts_truncated = true;
        }
    }
    if (want_sdp) extract_sdp(buf, mv, index, parts);
}

void extract_sdp(std::string_view buf, MaskView mv, const MessageIndex& index, MessageParts& parts) noexcept {
    find_sdp_bodies(buf, index, parts.sdp_bodies);
    // The agent's own address, which its SDP usually names: its Contact's host, else its Via's.
    const HostPort* known = parts.contact_count && parts.contacts[0].valid ? &parts.contacts[0].uri.host
                            : parts.has_top_via                            ? &parts.top_via.sent_by
                                                                           : nullptr;
    for (uint8_t b = 0; b < parts.sdp_bodies.count; ++b)
        parse_sdp(buf, mv, parts.sdp_bodies.bodies[b], parts.sdp[b], known);
}

}  // namespace farend::sip
