#include <farend/sip/contact.hpp>
#include <farend/sip/content.hpp>
#include <farend/sip/dump.hpp>
#include <farend/sip/sdp.hpp>
#include <farend/sip/via.hpp>

#include <string>

namespace farend::sip {

namespace {

struct Out {
    std::string_view buf;
    std::string s;

    void raw(std::string_view t) { s += t; }
    void slice(std::string_view label, Slice sl) {
        s += ' ';
        s += label;
        s += "=[";
        s += std::to_string(sl.off);
        s += '+';
        s += std::to_string(sl.len);
        s += "]'";
        // keep the dump one line per item: show control bytes as escapes
        for (char c : text(buf, sl)) {
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                static constexpr char hex[] = "0123456789abcdef";
                s += "\\x";
                s += hex[static_cast<unsigned char>(c) >> 4];
                s += hex[static_cast<unsigned char>(c) & 15];
            } else {
                s += c;
            }
        }
        s += '\'';
    }
    void num(std::string_view label, uint64_t v) {
        s += ' ';
        s += label;
        s += '=';
        s += std::to_string(v);
    }
    void hostport(const HostPort& h) {
        static constexpr const char* kinds[] = {"none", "ipv4", "ipv6", "name"};
        s += " host-kind=";
        s += kinds[static_cast<int>(h.kind)];
        slice("host", h.host);
        if (h.ip.valid()) {
            s += " ip=";
            s += h.ip.to_string();
        }
        if (h.bracketed) s += " bracketed";
        if (h.has_port()) {
            num("port", h.port_num);
            slice("port-digits", h.port);
        }
    }
    void param(std::string_view label, const Param& p) {
        if (!p.present) return;
        slice(label, p.whole);
        if (p.has_value) slice(std::string(label) + ".value", p.value);
    }
    void uri(const Uri& u) {
        static constexpr const char* schemes[] = {"none", "sip", "sips", "tel", "other"};
        s += " scheme=";
        s += schemes[static_cast<int>(u.scheme_id)];
        s += u.valid ? " uri-valid" : " uri-invalid";
        slice("uri", u.whole);
        slice("user", u.user);
        if (u.scheme_id == Scheme::sip || u.scheme_id == Scheme::sips) hostport(u.host);
        slice("uri-params", u.params);
        slice("uri-headers", u.headers);
        param("maddr", u.maddr);
        param("alias", u.alias);
    }
    // A Contact header's values: every part of each, a value that did not parse too (as far as
    // it got).
    void contacts(const Contact* c, std::size_t n) {
        for (std::size_t k = 0; k < n; ++k) {
            raw(c[k].valid ? "  contact" : "  contact-invalid");
            slice("value", c[k].value);
            if (c[k].star) {
                raw(" star");
            } else {
                slice("display", c[k].display);
                uri(c[k].uri);
                slice("params", c[k].params);
                param("expires", c[k].expires);
            }
            raw("\n");
        }
    }
    void sdp(const Sdp& sdp) {
        if (sdp.malformed) raw("  sdp-malformed\n");
        if (sdp.truncated) raw("  sdp-truncated\n");
        if (sdp.media_truncated) raw("  sdp-media-truncated\n");
        static constexpr const char* kinds[] = {"o", "c", "rtcp"};
        for (uint8_t a = 0; a < sdp.addr_count; ++a) {
            const SdpAddress& ad = sdp.addrs[a];
            raw("  addr ");
            raw(kinds[static_cast<int>(ad.kind)]);
            num("media", static_cast<uint64_t>(ad.media + 1));
            slice("line", ad.line);
            slice("addrtype", ad.addrtype);
            slice("addr", ad.addr);
            if (ad.ip.valid()) raw(" ip=" + ad.ip.to_string());
            raw("\n");
        }
        for (uint8_t m = 0; m < sdp.media_count; ++m) {
            raw("  media");
            slice("line", sdp.media[m].line);
            slice("media", sdp.media[m].media);
            slice("port", sdp.media[m].port);
            num("port-num", sdp.media[m].port_num);
            raw("\n");
        }
    }
};

}  // namespace

