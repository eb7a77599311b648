// A worker lcore's polling loop: bursts from each path's input port, whole frames (reassembly,
// linearisation), pipeline::Worker, the flow table, transmit (cut into fragments past the MTU),
// and between bursts the TX drain, ageing, keepalives and fragments that timed out.
#define ALLOW_EXPERIMENTAL_API 1  // rte_ip_frag_table_del_expired_entries (see expire_fragments)
#include "worker_loop.hpp"

#include <farend/dataplane/dataplane.hpp>
#include <farend/net/frame.hpp>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstring>

namespace farend::dataplane {

namespace {

constexpr uint64_t kTxDrainUs = 100;
constexpr uint16_t kMaxFragmentsOut = 64;
// Flow table: sources tracked per worker (--flow-capacity), aged out after 10 minutes without a
// SIP message; the ageing looks at kAgeBudget slots every kAgeEvery poll loops.
constexpr uint64_t kFlowIdleSeconds = 600;
constexpr uint32_t kAgeEvery = 1024, kAgeBudget = 256;
// NAT keepalives: every kKeepaliveEvery loops the worker looks at kKeepaliveBudget flow slots
// (a pass over the table takes ~1-30 ms, so pings are that close to their time).
constexpr uint32_t kKeepaliveEvery = 8, kKeepaliveBudget = 512;

// Length of the Ethernet header and its VLAN tags, and the ethertype after them (0 and 0 when
// the frame ends inside them).
uint16_t l2_of(const rte_mbuf* m, uint16_t& ethertype) {
    uint16_t tags = 0;
    const uint32_t l2 = net::l2_header(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, ethertype, tags);
    if (l2 == 0) ethertype = 0;
    return static_cast<uint16_t>(l2);
}

// The usual frame: untagged IPv4 with neither MF nor an offset, told from its bytes 12-13
// (ethertype) and 20-21 (flags and offset) in one test, without the call to l2_header (~40
// instructions a packet). Such a frame needs no reassembly.
inline bool unfragmented_ipv4(const rte_mbuf* m) {
    if (m->data_len < 14 + sizeof(rte_ipv4_hdr)) return false;
    return net::plain_ipv4(rte_pktmbuf_mtod(m, const uint8_t*));
}

// The input port's word on the frame's UDP checksum (RX offload): right.
inline bool port_checksum_good(const rte_mbuf* m) {
    return (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
}

// Fragments go into the worker's table. Returns the frame to go on with: m itself when it is no
// fragment, the whole datagram (a chain of the fragments) when m completed one, nullptr when m
// is held until the rest arrives (or was dropped into the death row). Out of line: the usual
// frame does not come here (unfragmented_ipv4). Inlined, its early return of the usual frame
// joined the worker loop's path for the other direction, never taken in training, and GCC 12's
// profile-guided build (jump threading and dead-code removal after the inlining) left that join
// with a count of 0: the rest of the loop, flow table and transmit included, ran from .cold.
[[gnu::noinline]] rte_mbuf* reassemble(rte_mbuf* m, WorkerState& ws, uint64_t now, pipeline::Counters& c, bool& whole) {
    whole = false;
    uint16_t type = 0;
    const uint16_t l2 = l2_of(m, type);
    if (type == 0x0800 && m->data_len >= l2 + sizeof(rte_ipv4_hdr)) {
        auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, l2);
        if (!rte_ipv4_frag_pkt_is_fragmented(ip)) return m;
        c.add(pipeline::Counter::fragments);
        m->tx_offload = rte_mbuf_tx_offload(l2, (ip->version_ihl & 0xfu) * 4u, 0, 0, 0, 0, 0);  // l2_len, l3_len
        rte_mbuf* d = rte_ipv4_frag_reassemble_packet(ws.frag_table, &ws.death_row, m, now, ip);
        if (d) {
            // The library fixes length and offset; the header checksum is for us.
            auto* dip = rte_pktmbuf_mtod_offset(d, rte_ipv4_hdr*, d->l2_len);
            dip->hdr_checksum = 0;
            dip->hdr_checksum = rte_ipv4_cksum(dip);
            whole = true;
        }
        return d;
    }
    if (type == 0x86dd && m->data_len >= l2 + sizeof(rte_ipv6_hdr) + sizeof(rte_ipv6_fragment_ext)) {
        auto* ip6 = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, l2);
        rte_ipv6_fragment_ext* fh = rte_ipv6_frag_get_ipv6_fragment_header(ip6);
        if (!fh) return m;
        // An atomic fragment (offset 0, M clear) is a whole datagram, to be processed on its own
        // (RFC 6946 4): rte_ip_frag would hold it for a last piece that never comes, until it
        // timed out and went on unread. The frame reader takes its fragment header as it takes
        // the other extension headers.
        if (net::ipv6_atomic_fragment(reinterpret_cast<const uint8_t*>(fh))) return m;
        c.add(pipeline::Counter::fragments);
        m->tx_offload = rte_mbuf_tx_offload(l2, sizeof(rte_ipv6_hdr) + sizeof(rte_ipv6_fragment_ext), 0, 0, 0, 0, 0);
        rte_mbuf* d = rte_ipv6_frag_reassemble_packet(ws.frag_table, &ws.death_row, m, now, ip6, fh);
        whole = d != nullptr;
        return d;
    }
    return m;
}

// Sends m, a frame larger than 14 + mtu bytes (the worker loop sends the others itself), cut into
// fragments of at most mtu bytes of IP datagram when its datagram is larger (IPv4 with DF set is
// sent whole and counted). Returns the number of frames queued. Out of line: inlined, its early
// returns met the usual frame's path in a join that GCC's profile-guided build counted as never
// run, and the rest of the loop's body went to .cold (jumps there and back every packet).
[[gnu::noinline]] uint16_t send_large(rte_mbuf* m, uint16_t port, uint16_t queue, rte_eth_dev_tx_buffer* txb,
                                      uint16_t mtu, rte_mempool* direct, rte_mempool* indirect, pipeline::Counters& c) {
    uint16_t type = 0;
    const uint16_t l2 = l2_of(m, type);
    const bool v4 = type == 0x0800, v6 = type == 0x86dd;
    if ((!v4 && !v6) || m->pkt_len <= l2 + mtu) {
        rte_eth_tx_buffer(port, queue, txb, m);
        return 1;
    }
    // Sent whole, as it came: IPv4 with DF set, and a frame whose IP length is not its own (cut
    // short on the way: af_packet's frame size), which cut into pieces would make a datagram of
    // what is left.
    const auto* ip4 = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, l2);
    const uint32_t ip_len = v4 ? rte_be_to_cpu_16(ip4->total_length)
                               : sizeof(rte_ipv6_hdr) + rte_be_to_cpu_16(rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, l2)->payload_len);
    if ((v4 && (ip4->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG))) || ip_len != m->pkt_len - l2) {
        c.add(pipeline::Counter::oversize_tx);
        rte_eth_tx_buffer(port, queue, txb, m);
        return 1;
    }
    uint8_t l2hdr[32];
    std::memcpy(l2hdr, rte_pktmbuf_mtod(m, const uint8_t*), l2);
    rte_pktmbuf_adj(m, l2);  // the fragmenters want the IP header first
    rte_mbuf* frags[kMaxFragmentsOut];
    const int32_t n = v4 ? rte_ipv4_fragment_packet(m, frags, kMaxFragmentsOut, mtu, direct, indirect)
                         : rte_ipv6_fragment_packet(m, frags, kMaxFragmentsOut, mtu, direct, indirect);
    rte_pktmbuf_free(m);
    if (n <= 0) {
        c.add(pipeline::Counter::drop_fragmentation);
        c.add(pipeline::Counter::dropped);
        return 0;
    }
    c.add(pipeline::Counter::refragmented);
    uint16_t sent = 0;
    for (int32_t i = 0; i < n; ++i) {
        char* h = rte_pktmbuf_prepend(frags[i], l2);
        if (!h) {
            rte_pktmbuf_free(frags[i]);
            c.add(pipeline::Counter::drop_fragmentation);
            c.add(pipeline::Counter::dropped);
            continue;
        }
        std::memcpy(h, l2hdr, l2);
        if (v4) {
            auto* ip = rte_pktmbuf_mtod_offset(frags[i], rte_ipv4_hdr*, l2);
            ip->hdr_checksum = 0;
            ip->hdr_checksum = rte_ipv4_cksum(ip);
        }
        rte_eth_tx_buffer(port, queue, txb, frags[i]);
        ++sent;
    }
    return sent;
}

