// libFuzzer target: the whole per-packet pipeline (pipeline::Worker) on raw frames: Ethernet,
// VLAN/QinQ, IPv4 with options, IPv6 with extension headers, fragments, UDP, SIP; both
// directions, alias re-targeting and keepalive answers included. Invariants:
//  - no crash, no out-of-bounds access (ASan), no undefined behaviour (UBSan);
//  - a frame forwarded unchanged in length and bytes is fine; a frame that changed came with
//    right checksums, parses as UDP, has valid IPv4 header and UDP checksums and consistent
//    lengths, and keeps its L2 header;
//  - the frame never grows past its buffer;
//  - nothing is dropped but by the options that drop (--malformed drop) or a consumed keepalive
//    answer, and every drop is counted;
//  - the frame in a burst, among messages of other kinds (read kind by kind), gets what it gets
//    alone;
//  - parse_frame's short cut for the usual frame gives the general path's status and view.
// Byte 0 chooses: bit 0 direction core->access, bit 1 alias mode, bit 2 malformed drop, bit 3
// keepalives (OPTIONS) on, bit 7 "wrap": the rest is a SIP payload put behind valid
// Ethernet/IPv4 (or IPv6 with bit 4, VLAN with bit 5)/UDP headers, else the rest is the frame.
#include <farend/net/checksum.hpp>
#include <farend/net/frame.hpp>
#include <farend/pipeline/worker.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace farend;
using namespace farend::pipeline;

