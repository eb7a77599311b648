#include <farend/flow/flow.hpp>

namespace farend::flow {

void Entry::start(const Observation& o, uint64_t now) noexcept {
    *this = Entry{};
    key = Key::of(o.src, o.src_port, o.vlan);
    first_seen = now;
    update(o, now);
}

void Entry::update(const Observation& o, uint64_t now) noexcept {
    ++packets;
    bytes += o.bytes;
    unanswered = 0;  // it is alive
    if (o.keepalive_answer) {  // the answer says nothing of the agent's NAT or its messages
        last_answer = now;
        ++answers;
        return;
    }
    last_seen = now;
    if (o.rewritten) ++rewritten;
    if (o.is_register) last_register = now;
    last_verdict = o.fired;
    nated = o.fired != 0;
    nat_seen = nat_seen || nated;
    if (o.agent.valid()) private_addr = o.agent;
    peer = o.dst;
    peer_port = o.dst_port;
    ingress_port = o.ingress_port;
    macs = o.macs;
}

}  // namespace farend::flow