// A copy of m in one jumbo mbuf (m is freed), or nullptr when none is free or it would not fit.
rte_mbuf* to_jumbo(rte_mbuf* m, rte_mempool* jumbo) {
    if (m->pkt_len > kJumboRoom - RTE_PKTMBUF_HEADROOM) return nullptr;
    rte_mbuf* j = rte_pktmbuf_alloc(jumbo);
    if (!j) return nullptr;
    char* dst = rte_pktmbuf_append(j, static_cast<uint16_t>(m->pkt_len));
    const void* src = rte_pktmbuf_read(m, 0, m->pkt_len, dst);
    if (src != dst) std::memcpy(dst, src, m->pkt_len);
    j->port = m->port;
    rte_pktmbuf_free(m);
    return j;
}

// Fragments the reassembly gave up on (more than RTE_LIBRTE_IP_FRAG_MAX_FRAG pieces, timed out,
// overlapping, or no room in the table): rte_ip_frag has left them as they arrived, so they go on
// to the other port of their pair unmodified (fragments_passed) for the receiver to reassemble or
// discard; a bump in the wire does not drop a datagram it cannot read. Only a half-assembled
// chain, or a fragment from a port in no pair, is freed (drop_fragments).
void pass_death_row(WorkerState& ws, const std::vector<int32_t>& peer_of, pipeline::Counters& c) {
    for (uint32_t i = 0; i < ws.death_row.cnt; ++i) {
        rte_mbuf* m = ws.death_row.row[i];
        const int32_t out = m->port < peer_of.size() ? peer_of[m->port] : -1;
        // A chain is a datagram rte_ip_frag began to put together and gave up on (pieces that
        // overlap so that the lengths add up but leave a hole): its tails have lost their headers.
        if (out < 0 || m->nb_segs > 1) {
            rte_pktmbuf_free(m);
            c.add(pipeline::Counter::drop_fragments);
            c.add(pipeline::Counter::dropped);
            continue;
        }
        m->ol_flags &= ~(RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM);
        c.add(pipeline::Counter::fragments_passed);
        c.add(pipeline::Counter::tx_packets);
        c.add(pipeline::Counter::tx_bytes, m->pkt_len);
        rte_eth_tx_buffer(static_cast<uint16_t>(out), ws.queue, ws.tx[static_cast<uint16_t>(out)], m);
    }
    ws.death_row.cnt = 0;
}

