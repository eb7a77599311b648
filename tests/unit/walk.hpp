#pragma once
// Runs every parser over a message without allocating (for guard-page and fuzz-style tests).

#include <farend/sip/contact.hpp>
#include <farend/sip/content.hpp>
#include <farend/sip/sdp.hpp>
#include <farend/sip/via.hpp>

namespace farend::test {

// Returns a checksum of what was found, so the work cannot be optimised away.
inline uint64_t walk_all(std::string_view buf, sip::MaskView mv, const sip::MessageIndex& idx) {
    using namespace sip;
    uint64_t sum = idx.header_count;
    if (idx.start.is_request) sum += parse_uri(buf, mv, idx.start.uri).host.port_num;
    for (uint16_t i = 0; i < idx.header_count; ++i) {
        const Header& h = idx.headers[i];
        if (h.id == HeaderId::via) {
            Via v[16];
            const size_t n = parse_via_values(buf, mv, h.value, v, 16);
            for (size_t k = 0; k < n; ++k) sum += v[k].sent_by.port_num + v[k].param_count;
        } else if (h.id == HeaderId::contact) {
            Contact c[16];
            const size_t n = parse_contact_values(buf, mv, h.value, c, 16);
            for (size_t k = 0; k < n; ++k) sum += c[k].uri.host.port_num + c[k].param_count;
        } else if (h.id == HeaderId::content_type) {
            sum += parse_media_type(buf, h.value).boundary.len;
        }
    }
    SdpBodies bodies;
    find_sdp_bodies(buf, idx, bodies);
    for (uint8_t b = 0; b < bodies.count; ++b) {
        Sdp sdp;
        parse_sdp(buf, mv, bodies.bodies[b], sdp);
        sum += sdp.addr_count + sdp.media_count;
    }
    return sum;
}

}  // namespace farend::test
