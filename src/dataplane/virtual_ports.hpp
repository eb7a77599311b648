// What DPDK 22.11's virtual drivers leave unsaid or undone, for the dataplane (dataplane.cpp):
// net_af_packet's kernel rings (their drops) and its interface (its link), and the drivers whose
// receive queues are made from their arguments. Internal to the dataplane module.
#pragma once

#include <rte_ethdev.h>

#include <cstdint>
#include <string>
#include <vector>

namespace farend::dataplane {

// The net_af_packet ports' sockets and what their kernel rings dropped. The driver reads no drop
// count of its rings, so a frame the kernel had no room for in a full ring was lost unseen:
// drain() reads the count of each of the driver's sockets (PACKET_STATISTICS, which resets it)
// and keeps it per port for rx_missed. A later driver that reads the same count itself sees only
// the drops since either read, so its imissed plus these stays the sum. The driver also says its
// link is up, 10 Gbps, full-duplex whatever its interface is: read_link() asks the interface.
// Not thread-safe: the dataplane calls it under its ports' mutex.
class AfPacketPorts {
public:
    // Finds the driver's sockets of every net_af_packet port among `ports` (one a queue, each
    // bound to the port's interface; farend opens no packet socket of its own), among the
    // process's descriptors: DPDK 22.11 gives no other way to them.
    void find(const std::vector<uint16_t>& ports);
    // Adds what each ring dropped since the last read to its port's count. The kernel's count is
    // 32 bits: call it often.
    void drain();
    // What port's rings dropped so far (0 for other drivers).
    [[nodiscard]] uint64_t drops(uint16_t port) const noexcept;
    // A port's link as its driver reads it (rte_eth_link_get_nowait: no waiting for
    // auto-negotiation); for net_af_packet, its interface's instead: up and running
    // (administratively up, with a carrier; down once the interface is deleted), and ethtool's
    // speed and duplex where the interface has them. Returns the driver's status code.
    int read_link(uint16_t port, rte_eth_link* link) const;
    // Drains the rings a last time and forgets the sockets: before the ports close, whose
    // descriptors may then be reused.
    void forget();

private:
    struct Port {
        int ifindex = 0;
        std::vector<int> fds;  // the driver's sockets, one a queue; none for other drivers
        uint64_t drops = 0;
    };
    std::vector<Port> ports_;  // by port id
};

// net_af_packet's frame size, and the longest frame it takes whole: said at start (a note, or a
// warning when under 4 KiB).
void af_packet_note(uint16_t port, const rte_eth_dev_info& info);

// Drivers whose receive queues are made at probe from their arguments and fed whatever queues
// are set up (net_af_packet, net_pcap): a port of theirs with more receive queues than the nq
// workers would have a queue no worker reads. The refusal's message, or empty. lcores_given: the
// worker lcores given, of which nq run (the ports' fewest queues set nq).
std::string unread_queues_error(uint16_t port, const rte_eth_dev_info& info, uint16_t nq, std::size_t lcores_given);

}  // namespace farend::dataplane