// Datagrams that have waited past the timeout at `now` leave the table and their pieces go on
// (pass_death_row); the death row takes 32 datagrams' pieces at a time, so until none is left.
void expire_fragments(WorkerState& ws, uint64_t now, const std::vector<int32_t>& peer_of, pipeline::Counters& c) {
    for (;;) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // experimental in DPDK 22.11, stable since
        rte_ip_frag_table_del_expired_entries(ws.frag_table, &ws.death_row, now);
#pragma GCC diagnostic pop
        if (ws.death_row.cnt == 0) return;
        pass_death_row(ws, peer_of, c);
    }
}

// Frames a TX queue refused were counted as sent when buffered; the buffers' error callback has
// freed them and counted them in ws.tx_dropped: move them to the drop counters.
void account_tx_refused(WorkerState& ws, pipeline::Counters& c) {
    if (!ws.tx_dropped) return;
    c.v[static_cast<std::size_t>(pipeline::Counter::tx_packets)] -= ws.tx_dropped;
    c.add(pipeline::Counter::drop_tx_full, ws.tx_dropped);
    c.add(pipeline::Counter::dropped, ws.tx_dropped);
    ws.tx_dropped = 0;
}

// Puts keepalives in mbufs of the worker's pool and out of the flow's access port.
class KeepaliveSender final : public FlowTable::KeepaliveSink {
public:
    KeepaliveSender(WorkerState& ws, rte_mempool* pool, pipeline::KeepaliveMethod method, pipeline::Counters& c)
        : ws_(ws), pool_(pool), method_(method), c_(c) {}
    bool send(const flow::Entry& e) noexcept override {
        if (e.ingress_port >= ws_.tx.size() || !ws_.tx[e.ingress_port]) return false;
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        if (!m) {
            c_.add(pipeline::Counter::keepalive_no_mbuf);
            return false;
        }
        const uint32_t len = pipeline::build_keepalive(e, method_, seq_++, rte_pktmbuf_mtod(m, uint8_t*), rte_pktmbuf_tailroom(m));
        if (len == 0) {  // no peer address of the agent's family yet
            rte_pktmbuf_free(m);
            return false;
        }
        m->data_len = static_cast<uint16_t>(len);
        m->pkt_len = len;
        rte_eth_tx_buffer(e.ingress_port, ws_.queue, ws_.tx[e.ingress_port], m);
        c_.add(pipeline::Counter::keepalives_sent);
        c_.add(pipeline::Counter::tx_packets);
        c_.add(pipeline::Counter::tx_bytes, len);
        return true;
    }

private:
    WorkerState& ws_;
    rte_mempool* pool_;
    pipeline::KeepaliveMethod method_;
    pipeline::Counters& c_;
    uint32_t seq_ = 0;
};

}  // namespace

