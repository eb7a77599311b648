#include <farend/net/checksum.hpp>
#include <farend/pipeline/keepalive.hpp>

#include <cstdio>
#include <cstring>

namespace farend::pipeline {

std::optional<KeepaliveMethod> parse_keepalive_method(std::string_view s) noexcept {
    if (s == "options") return KeepaliveMethod::options;
    if (s == "crlf") return KeepaliveMethod::crlf;
    if (s == "null4") return KeepaliveMethod::null4;
    return std::nullopt;
}

std::string_view keepalive_method_name(KeepaliveMethod m) noexcept {
    switch (m) {
        case KeepaliveMethod::options: return "options";
        case KeepaliveMethod::crlf: return "crlf";
        case KeepaliveMethod::null4: return "null4";
    }
    return "?";
}

namespace {

// "192.0.2.1" or "[2001:db8::1]"
std::size_t host_text(const IpAddr& ip, char* out) noexcept {
    if (ip.is_v4()) return ip.format(out);
    out[0] = '[';
    const std::size_t n = ip.format(out + 1);
    out[n + 1] = ']';
    return n + 2;
}

}  // namespace

uint32_t build_keepalive(const flow::Entry& e, KeepaliveMethod m, uint32_t seq, uint8_t* out, uint32_t cap) noexcept {
    const IpAddr& src = e.peer;
    const IpAddr dst = e.public_addr();
    if (!src.valid() || src.family() != dst.family() || e.peer_port == 0 || e.public_port() == 0) return 0;
    char payload[640];
    int plen = 0;
    switch (m) {
        case KeepaliveMethod::crlf:
            std::memcpy(payload, "\r\n\r\n", 4);
            plen = 4;
            break;
        case KeepaliveMethod::null4:
            std::memset(payload, 0, 4);
            plen = 4;
            break;
        case KeepaliveMethod::options: {
            char from[IpAddr::kMaxText + 2], to[IpAddr::kMaxText + 2];
            from[host_text(src, from)] = '\0';
            to[host_text(dst, to)] = '\0';
            const int b = static_cast<int>(kKeepaliveBranch.size());
            plen = std::snprintf(payload, sizeof payload,
                                 "OPTIONS sip:%s:%u SIP/2.0\r\n"
                                 "Via: SIP/2.0/UDP %s:%u;branch=%.*s%08x\r\n"
                                 "Max-Forwards: 70\r\n"
                                 "From: <sip:farend@%s:%u>;tag=farend-ka\r\n"
                                 "To: <sip:%s:%u>\r\n"
                                 "Call-ID: farend-ka-%08x@%s\r\n"
                                 "CSeq: 1 OPTIONS\r\n"
                                 "Content-Length: 0\r\n\r\n",
                                 to, e.public_port(), from, e.peer_port, b, kKeepaliveBranch.data(), seq, from,
                                 e.peer_port, to, e.public_port(), seq, from);
            if (plen <= 0 || plen >= static_cast<int>(sizeof payload)) return 0;
            break;
        }
    }
    const bool v6 = dst.is_v6();
    const uint32_t l2 = e.vlan() ? 18 : 14, l3 = v6 ? 40 : 20;
    const uint32_t udp_len = 8 + static_cast<uint32_t>(plen);
    const uint32_t len = l2 + l3 + udp_len;
    if (len > cap) return 0;
    uint8_t* f = out;
    // The frame goes back the way the agent's came: its MACs swapped, its VLAN.
    std::memcpy(f, e.src_mac().data(), 6);  // to where the agent's came from
    std::memcpy(f + 6, e.dst_mac().data(), 6);
    if (e.vlan()) {
        net::store_be16(f + 12, 0x8100);
        net::store_be16(f + 14, e.vlan() & 0x0fff);
    }
    net::store_be16(f + l2 - 2, v6 ? 0x86dd : 0x0800);
    uint8_t* ip = f + l2;
    if (v6) {
        net::store_be16(ip, 0x6000);
        net::store_be16(ip + 2, 0);
        net::store_be16(ip + 4, static_cast<uint16_t>(udp_len));
        ip[6] = 17;
        ip[7] = 64;
        std::memcpy(ip + 8, src.bytes().data(), 16);
        std::memcpy(ip + 24, dst.bytes().data(), 16);
    } else {
        ip[0] = 0x45;
        ip[1] = 0;
        net::store_be16(ip + 2, static_cast<uint16_t>(l3 + udp_len));
        net::store_be16(ip + 4, static_cast<uint16_t>(seq));
        net::store_be16(ip + 6, 0);
        ip[8] = 64;
        ip[9] = 17;
        net::store_be16(ip + 10, 0);
        std::memcpy(ip + 12, src.bytes().data(), 4);
        std::memcpy(ip + 16, dst.bytes().data(), 4);
        net::fix_ipv4_header_checksum(ip, 20);
    }
    uint8_t* udp = ip + l3;
    net::store_be16(udp, e.peer_port);
    net::store_be16(udp + 2, e.public_port());
    net::store_be16(udp + 4, static_cast<uint16_t>(udp_len));
    net::store_be16(udp + 6, 0);
    std::memcpy(udp + 8, payload, static_cast<std::size_t>(plen));
    net::fix_udp_checksum(src, dst, udp, udp_len, false);
    return len;
}

}  // namespace farend::pipeline
