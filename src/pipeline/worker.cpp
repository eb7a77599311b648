#include <farend/pipeline/worker.hpp>

#include <algorithm>

namespace farend::pipeline {

Worker::Worker(const Config& config, const simd::Kernel& kernel)
    : config_(config),
      sip_ports_(config.sip_port_set()),
      processor_(config.rewrite, kernel),
      counters_(std::make_unique<Counters>()) {}

void Worker::observe(const Frame& f, const net::FrameView& v, const rewrite::Result& r, std::size_t slot) noexcept {
    flow::Observation& o = observations_[slot];
    o.src = v.src;
    o.dst = v.dst;
    o.src_port = v.src_port;
    o.dst_port = v.dst_port;
    o.vlan = v.vlan_tags ? static_cast<uint16_t>(((f.data[14] << 8) | f.data[15]) & 0x0fff) : 0;
    std::copy(f.data + 6, f.data + 12, o.src_mac.begin());
    std::copy(f.data, f.data + 6, o.dst_mac.begin());
    o.fired = r.verdict.fired;
    o.rewritten = r.outcome == rewrite::Outcome::rewritten;
    o.is_register = processor_.index().start.is_request && processor_.index().start.method_id == sip::Method::register_;
    o.bytes = f.len;
    o.agent = IpAddr{};
    const sip::MessageParts& parts = processor_.parts();
    if (parts.has_top_via && (parts.top_via.sent_by.kind == sip::HostKind::ipv4 || parts.top_via.sent_by.kind == sip::HostKind::ipv6)) {
        o.agent = parts.top_via.sent_by.ip;
    } else {
        for (uint8_t i = 0; i < parts.contact_count && !o.agent.valid(); ++i)
            if (parts.contacts[i].valid && parts.contacts[i].uri.host.ip.valid()) o.agent = parts.contacts[i].uri.host.ip;
    }
}

void Worker::process_burst(Frame* frames, Action* actions, uint16_t n, Direction dir) noexcept {
    std::array<net::FrameView, kMaxBurst> views;
    std::array<uint16_t, kMaxBurst> sip;
    uint16_t candidates = 0;
    for (uint16_t i = 0; i < n; ++i)  // stage 1: classify the whole burst
        if (classify(frames[i], dir, views[i], actions[i])) sip[candidates++] = i;
    for (uint16_t k = 0; k < candidates; ++k)  // stage 2: the SIP candidates
        actions[sip[k]] = handle_sip(frames[sip[k]], views[sip[k]], sip[k]);
}

Action Worker::process(Frame& f, Direction dir) noexcept {
    Action a = Action::forward;
    process_burst(&f, &a, 1, dir);
    return a;
}

bool Worker::classify(Frame& f, Direction dir, net::FrameView& v, Action& action) noexcept {
    Counters& c = *counters_;
    f.observed = false;
    f.offloaded = false;
    action = Action::forward;
    if (dir == Direction::core_to_access) {
        // The switch's side: forwarded as it is (alias re-targeting comes with the reverse path).
        c.add(Counter::core_to_access);
        c.add(Counter::passed_unmodified);
        return false;
    }
    switch (net::parse_frame(f.data, f.len, v)) {
        case net::FrameStatus::udp:
            break;
        case net::FrameStatus::not_ip:
        case net::FrameStatus::not_udp:
            c.add(Counter::not_udp);
            c.add(Counter::passed_unmodified);
            return false;
        case net::FrameStatus::fragment:  // the dataplane reassembles first: only core-side ones get here
            c.add(Counter::passed_unmodified);
            return false;
        default:
            c.add(Counter::bad_frames);
            c.add(Counter::passed_unmodified);
            return false;
    }
    if (!sip_ports_.test(v.dst_port)) {
        c.add(Counter::passed_unmodified);
        return false;
    }
    return true;
}

Action Worker::handle_sip(Frame& f, const net::FrameView& v, std::size_t slot) noexcept {
    Counters& c = *counters_;
    char* sip = reinterpret_cast<char*>(f.data + v.payload_off());
    const uint32_t room = f.capacity - v.payload_off();
    const rewrite::Result r = processor_.process(sip, v.payload_len(), room, nat::Source{v.src, v.src_port});
    if (r.outcome == rewrite::Outcome::no_room && f.may_grow) {
        f.needed = f.capacity + r.needed;
        return Action::grow;  // the message is untouched; it comes back in a larger buffer
    }
    c.add(Counter::sip_messages);
    if (r.outcome == rewrite::Outcome::malformed) {
        c.add(Counter::malformed);
        c.malformed(r.error);
        if (config_.malformed == MalformedAction::drop) {
            c.add(Counter::drop_malformed);
            c.add(Counter::dropped);
            return Action::drop;
        }
        c.add(Counter::passed_unmodified);
        return Action::forward;
    }
    observe(f, v, r, slot);
    f.observed = true;
    if (r.verdict.nated()) {
        c.add(Counter::nat_detected);
        for (std::size_t t = 0; t < nat::kTestCount; ++t)
            if (r.verdict.fired & nat::bit(static_cast<nat::Test>(t))) c.nat(static_cast<nat::Test>(t));
        if (r.summary.contacts_skipped) c.add(Counter::contacts_skipped);
    }
    switch (r.outcome) {
        case rewrite::Outcome::rewritten: {
            c.add(Counter::rewritten);
            // Checksums go to the port only when the datagram leaves whole (no fragmentation).
            const bool offload = f.offload && v.l4_off + 8u + r.size - v.l3_off <= config_.mtu;
            bool udp_offloaded = false;
            f.len = net::fix_after_resize(f.data, v, r.size, offload, &udp_offloaded);
            if (offload) {
                f.offloaded = true;
                f.offload_ipv6 = v.ipv6;
                f.offload_udp = udp_offloaded;
                f.offload_l2 = v.l3_off;
                f.offload_l3 = static_cast<uint16_t>(v.l4_off - v.l3_off);
            }
            return Action::forward;
        }
        case rewrite::Outcome::unchanged:
            c.add(Counter::nat_unchanged);
            break;
        case rewrite::Outcome::no_room:
            c.add(Counter::rewrite_no_room);
            break;
        case rewrite::Outcome::plan_error:
            c.add(Counter::rewrite_plan_error);
            break;
        default:
            break;
    }
    c.add(Counter::passed_unmodified);
    return Action::forward;
}

}  // namespace farend::pipeline
