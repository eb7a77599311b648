// A UDP load generator for the Kamailio side of perf/kamailio-bench: sends the messages of a file
// (separated by a NUL byte) round robin to HOST:PORT with sendmmsg, 64 datagrams a call, for a
// number of seconds, as fast as the socket takes them or at a given rate. Each message is sent
// from one of --sources local ports (one "agent" each), so a proxy sees many sources.
//
// Usage: sipblast HOST PORT FILE SECONDS [RATE_PER_SECOND (0 = as fast as possible)] [SOURCES]
// Prints one JSON line: {"sent": N, "seconds": S}.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace {

int usage() {
    std::fprintf(stderr, "usage: sipblast HOST PORT FILE SECONDS [RATE (0 = max)] [SOURCES (default 64)]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) return usage();
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
    if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) return usage();
    std::ifstream in(argv[3], std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "sipblast: cannot read %s\n", argv[3]);
        return 1;
    }
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> msgs;
    for (std::size_t s = 0; s < all.size();) {
        std::size_t e = all.find('\0', s);
        if (e == std::string::npos) e = all.size();
        if (e > s) msgs.push_back(all.substr(s, e - s));
        s = e + 1;
    }
    if (msgs.empty()) {
        std::fprintf(stderr, "sipblast: no messages in %s\n", argv[3]);
        return 1;
    }
    const double seconds = std::atof(argv[4]);
    const double rate = argc > 5 ? std::atof(argv[5]) : 0;
    const int nsrc = argc > 6 ? std::max(1, std::atoi(argv[6])) : 64;
    std::vector<int> socks;
    for (int i = 0; i < nsrc; ++i) {
        const int fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&dst), sizeof dst) != 0) {
            std::fprintf(stderr, "sipblast: socket: %s\n", std::strerror(errno));
            return 1;
        }
        socks.push_back(fd);
    }
    constexpr unsigned kBatch = 64;
    std::vector<mmsghdr> hdrs(kBatch);
    std::vector<iovec> iovs(kBatch);
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    uint64_t sent = 0;
    std::size_t next = 0;
    int src = 0;
    for (;;) {
        const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
        if (elapsed >= seconds) break;
        if (rate > 0 && static_cast<double>(sent) >= rate * elapsed) {
            std::this_thread::sleep_for(std::chrono::microseconds(200));
            continue;
        }
        // One batch from one source socket, then the next socket.
        for (unsigned i = 0; i < kBatch; ++i) {
            const std::string& m = msgs[(next + i) % msgs.size()];
            iovs[i] = iovec{const_cast<char*>(m.data()), m.size()};
            hdrs[i] = mmsghdr{};
            hdrs[i].msg_hdr.msg_iov = &iovs[i];
            hdrs[i].msg_hdr.msg_iovlen = 1;
        }
        const int n = sendmmsg(socks[static_cast<std::size_t>(src)], hdrs.data(), kBatch, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == ENOBUFS || errno == ECONNREFUSED) continue;
            std::fprintf(stderr, "sipblast: sendmmsg: %s\n", std::strerror(errno));
            return 1;
        }
        sent += static_cast<uint64_t>(n);
        next = (next + static_cast<std::size_t>(n)) % msgs.size();
        src = (src + 1) % nsrc;
    }
    const double took = std::chrono::duration<double>(clock::now() - start).count();
    std::printf("{\"sent\": %llu, \"seconds\": %.3f}\n", static_cast<unsigned long long>(sent), took);
    for (int fd : socks) close(fd);
    return 0;
}
