#include <farend/pipeline/worker.hpp>

#include <algorithm>
#include <bit>
#include <cstring>

namespace farend::pipeline {

namespace {

// The outer VLAN id of a frame (0 when untagged): part of a flow's key.
uint16_t outer_vlan(const Frame& f, const net::FrameView& v) noexcept {
    return v.vlan_tags ? static_cast<uint16_t>(((f.data[14] << 8) | f.data[15]) & 0x0fff) : 0;
}

// What every observation says of the frame: addresses, ports, VLAN, size.
void observe_frame(flow::Observation& o, const Frame& f, const net::FrameView& v) noexcept {
    o.src = v.src;
    o.dst = v.dst;
    o.src_port = v.src_port;
    o.dst_port = v.dst_port;
    o.vlan = outer_vlan(f, v);
    o.bytes = f.len;
}

}  // namespace

Worker::Worker(const Config& config, const simd::Kernel& kernel)
    : config_(config),
      sip_ports_(config.sip_port_set()),
      processor_(config.rewrite, kernel),
      counters_(std::make_unique<Counters>()),
      reverse_alias_(config.rewrite.rewrite.contact_mode == rewrite::ContactMode::alias),
      keepalive_answers_(config.keepalive_interval > 0 && config.keepalive_method == KeepaliveMethod::options),
      verify_checksums_(config.verify_checksums) {}

bool Worker::keepalive_answer(Frame& f, const net::FrameView& v, std::size_t slot) noexcept {
    const char* sip = reinterpret_cast<const char*>(f.data + v.payload_off());
    const std::string_view msg(sip, v.payload_len());
    // Cheap filter first: only responses that hold the branch anywhere are parsed.
    if (!msg.starts_with("SIP/2.0 ") || msg.find(kKeepaliveBranch) == std::string_view::npos ||
        !processor_.is_response_to(sip, v.payload_len(), kKeepaliveBranch, checksums_[slot]))
        return false;
    counters_->add(Counter::keepalive_answers);
    flow::Observation& o = observations_[slot];
    o = flow::Observation{};
    observe_frame(o, f, v);
    o.keepalive_answer = true;
    f.observed = true;
    return true;
}

void Worker::observe(const Frame& f, const net::FrameView& v, const rewrite::Result& r, std::size_t slot) noexcept {
    flow::Observation& o = observations_[slot];
    observe_frame(o, f, v);
    std::memcpy(o.macs.data(), f.data, 12);  // both MACs as they lie in the frame: two moves
    o.fired = r.verdict.fired;
    o.rewritten = r.outcome == rewrite::Outcome::rewritten;
    o.is_register = processor_.index().start.is_request && processor_.index().start.method_id == sip::Method::register_;
    o.keepalive_answer = false;  // the slot may hold an answer's observation from an earlier burst
    o.agent = IpAddr{};
    const sip::MessageParts& parts = processor_.parts();
    if (parts.has_top_via && (parts.top_via.sent_by.kind == sip::HostKind::ipv4 || parts.top_via.sent_by.kind == sip::HostKind::ipv6)) {
        o.agent = parts.top_via.sent_by.ip;
    } else {
        for (uint8_t i = 0; i < parts.contact_count && !o.agent.valid(); ++i)
            if (parts.contacts[i].valid && parts.contacts[i].uri.host.ip.valid()) o.agent = parts.contacts[i].uri.host.ip;
    }
}

bool Worker::reads_core_side() const noexcept {
    return reads_core_side(rules_ ? rules_->load(std::memory_order_acquire) : nullptr);
}

bool Worker::reads_core_side(const rewrite::PolicySource* rules) const noexcept {
    return reverse_alias_ || (rules && rules->uses_alias());
}

void Worker::process_burst(Frame* frames, Action* actions, uint16_t n, Direction dir) noexcept {
    burst_rules_ = rules_ ? rules_->load(std::memory_order_acquire) : nullptr;
    std::array<uint16_t, kMaxBurst> sip;
    uint16_t candidates = 0;
    for (uint16_t i = 0; i < n; ++i)  // stage 1: classify the whole burst
        if (classify(frames[i], dir, views_[i], checksums_[i], actions[i])) sip[candidates++] = i;
    if (candidates > 2) order_by_kind(frames, sip.data(), candidates);
    for (uint16_t k = 0; k < candidates; ++k)  // stage 2: the SIP candidates
        actions[sip[k]] = dir == Direction::access_to_core ? handle_sip(frames[sip[k]], views_[sip[k]], sip[k])
                                                           : handle_reverse(frames[sip[k]], views_[sip[k]]);
    // Stage 3: the rewritten frames' lengths and checksums. Summed right after its rewrite, a
    // payload's loads most likely waited on the rewrite's stores still in flight: the shifted
    // bytes' stores do not line up with the sum's loads, so none is forwarded. Here, -2% cycles
    // a packet (perf/RESULTS.md, the thirty-third session).
    for (uint64_t m = to_finish_; m; m &= m - 1) {
        const auto i = static_cast<unsigned>(std::countr_zero(m));
        finish(frames[i], views_[i], finish_size_[i], verify_checksums_);
    }
    to_finish_ = 0;
}

void Worker::order_by_kind(const Frame* frames, uint16_t* sip, uint16_t n) const noexcept {
    // A counting sort by kind class: stable, so a class keeps the burst's order.
    uint8_t cls[kMaxBurst];
    uint8_t start[kKindClasses + 1] = {};
    for (uint16_t k = 0; k < n; ++k) {
        const net::FrameView& v = views_[sip[k]];
        cls[k] = kind_class(frames[sip[k]].data + v.payload_off(), v.payload_len());
        ++start[cls[k] + 1];
    }
    for (unsigned c = 1; c <= kKindClasses; ++c) start[c] = static_cast<uint8_t>(start[c] + start[c - 1]);
    uint16_t sorted[kMaxBurst];
    for (uint16_t k = 0; k < n; ++k) sorted[start[cls[k]]++] = sip[k];
    std::memcpy(sip, sorted, n * sizeof sip[0]);
}

Action Worker::process(Frame& f, Direction dir) noexcept {
    Action a = Action::forward;
    process_burst(&f, &a, 1, dir);
    return a;
}

bool Worker::classify(Frame& f, Direction dir, net::FrameView& v, rewrite::UdpChecksum& checksum, Action& action) noexcept {
    Counters& c = *counters_;
    f.observed = false;
    f.offloaded = false;
    checksum.pending = false;  // the access side's damaged() says what is left for the parse
    action = Action::forward;
    if (dir == Direction::core_to_access) {
        // The switch's side: forwarded as it is, but for requests to an alias (alias mode).
        c.add(Counter::core_to_access);
        if (!reads_core_side(burst_rules_)) {
            c.add(Counter::passed_unmodified);
            return false;
        }
        const net::FrameStatus status = net::parse_frame(f.data, f.len, v);
        if (status != net::FrameStatus::udp || !sip_ports_.test(v.src_port)) {
            // Read for aliases, a frame whose headers do not hold is counted as on the access side.
            if (net::headers_broken(status)) c.add(Counter::bad_frames);
            c.add(Counter::passed_unmodified);
            return false;
        }
        return !damaged(f, v);
    }
    switch (net::parse_frame(f.data, f.len, v)) {
        case net::FrameStatus::udp:
            break;
        case net::FrameStatus::not_ip:
        case net::FrameStatus::not_udp:
            c.add(Counter::not_udp);
            c.add(Counter::passed_unmodified);
            return false;
        case net::FrameStatus::fragment:
            // The dataplane reassembles an access port's fragments first (rte_ip_frag); only the
            // IPv6 pieces whose fragment header follows other extension headers, which rte_ip_frag
            // cannot put together, come here: forwarded as they came, and counted as what they are.
            c.add(Counter::fragments);
            c.add(Counter::fragments_passed);
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
    return !damaged(f, v, checksum);
}

bool Worker::damaged(const Frame& f, const net::FrameView& v) noexcept {
    if (!verify_checksums_ || net::checksums_valid(f.data, v, f.udp_checksum_good)) [[likely]]
        return false;
    return damaged_counted();
}

bool Worker::damaged(const Frame& f, const net::FrameView& v, rewrite::UdpChecksum& payload) noexcept {
    if (!verify_checksums_) return false;
    const net::ChecksumStage stage = net::checksums_before_payload(f.data, v, f.udp_checksum_good, payload.header_sum);
    payload.pending = stage == net::ChecksumStage::payload;
    if (stage != net::ChecksumStage::bad) [[likely]]
        return false;
    return damaged_counted();
}

bool Worker::damaged_counted() noexcept {
    counters_->add(Counter::bad_checksum);
    counters_->add(Counter::passed_unmodified);
    return true;
}

void Worker::finish(Frame& f, const net::FrameView& v, uint32_t size, bool header_verified) const noexcept {
    // Checksums go to the port only when the datagram leaves whole (no fragmentation).
    const bool offload = f.offload && v.l4_off + 8u + size - v.l3_off <= config_.mtu;
    bool udp_offloaded = false;
    f.len = net::fix_after_resize(f.data, v, size, offload, &udp_offloaded, header_verified);
    if (offload) {
        f.offloaded = true;
        f.offload_ipv6 = v.ipv6;
        f.offload_udp = udp_offloaded;
        f.offload_l2 = v.l3_off;
        f.offload_l3 = static_cast<uint16_t>(v.l4_off - v.l3_off);
    }
}

Action Worker::handle_reverse(Frame& f, const net::FrameView& v) noexcept {
    Counters& c = *counters_;
    char* sip = reinterpret_cast<char*>(f.data + v.payload_off());
    const uint32_t size = v.payload_len();
    auto leave = [&c](Counter why) {  // forwarded as it came, counted under why
        c.add(why);
        c.add(Counter::passed_unmodified);
        return Action::forward;
    };
    rewrite::AliasTarget t;
    switch (processor_.find_alias(sip, size, t)) {
        case rewrite::AliasStatus::none:
            c.add(Counter::passed_unmodified);
            return Action::forward;
        case rewrite::AliasStatus::bad:
            return leave(Counter::alias_bad);
        case rewrite::AliasStatus::found:
            break;
    }
    // An IPv4 packet cannot be sent to an IPv6 alias, nor back.
    if (t.ip.is_v6() != v.ipv6) return leave(Counter::alias_bad);
    // Stale, or forged: never seen from the access side.
    if (!directory_ || !directory_->known(flow::Key::of(t.ip, t.port, outer_vlan(f, v)))) return leave(Counter::alias_unknown);
    // The parameter goes; the body and Content-Length are untouched (the Request-URI is before them).
    std::memmove(sip + t.param.off, sip + t.param.end(), size - t.param.end());
    const uint32_t new_size = size - t.param.len;
    // Destination address and port: the agent's public one. L2 stays as it came.
    net::FrameView to = v;
    to.dst = t.ip;
    to.dst_port = t.port;
    const auto& b = t.ip.bytes();
    if (v.ipv6)
        std::memcpy(f.data + v.l3_off + 24, b.data(), 16);
    else
        std::memcpy(f.data + v.l3_off + 16, b.data(), 4);
    f.data[v.l4_off + 2] = static_cast<uint8_t>(t.port >> 8);
    f.data[v.l4_off + 3] = static_cast<uint8_t>(t.port);
    finish(f, to, new_size, false);  // its destination changed: the header is summed anew
    c.add(Counter::alias_retargeted);
    return Action::forward;
}

Action Worker::handle_sip(Frame& f, const net::FrameView& v, std::size_t slot) noexcept {
    Counters& c = *counters_;
    if (keepalive_answers_ && keepalive_answer(f, v, slot)) return Action::drop;
    char* sip = reinterpret_cast<char*>(f.data + v.payload_off());
    const uint32_t room = f.capacity - v.payload_off();
    const rewrite::Result r =
        processor_.process(sip, v.payload_len(), room, nat::Source{v.src, v.src_port}, burst_rules_, index_, checksums_[slot]);
    if (r.outcome == rewrite::Outcome::bad_checksum) {
        damaged_counted();
        return Action::forward;
    }
    if (r.outcome == rewrite::Outcome::no_room && f.may_grow) {
        f.needed = f.capacity + r.needed;
        return Action::grow;  // the message is untouched; it comes back in a larger buffer
    }
    c.add(Counter::sip_messages);
    if (r.outcome == rewrite::Outcome::malformed) {
        c.add(Counter::malformed);
        c.malformed(r.error);
        // Only CRLFs, white space or zero bytes (RFC 5626 4.4.1; four zero bytes are common too),
        // or a STUN message (RFC 5626 4.4.2), is an agent's keepalive, not broken SIP: it is
        // forwarded whatever --malformed says.
        if (config_.malformed == MalformedAction::drop && !sip::is_keepalive(r.error)) {
            c.add(Counter::drop_malformed);
            c.add(Counter::dropped);
            return Action::drop;
        }
        c.add(Counter::passed_unmodified);
        return Action::forward;
    }
    if (r.ruled) c.add(Counter::rule_matched);
    if (r.outcome == rewrite::Outcome::rule_drop) {
        c.add(Counter::drop_rule);
        c.add(Counter::dropped);
        return Action::drop;
    }
    if (r.outcome == rewrite::Outcome::rule_never) {
        c.add(Counter::rule_never);
        c.add(Counter::passed_unmodified);
        return Action::forward;
    }
    observe(f, v, r, slot);
    f.observed = true;
    if (r.forced) c.add(Counter::rule_forced);
    if (r.verdict.nated()) {
        c.add(Counter::nat_detected);
        c.verdict(r.verdict.fired);  // each test's counter is made from these (Counters::settle)
        if (r.summary.contacts_skipped) c.add(Counter::contacts_skipped);
        if (r.summary.sdp_skipped) [[unlikely]] c.add(Counter::sdp_skipped);
    }
    switch (r.outcome) {
        case rewrite::Outcome::rewritten:
            c.add(Counter::rewritten);
            finish_size_[slot] = r.size;  // finished by process_burst() after the burst's last candidate
            to_finish_ |= uint64_t{1} << slot;
            return Action::forward;
        case rewrite::Outcome::unchanged:
            c.add(Counter::nat_unchanged);
            break;
        case rewrite::Outcome::no_room:
            c.add(Counter::rewrite_no_room);
            break;
        case rewrite::Outcome::plan_error:
            c.add(Counter::rewrite_plan_error);
            break;
        case rewrite::Outcome::too_many_edits:
            c.add(Counter::rewrite_too_many_edits);
            break;
        default:
            break;
    }
    c.add(Counter::passed_unmodified);
    return Action::forward;
}

}  // namespace farend::pipeline
