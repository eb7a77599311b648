#include "corpus.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace farend::test {

std::string tests_dir() {
    const char* d = std::getenv("FAREND_TESTS");
    if (!d) throw std::runtime_error("FAREND_TESTS is not set: run the tests through meson test");
    return d;
}

std::string shared_dir() {
    const char* d = std::getenv("FAREND_SHARED");
    if (!d) throw std::runtime_error("FAREND_SHARED is not set: run the tests through meson test");
    return d;
}

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + path);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

namespace {

std::vector<Sample> dir_samples(const std::string& dir, const std::string& prefix, const std::string& ext) {
    std::vector<Sample> out;
    if (!fs::is_directory(dir)) throw std::runtime_error("corpus folder missing: " + dir);
    for (const auto& e : fs::directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        const std::string name = e.path().filename().string();
        if (!ext.empty() && e.path().extension() != ext) continue;
        if (name == "SOURCE.md" || name == "STATS.txt") continue;
        Sample sample;
        sample.name = prefix + name;
        sample.bytes = read_file(e.path().string());
        out.push_back(std::move(sample));
    }
    std::sort(out.begin(), out.end(), [](const Sample& a, const Sample& b) { return a.name < b.name; });
    return out;
}

std::string ip_text(const uint8_t* p, bool v6) {
    char buf[64];
    if (!v6) {
        std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
        return buf;
    }
    std::string s;
    for (int i = 0; i < 16; i += 2) {
        std::snprintf(buf, sizeof buf, "%s%x", i ? ":" : "", (p[i] << 8) | p[i + 1]);
        s += buf;
    }
    return s;
}

// UDP payload of one captured frame, or empty. Handles Ethernet (+802.1Q), Linux SLL, raw IP.
std::string udp_payload(int linktype, const uint8_t* p, size_t n, Sample& meta) {
    size_t off = 0;
    uint16_t ethertype = 0;
    if (linktype == DLT_EN10MB) {
        if (n < 14) return {};
        ethertype = static_cast<uint16_t>((p[12] << 8) | p[13]);
        off = 14;
        while ((ethertype == 0x8100 || ethertype == 0x88a8) && n >= off + 4) {
            ethertype = static_cast<uint16_t>((p[off + 2] << 8) | p[off + 3]);
            off += 4;
        }
    } else if (linktype == DLT_LINUX_SLL) {
        if (n < 16) return {};
        ethertype = static_cast<uint16_t>((p[14] << 8) | p[15]);
        off = 16;
    } else if (linktype == DLT_RAW || linktype == 101 /* LINKTYPE_RAW */) {
        if (n < 1) return {};
        ethertype = (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
    } else {
        return {};
    }
    uint8_t proto = 0;
    if (ethertype == 0x0800) {
        if (n < off + 20) return {};
        const size_t ihl = (p[off] & 0xf) * 4u;
        const uint16_t frag = static_cast<uint16_t>(((p[off + 6] << 8) | p[off + 7]) & 0x3fff);
        if (frag != 0) return {};  // fragments are the dataplane's business, not the parser's
        proto = p[off + 9];
        meta.src_ip = ip_text(p + off + 12, false);
        meta.dst_ip = ip_text(p + off + 16, false);
        off += ihl;
    } else if (ethertype == 0x86dd) {
        if (n < off + 40) return {};
        proto = p[off + 6];
        meta.src_ip = ip_text(p + off + 8, true);
        meta.dst_ip = ip_text(p + off + 24, true);
        off += 40;
    } else {
        return {};
    }
    if (proto != 17 || n < off + 8) return {};
    const uint16_t sport = static_cast<uint16_t>((p[off] << 8) | p[off + 1]);
    const uint16_t dport = static_cast<uint16_t>((p[off + 2] << 8) | p[off + 3]);
    const size_t ulen = static_cast<size_t>((p[off + 4] << 8) | p[off + 5]);
    meta.src_port = sport;
    meta.dst_port = dport;
    if (ulen < 8 || off + ulen > n) return {};
    std::string payload(reinterpret_cast<const char*>(p + off + 8), ulen - 8);
    const bool sip_port = sport == 5060 || dport == 5060 || sport == 5061 || dport == 5061;
    const bool looks_sip = payload.find("SIP/2.0") != std::string::npos;
    return (sip_port || looks_sip) && !payload.empty() ? payload : std::string{};
}

}  // namespace

std::vector<Sample> rfc4475() { return dir_samples(tests_dir() + "/corpus/rfc4475", "rfc4475/", ".dat"); }
std::vector<Sample> rfc5118() { return dir_samples(tests_dir() + "/corpus/rfc5118", "rfc5118/", ""); }
std::vector<Sample> kamailio_messages() {
    return dir_samples(shared_dir() + "/corpus/kamailio-test-sip", "kamailio/", ".sip");
}

std::vector<Sample> pcap_sip_payloads() {
    std::vector<Sample> out;
    const std::string dir = shared_dir() + "/corpus/pcap";
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".pcap" || e.path().extension() == ".pcapng") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        char err[PCAP_ERRBUF_SIZE];
        pcap_t* pc = pcap_open_offline(f.string().c_str(), err);
        if (!pc) throw std::runtime_error("cannot open " + f.string() + ": " + err);
        const int lt = pcap_datalink(pc);
        pcap_pkthdr* h;
        const u_char* data;
        int i = 0;
        while (pcap_next_ex(pc, &h, &data) == 1) {
            ++i;
            Sample s;
            std::string pl = udp_payload(lt, data, h->caplen, s);
            if (pl.empty()) continue;
            s.name = "pcap/" + f.filename().string() + "#" + std::to_string(i);
            s.bytes = std::move(pl);
            out.push_back(std::move(s));
        }
        pcap_close(pc);
    }
    return out;
}

std::vector<Sample> everything() {
    std::vector<Sample> all = rfc4475();
    for (auto* fn : {&rfc5118, &kamailio_messages, &pcap_sip_payloads}) {
        auto more = fn();
        all.insert(all.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
    return all;
}

}  // namespace farend::test