int worker_loop(void* arg) {
    auto* a = static_cast<LoopArgs*>(arg);
    WorkerState& ws = *a->ws;
    pipeline::Worker& w = *ws.worker;
    pipeline::Counters& c = w.counters();
    const uint64_t hz = rte_get_tsc_hz();
    const uint64_t drain = hz * kTxDrainUs / 1000000u;
    const uint64_t idle = a->config->exit_when_idle > 0 ? static_cast<uint64_t>(a->config->exit_when_idle * static_cast<double>(hz)) : 0;
    uint64_t last_rx = rte_rdtsc(), last_drain = last_rx;
    rte_mbuf* pkts[kBurst];
    // A burst's frames as the pipeline sees them, and what it does with each: built anew for
    // every frame received, so declared (and their members' defaults set) once, not once a burst
    // (a 1.3 KiB memset every burst).
    rte_mbuf* ms[kBurst];
    pipeline::Frame frames[kBurst];
    pipeline::Action actions[kBurst];
    KeepaliveSender keepalives(ws, a->direct, a->config->keepalive_method, c);
    rte_rcu_qsbr_thread_register(a->qsbr, ws.queue);
    rte_rcu_qsbr_thread_online(a->qsbr, ws.queue);
    const bool keepalive_on = a->config->keepalive_interval > 0;
    while (!g_stop.load(std::memory_order_relaxed)) {
        const uint64_t start = rte_rdtsc();
        bool any = false;
        for (const Path& p : *a->paths) {
            const uint16_t n = rte_eth_rx_burst(p.in, ws.queue, pkts, kBurst);
            if (n == 0) continue;
            any = true;
            c.add(pipeline::Counter::rx_packets, n);
            rte_eth_dev_tx_buffer* txb = ws.tx[p.out];
            const bool offload = port_flag(*a->csum_offload, p.out);
            // Stage 1: whole frames in one segment (reassembly, linearisation). The usual frame
            // (unfragmented IPv4, one segment) takes one test; the rest go through reassembly and
            // linearisation. The port's word on the UDP checksum holds for the mbuf it filled,
            // not for one put together from fragments or copied (their flags are the first
            // piece's). The burst's bytes are counted once.
            uint16_t k = 0;
            uint64_t rx_bytes = 0;
            // The access side's fragments are put together for the SIP to be read; the switch's
            // only when their SIP is read too (alias mode: an INVITE over the MTU, re-targeted).
            const bool reassembles = p.dir == pipeline::Direction::access_to_core || w.reads_core_side();
            for (uint16_t i = 0; i < n; ++i) {
                rte_mbuf* m = pkts[i];
                rx_bytes += m->pkt_len;
                const bool plain = !reassembles || unfragmented_ipv4(m);  // needs no reassembly
                bool good;
                if (plain && m->nb_segs == 1) [[likely]] {
                    good = port_checksum_good(m);
                } else {
                    bool whole = false;  // put together from fragments
                    if (!plain) {
                        m = reassemble(m, ws, start, c, whole);
                        if (!m) continue;  // waits for its other fragments
                        if (whole) c.add(pipeline::Counter::reassembled);
                    }
                    if (m->nb_segs > 1) {
                        rte_mbuf* j = to_jumbo(m, a->jumbo);
                        if (!j) {
                            c.add(pipeline::Counter::drop_linearize);
                            c.add(pipeline::Counter::dropped);
                            rte_pktmbuf_free(m);
                            continue;
                        }
                        m = j;
                    }
                    good = !whole && m == pkts[i] && port_checksum_good(m);
                }
                ms[k] = m;
                // The frame's inputs only: the Worker writes every output (observed, offloaded and
                // the rest) itself, so the slot's outputs of an earlier burst need no reset.
                pipeline::Frame& f = frames[k];
                f.data = rte_pktmbuf_mtod(m, uint8_t*);
                f.len = m->data_len;
                f.capacity = static_cast<uint32_t>(m->data_len + rte_pktmbuf_tailroom(m));
                f.may_grow = true;
                f.offload = offload;
                f.udp_checksum_good = good;
                ++k;
            }
            c.add(pipeline::Counter::rx_bytes, rx_bytes);
            // Stage 2: classify, then read and rewrite the SIP (pipeline::Worker).
            w.process_burst(frames, actions, k, p.dir);
            // Stage 3: frames that outgrew their mbuf, the flow table, transmit. The burst's flow
            // entries fetched first, all at once (FlowTable::prepare).
            uint32_t sigs[kBurst];
            uint64_t tx_bytes = 0;  // the frames sent the usual way, counted once a burst
            uint64_t tx_packets = 0;
            for (uint16_t i = 0; i < k; ++i)
                if (frames[i].observed) sigs[i] = ws.flows->prepare(w.observation(i));
            for (uint16_t i = 0; i < k; ++i)
                if (frames[i].observed) ws.flows->prefetch(w.observation(i), sigs[i]);
            for (uint16_t i = 0; i < k; ++i) {
                rte_mbuf* m = ms[i];
                pipeline::Frame& f = frames[i];
                pipeline::Action act = actions[i];
                std::size_t slot = i;
                const bool again = act == pipeline::Action::grow;  // processed again below
                if (again) {
                    // The rewrite needs more than this mbuf's tailroom: redo it in a jumbo mbuf.
                    rte_mbuf* j = f.needed <= kJumboRoom - RTE_PKTMBUF_HEADROOM ? to_jumbo(m, a->jumbo) : nullptr;
                    if (j) m = j;
                    f = pipeline::Frame{rte_pktmbuf_mtod(m, uint8_t*), m->data_len,
                                        static_cast<uint32_t>(m->data_len + rte_pktmbuf_tailroom(m)), false, 0};
                    f.offload = offload;
                    act = w.process(f, p.dir);  // without room it is counted and forwarded unmodified
                    slot = 0;
                }
                if (f.observed) {
                    flow::Observation& o = w.observation(slot);  // in place: no ~100-byte copy a packet
                    o.ingress_port = p.in;
                    // A frame processed again has its observation anew (not prepared): hashed anew.
                    if (again)
                        ws.flows->observe(o, start, c);
                    else
                        ws.flows->observe(o, sigs[i], start, c);
                }
                if (act == pipeline::Action::drop) {
                    rte_pktmbuf_free(m);
                    continue;
                }
                if (f.len != m->data_len) {  // resized by a rewrite (within the tailroom)
                    m->data_len = static_cast<uint16_t>(f.len);
                    m->pkt_len = f.len;
                }
                if (f.offloaded) {
                    m->ol_flags |= (f.offload_ipv6 ? RTE_MBUF_F_TX_IPV6 : (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM)) |
                                   (f.offload_udp ? RTE_MBUF_F_TX_UDP_CKSUM : 0);
                    m->tx_offload = rte_mbuf_tx_offload(f.offload_l2, f.offload_l3, 0, 0, 0, 0, 0);
                }
                tx_bytes += m->pkt_len;
                // Every Ethernet header is at least 14 bytes: a frame of at most 14 + mtu fits
                // whatever its tags.
                if (m->pkt_len <= 14u + a->config->mtu) [[likely]] {
                    rte_eth_tx_buffer(p.out, ws.queue, txb, m);
                    ++tx_packets;
                } else {
                    c.add(pipeline::Counter::tx_packets,
                          send_large(m, p.out, ws.queue, txb, a->config->mtu, a->direct, a->indirect, c));
                }
            }
            c.add(pipeline::Counter::tx_bytes, tx_bytes);
            c.add(pipeline::Counter::tx_packets, tx_packets);
        }
        pass_death_row(ws, *a->peer_of, c);
        const uint64_t now = rte_rdtsc();
        if (any) {
            last_rx = now;
            c.add(pipeline::Counter::busy_cycles, now - start);
        }
        if (now - last_drain > drain) {
            for (const Path& p : *a->paths) rte_eth_tx_buffer_flush(p.out, ws.queue, ws.tx[p.out]);
            last_drain = now;
        }
        account_tx_refused(ws, c);  // live, so telemetry's tx_packets and drop_tx_full stay true
        c.add(pipeline::Counter::loops);
        if ((c.get(pipeline::Counter::loops) & (kAgeEvery - 1)) == 0) {
            ws.flows->age(now, kFlowIdleSeconds * hz, kAgeBudget, c);
            // rte_ip_frag expires entries only when another fragment arrives: an idle worker would
            // hold never-completed datagrams (and their mbufs) for good.
            expire_fragments(ws, now, *a->peer_of, c);
        }
        if (keepalive_on && (c.get(pipeline::Counter::loops) & (kKeepaliveEvery - 1)) == 0)
            ws.flows->keepalive(now, kKeepaliveBudget, keepalives, c);
        if (idle && now - last_rx > idle) g_stop.store(true);
        rte_rcu_qsbr_quiescent(a->qsbr, ws.queue);  // holds no rules pointer between loops
    }
    rte_rcu_qsbr_thread_offline(a->qsbr, ws.queue);
    rte_rcu_qsbr_thread_unregister(a->qsbr, ws.queue);
    // Fragments still waiting for the rest of their datagram go on as they came.
    expire_fragments(ws, rte_rdtsc() + 1000 * hz, *a->peer_of, c);
    for (const Path& p : *a->paths) rte_eth_tx_buffer_flush(p.out, ws.queue, ws.tx[p.out]);
    account_tx_refused(ws, c);
    return 0;
}

// A worker launched on another lcore than the main one: its loop, then one fewer running.
int remote_worker_loop(void* arg) {
    auto* a = static_cast<LoopArgs*>(arg);
    const int rc = worker_loop(arg);
    a->remote->fetch_sub(1);
    return rc;
}

}  // namespace farend::dataplane