std::string dump(std::string_view buf, MaskView mv, const MessageIndex& idx) {
    Out o{buf, {}};
    static constexpr const char* verdicts[] = {"complete", "incomplete", "error"};
    o.raw(verdicts[static_cast<int>(idx.verdict)]);
    o.raw(" ");
    o.raw(error_name(idx.error));
    o.num("at", idx.error_off);
    o.raw("\n");
    if (idx.verdict == Verdict::error && idx.header_count == 0 && idx.start.line.empty()) return o.s;
    o.raw(idx.start.is_request ? "request" : "response");
    o.slice("line", idx.start.line);
    if (idx.start.is_request) {
        o.slice("method", idx.start.method);
        o.num("method-id", static_cast<unsigned>(idx.start.method_id));
        o.slice("ruri", idx.start.uri);
        o.uri(parse_uri(buf, mv, idx.start.uri));
    } else {
        o.num("status", idx.start.status);
        o.slice("reason", idx.start.reason);
    }
    o.raw("\n");
    for (uint16_t i = 0; i < idx.header_count; ++i) {
        const Header& h = idx.headers[i];
        o.raw("header");
        o.num("id", static_cast<unsigned>(h.id));
        o.slice("name", h.name);
        o.slice("value", h.value);
        o.num("line", h.line_off());
        o.num("end", h.line_end);
        if (h.folded) o.raw(" folded");
        o.raw("\n");
        if (h.id == HeaderId::via) {
            Via v[16];
            const std::size_t n = parse_via_values(buf, mv, h.value, v, 16);
            for (std::size_t k = 0; k < n; ++k) {
                o.raw(v[k].valid ? "  via" : "  via-invalid");
                o.slice("value", v[k].value);
                if (v[k].valid) {
                    o.slice("transport", v[k].transport);
                    o.hostport(v[k].sent_by);
                    o.slice("params", v[k].params);
                    o.param("branch", v[k].branch);
                    o.param("received", v[k].received);
                    o.param("rport", v[k].rport);
                    o.param("maddr", v[k].maddr);
                }
                o.raw("\n");
            }
        } else if (h.id == HeaderId::contact) {
            Contact c[16];
            const std::size_t n = parse_contact_values(buf, mv, h.value, c, 16);
            o.contacts(c, n);
        }
    }
    const ContentLength& cl = idx.content_length;
    o.raw("content-length");
    o.num("status", static_cast<unsigned>(cl.status));
    o.num("value", cl.value);
    o.num("count", cl.count);
    o.slice("digits", cl.digits);
    o.raw("\n");
    if (idx.complete()) {
        o.raw("body");
        o.slice("headers-end", Slice{idx.headers_end, 0});
        o.num("off", idx.body_off);
        o.num("len", idx.body_len);
        o.num("trailing", idx.trailing);
        o.raw("\n");
        SdpBodies bodies;
        find_sdp_bodies(buf, idx, bodies);
        if (bodies.truncated) o.raw("sdp-bodies-truncated\n");
        if (bodies.encoded) o.raw("body-encoded\n");
        for (uint8_t b = 0; b < bodies.count; ++b) {
            o.raw("sdp");
            o.slice("body", bodies.bodies[b]);
            o.raw("\n");
            Sdp sdp;
            parse_sdp(buf, mv, bodies.bodies[b], sdp);
            o.sdp(sdp);
        }
    }
    return o.s;
}

std::string dump_contacts(std::string_view buf, const Contact* c, std::size_t n) {
    Out o{buf, {}};
    o.contacts(c, n);
    return o.s;
}

std::string dump_sdp(std::string_view buf, const Sdp& sdp) {
    Out o{buf, {}};
    o.sdp(sdp);
    return o.s;
}

}  // namespace farend::sip
