#include "virtual_ports.hpp"

#include <farend/dataplane/log.hpp>

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_kvargs.h>

#include <dirent.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>
#include <utility>

namespace farend::dataplane {

namespace {

bool is_af_packet(const rte_eth_dev_info& info) { return std::string_view(info.driver_name) == "net_af_packet"; }

// The value of key= among the arguments the port's device was given (--vdev), or empty.
std::string device_arg(const rte_eth_dev_info& info, const char* key) {
    std::string value;
    const rte_devargs* da = info.device ? rte_dev_devargs(info.device) : nullptr;
    if (rte_kvargs* kv = da && da->args ? rte_kvargs_parse(da->args, nullptr) : nullptr) {
        if (const char* v = rte_kvargs_get(kv, key)) value = v;
        rte_kvargs_free(kv);
    }
    return value;
}

}  // namespace

void AfPacketPorts::find(const std::vector<uint16_t>& ports) {
    std::vector<std::pair<uint16_t, int>> ifindex_of;  // port, its interface
    for (uint16_t p : ports) {
        rte_eth_dev_info info{};
        if (rte_eth_dev_info_get(p, &info) != 0 || !is_af_packet(info)) continue;
        int ifindex = static_cast<int>(info.if_index);
        if (ifindex == 0)  // the iface= the port was given
            if (const std::string iface = device_arg(info, "iface"); !iface.empty())
                ifindex = static_cast<int>(if_nametoindex(iface.c_str()));
        if (ifindex > 0) ifindex_of.emplace_back(p, ifindex);
    }
    if (ifindex_of.empty()) return;
    DIR* dir = opendir("/proc/self/fd");
    if (!dir) return;
    const int own = dirfd(dir);
    while (const dirent* e = readdir(dir)) {
        char* end = nullptr;
        const long fd = std::strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || fd == own) continue;
        int domain = 0;
        socklen_t len = sizeof domain;
        if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_PACKET) continue;
        sockaddr_ll sll{};
        socklen_t sl = sizeof sll;
        if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&sll), &sl) != 0) continue;
        for (const auto& [port, ifindex] : ifindex_of)
            if (sll.sll_ifindex == ifindex) {  // the first port on it, should two share an interface
                if (ports_.size() <= port) ports_.resize(port + 1u);
                ports_[port].ifindex = ifindex;
                ports_[port].fds.push_back(static_cast<int>(fd));
                break;
            }
    }
    closedir(dir);
}

void AfPacketPorts::drain() {
    for (Port& p : ports_)
        for (int fd : p.fds) {
            tpacket_stats_v3 st{};  // tp_drops lies where struct tpacket_stats (TPACKET_V2) has it
            socklen_t len = sizeof st;
            if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) p.drops += st.tp_drops;
        }
}

uint64_t AfPacketPorts::drops(uint16_t port) const noexcept { return port < ports_.size() ? ports_[port].drops : 0; }

void AfPacketPorts::forget() {
    drain();
    for (Port& p : ports_) p.fds.clear();  // the drops stay
}

int AfPacketPorts::read_link(uint16_t port, rte_eth_link* link) const {
    const int r = rte_eth_link_get_nowait(port, link);
    if (r != 0 || port >= ports_.size() || ports_[port].fds.empty()) return r;
    const int fd = ports_[port].fds.front();
    ifreq ifr{};
    ifr.ifr_ifindex = ports_[port].ifindex;
    if (ioctl(fd, SIOCGIFNAME, &ifr) != 0) {
        if (errno == ENODEV) link->link_status = RTE_ETH_LINK_DOWN;  // the interface is gone (deleted)
        return r;
    }
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) return r;
    const bool up = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
    link->link_status = up ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
    // The speed and duplex as the interface's driver has them; kept as the af_packet driver says
    // where the interface cannot tell.
    ethtool_cmd ec{};
    ec.cmd = ETHTOOL_GSET;
    ifr.ifr_data = reinterpret_cast<char*>(&ec);
    if (up && ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
        const uint32_t speed = ethtool_cmd_speed(&ec);
        if (speed != 0 && speed != static_cast<uint32_t>(SPEED_UNKNOWN) &&
            (ec.duplex == DUPLEX_FULL || ec.duplex == DUPLEX_HALF)) {
            link->link_speed = speed;
            link->link_duplex = ec.duplex == DUPLEX_FULL ? RTE_ETH_LINK_FULL_DUPLEX : RTE_ETH_LINK_HALF_DUPLEX;
        }
    }
    return r;
}

// net_af_packet (DPDK 22.11) joins its socket to a fanout group with PACKET_FANOUT_FLAG_DEFRAG:
// the kernel puts IP fragments together before the driver sees them, and the driver copies no
// more of a frame than its ring's frame size holds (framesz=, default 2048; the kernel keeps 66
// bytes of each for its header). A longer datagram arrives cut short: farend counts it
// (bad_frames) and forwards it as it came, but it is lost. Says so, with the limit this port has.
void af_packet_note(uint16_t port, const rte_eth_dev_info& info) {
    constexpr unsigned kDefaultFrameSize = 2048, kKernelHeader = 66, kBestFrameSize = 4096;
    if (!is_af_packet(info) || !info.device) return;
    unsigned framesz = kDefaultFrameSize;
    if (const std::string v = device_arg(info, "framesz"); !v.empty())
        framesz = static_cast<unsigned>(std::strtoul(v.c_str(), nullptr, 10));
    const unsigned longest = framesz > kKernelHeader ? framesz - kKernelHeader : 0;
    const bool enough = framesz >= kBestFrameSize;
    log::say(enough ? log::Level::notice : log::Level::warning,
             "%s: port %u (net_af_packet, framesz=%u): the kernel puts IP fragments together for this driver, which "
             "cuts frames longer than %u bytes short (counted bad_frames, forwarded as they came)%s",
             enough ? "note" : "warning", static_cast<unsigned>(port), framesz, longest,
             enough ? "" : "; give framesz=4096 (blocksz=4096 or more) for frames up to 4,030 bytes");
}

// net_af_packet opens a socket a queue pair (qpairs=), and the kernel spreads the interface's
// frames over all of them (PACKET_FANOUT); net_pcap reads a capture or an interface a queue
// (rx_pcap=, rx_iface=, iface=). A queue no worker reads would hold its share of the frames unread
// (af_packet's ring then drops the rest).
std::string unread_queues_error(uint16_t port, const rte_eth_dev_info& info, uint16_t nq, std::size_t lcores_given) {
    const std::string_view drv = info.driver_name;
    if ((drv != "net_af_packet" && drv != "net_pcap") || info.max_rx_queues <= nq) return {};
    const std::string q = std::to_string(info.max_rx_queues), n = std::to_string(nq);
    return "port " + std::to_string(port) + " (" + std::string(drv) + ") has " + q +
           " receive queues, made from its arguments and each fed its share of the frames, but " + n +
           " worker lcore(s) read them: queue(s) " + n +
           (info.max_rx_queues - nq > 1 ? "-" + std::to_string(info.max_rx_queues - 1) : "") + " would never be read. Give " +
           (drv == "net_af_packet" ? "qpairs=" + n : std::string("one rx_pcap=, rx_iface= or iface= per worker")) +
           (lcores_given >= info.max_rx_queues
                ? " (another port has " + n + " queue(s), which sets how many workers run), or every port " + q + " queues"
                : ", or " + q + " worker lcores (-l: the main lcore and " + q + " more)");
}

}  // namespace farend::dataplane