namespace {

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

class EveryoneKnown final : public FlowDirectory {
public:
    bool known(const flow::Key&) const noexcept override { return true; }
};

std::vector<uint8_t> wrap(const uint8_t* p, std::size_t n, bool v6, bool vlan, bool from_switch) {
    std::vector<uint8_t> f(12, 0x02);
    if (vlan) f.insert(f.end(), {0x81, 0x00, 0x00, 0x64});
    f.insert(f.end(), {static_cast<uint8_t>(v6 ? 0x86 : 0x08), static_cast<uint8_t>(v6 ? 0xdd : 0x00)});
    const std::size_t l3 = f.size();
    const uint32_t udp_len = static_cast<uint32_t>(8 + n);
    const IpAddr src = v6 ? *IpAddr::parse("2001:db8::5") : *IpAddr::parse("203.0.113.5");
    const IpAddr dst = v6 ? *IpAddr::parse("2001:db8::10") : *IpAddr::parse("198.51.100.10");
    if (v6) {
        f.insert(f.end(), {0x60, 0, 0, 0, static_cast<uint8_t>(udp_len >> 8), static_cast<uint8_t>(udp_len), 17, 64});
        f.insert(f.end(), src.bytes().begin(), src.bytes().end());
        f.insert(f.end(), dst.bytes().begin(), dst.bytes().end());
    } else {
        const uint32_t total = 20 + udp_len;
        f.insert(f.end(), {0x45, 0, static_cast<uint8_t>(total >> 8), static_cast<uint8_t>(total), 0, 1, 0, 0, 64, 17, 0, 0});
        f.insert(f.end(), src.bytes().begin(), src.bytes().begin() + 4);
        f.insert(f.end(), dst.bytes().begin(), dst.bytes().begin() + 4);
        net::fix_ipv4_header_checksum(f.data() + l3, 20);
    }
    const std::size_t l4 = f.size();
    const uint16_t sport = from_switch ? 5060 : 40000;
    f.insert(f.end(), {static_cast<uint8_t>(sport >> 8), static_cast<uint8_t>(sport), 0x13, 0xc4,
                       static_cast<uint8_t>(udp_len >> 8), static_cast<uint8_t>(udp_len), 0, 0});
    f.insert(f.end(), p, p + n);
    net::fix_udp_checksum(src, dst, f.data() + l4, udp_len, false);
    return f;
}

void check_valid(const uint8_t* f, uint32_t len) {
    net::FrameView v;
    if (net::parse_frame(f, len, v) != net::FrameStatus::udp) die("a changed frame does not parse as UDP");
    if (v.ip_end != len) die("a changed frame's IP length is not its length");
    if (!v.ipv6 && net::ones_sum(f + v.l3_off, (f[v.l3_off] & 0xfu) * 4u) != 0xffff) die("IPv4 header checksum");
    const uint32_t udp_len = net::load_be16(f + v.l4_off + 4);
    if (net::load_be16(f + v.l4_off + 6) != 0 || v.ipv6) {
        const std::size_t alen = v.ipv6 ? 16 : 4;
        uint32_t s = net::ones_sum(v.src.bytes().data(), alen) + net::ones_sum(v.dst.bytes().data(), alen) + 17u + udp_len +
                     net::ones_sum(f + v.l4_off, udp_len);
        while (s >> 16) s = (s & 0xffff) + (s >> 16);
        if (s != 0xffff) die("UDP checksum");
    }
}

EveryoneKnown directory;

// The frame twice in a burst of four, each copy after a sound message of another kind: a worker
// reads a burst's messages kind by kind, and each copy must get the verdict and bytes the frame
// got alone (action `a`, out[0, len)).
void same_in_a_burst(const std::vector<uint8_t>& in, const Config& cfg, Direction dir, uint8_t opt, Action a,
                     const uint8_t* out, uint32_t len) {
    static const std::string kOthers[2] = {
        "REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.2:5060;branch=z9hG4bK1\r\n"
        "Contact: <sip:a@192.168.1.2:5060>\r\nContent-Length: 0\r\n\r\n",
        "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK2\r\nContent-Length: 0\r\n\r\n"};
    Worker w(cfg);
    w.set_flow_directory(&directory);
    std::vector<uint8_t> bufs[4];
    Frame frames[4];
    Action actions[4];
    for (int i = 0; i < 4; ++i) {
        const std::string& other = kOthers[i / 2];
        bufs[i] = i % 2 ? in : wrap(reinterpret_cast<const uint8_t*>(other.data()), other.size(), false, false, opt & 1);
        const auto n = static_cast<uint32_t>(bufs[i].size());
        bufs[i].resize(n + 2048);
        frames[i] = Frame{bufs[i].data(), n, static_cast<uint32_t>(bufs[i].size()), false, 0};
    }
    w.process_burst(frames, actions, 4, dir);
    for (int i : {1, 3})
        if (actions[i] != a || frames[i].len != len || (len && std::memcmp(bufs[i].data(), out, len) != 0))
            die("a frame in a burst got another verdict or other bytes than alone");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const uint8_t opt = data[0];
    Config cfg;
    if (opt & 2) cfg.rewrite.rewrite.contact_mode = rewrite::ContactMode::alias;
    if (opt & 4) cfg.malformed = MalformedAction::drop;
    if (opt & 8) cfg.keepalive_interval = 30;
    const Direction dir = (opt & 1) ? Direction::core_to_access : Direction::access_to_core;
    Worker w(cfg);
    w.set_flow_directory(&directory);

    std::vector<uint8_t> in = (opt & 0x80) ? wrap(data + 1, size - 1, opt & 0x10, opt & 0x20, opt & 1)
                                           : std::vector<uint8_t>(data + 1, data + size);
    {
        net::FrameView a, b;
        const auto len = static_cast<uint32_t>(in.size());
        const net::FrameStatus sa = net::parse_frame(in.data(), len, a), sb = net::detail::parse_frame_general(in.data(), len, b);
        if (sa != sb) die("parse_frame's short cut gave a status of its own");
        if (sa == net::FrameStatus::udp &&
            (a.vlan_tags != b.vlan_tags || a.l3_off != b.l3_off || a.l4_off != b.l4_off || a.ip_end != b.ip_end ||
             a.ipv6 != b.ipv6 || a.src != b.src || a.dst != b.dst || a.src_port != b.src_port || a.dst_port != b.dst_port))
            die("parse_frame's short cut gave a view of its own");
    }
    // The buffer: the frame, then room to grow (as an mbuf's tailroom).
    const uint32_t cap = static_cast<uint32_t>(in.size() + 2048);
    std::unique_ptr<uint8_t[]> buf(new uint8_t[cap]);
    if (!in.empty()) std::memcpy(buf.get(), in.data(), in.size());
    Frame f{buf.get(), static_cast<uint32_t>(in.size()), cap, false, 0};
    const Action a = w.process(f, dir);
    if (f.len > cap) die("the frame grew past its buffer");
    same_in_a_burst(in, cfg, dir, opt, a, buf.get(), f.len);
    const Counters& c = w.counters();
    if (a == Action::drop) {
        const bool counted = c.get(Counter::drop_malformed) + c.get(Counter::keepalive_answers) == 1;
        if (!counted) die("a drop that no counter explains");
        if (c.get(Counter::drop_malformed) && !(opt & 4)) die("malformed dropped without --malformed drop");
        return 0;
    }
    if (a != Action::forward) die("grow without may_grow");
    if (f.len == in.size() && (in.empty() || std::memcmp(buf.get(), in.data(), in.size()) == 0)) return 0;  // unchanged
    // Changed: it came sound (a damaged datagram is forwarded as it came, never rewritten).
    net::FrameView iv;
    if (net::parse_frame(in.data(), static_cast<uint32_t>(in.size()), iv) != net::FrameStatus::udp ||
        !net::checksums_valid(in.data(), iv))
        die("a frame changed that came with wrong checksums");
    check_valid(buf.get(), f.len);
    net::FrameView v;
    if (net::parse_frame(buf.get(), f.len, v) != net::FrameStatus::udp) die("a changed frame does not parse");
    if (std::memcmp(buf.get(), in.data(), v.l3_off) != 0) die("the L2 header changed");
    if (c.get(Counter::rewritten) + c.get(Counter::alias_retargeted) != 1) die("a frame changed that no counter explains");
    return 0;
}
