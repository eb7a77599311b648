// farend-rewrite: runs NAT detection and the rewrites on one SIP message, as farend would for a
// datagram from SOURCE, and prints the result. For trying options and checking a message from
// the field without a capture.
#include <farend/rewrite/processor.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

using namespace farend;

namespace {

[[noreturn]] void usage(int status) {
    std::fprintf(status ? stderr : stdout,
                 "usage: farend-rewrite --source IP:PORT [--nat-tests LIST] [--rewrite LIST]\n"
                 "                      [--contact-mode rewrite|alias] [--private-ranges LIST] FILE|-\n"
                 "Prints the message as farend would forward it, then a line with the verdict.\n"
                 "IPv6 sources are written [2001:db8::1]:5060.\n");
    std::exit(status);
}

bool parse_source(std::string_view s, nat::Source& out) {
    std::string_view host;
    std::string_view port;
    if (!s.empty() && s.front() == '[') {
        const auto close = s.find(']');
        if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
        host = s.substr(1, close - 1);
        port = s.substr(close + 2);
    } else {
        const auto colon = s.rfind(':');
        if (colon == std::string_view::npos) return false;
        host = s.substr(0, colon);
        port = s.substr(colon + 1);
    }
    auto ip = IpAddr::parse(host);
    if (!ip || port.empty() || port.size() > 5) return false;
    unsigned p = 0;
    for (char c : port) {
        if (c < '0' || c > '9') return false;
        p = p * 10 + static_cast<unsigned>(c - '0');
    }
    if (p == 0 || p > 65535) return false;
    out.ip = *ip;
    out.port = static_cast<uint16_t>(p);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    rewrite::Options opt;
    nat::Source src;
    bool have_src = false;
    const char* file = nullptr;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "farend-rewrite: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        std::string err;
        if (a == "-h" || a == "--help") {
            usage(0);
        } else if (a == "--source") {
            const std::string v = value();
            if (!parse_source(v, src)) {
                std::fprintf(stderr, "farend-rewrite: --source: '%s' is not IP:PORT\n", v.c_str());
                return 2;
            }
            have_src = true;
        } else if (a == "--nat-tests") {
            auto t = nat::parse_tests(value(), &err);
            if (!t) {
                std::fprintf(stderr, "farend-rewrite: --nat-tests: %s\n", err.c_str());
                return 2;
            }
            opt.detect.tests = *t;
        } else if (a == "--rewrite") {
            auto c = rewrite::parse_rewrites(value(), &err);
            if (!c) {
                std::fprintf(stderr, "farend-rewrite: --rewrite: %s\n", err.c_str());
                return 2;
            }
            c->contact_mode = opt.rewrite.contact_mode;
            opt.rewrite = *c;
        } else if (a == "--contact-mode") {
            auto m = rewrite::parse_contact_mode(value());
            if (!m) {
                std::fprintf(stderr, "farend-rewrite: --contact-mode: rewrite or alias\n");
                return 2;
            }
            opt.rewrite.contact_mode = *m;
        } else if (a == "--private-ranges") {
            auto r = PrefixSet::parse(value(), &err);
            if (!r) {
                std::fprintf(stderr, "farend-rewrite: --private-ranges: %s\n", err.c_str());
                return 2;
            }
            opt.detect.private_ranges = *r;
        } else if (!file && (a == "-" || a[0] != '-')) {
            file = argv[i];
        } else {
            std::fprintf(stderr, "farend-rewrite: unknown option %s\n", a.c_str());
            usage(2);
        }
    }
    if (!have_src || !file) usage(2);
    std::string data;
    if (!std::strcmp(file, "-")) {
        data.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else {
        std::ifstream f(file, std::ios::binary);
        if (!f) {
            std::fprintf(stderr, "farend-rewrite: cannot read %s: %s\n", file, std::strerror(errno));
            return 1;
        }
        std::ostringstream s;
        s << f.rdbuf();
        data = s.str();
    }
    std::vector<char> buf(65535 + 4096);
    std::memcpy(buf.data(), data.data(), std::min(data.size(), buf.size()));
    rewrite::Processor proc(opt);
    const auto r = proc.process(buf.data(), static_cast<uint32_t>(data.size()), static_cast<uint32_t>(buf.size()), src);
    std::fwrite(buf.data(), 1, r.size, stdout);
    static constexpr const char* outcomes[] = {"malformed",  "not-nated", "unchanged",    "rewritten",     "no-room",
                                               "plan-error", "rule-never", "rule-drop", "bad-checksum", "too-many-edits"};
    static_assert(std::size(outcomes) == static_cast<std::size_t>(rewrite::Outcome::too_many_edits) + 1);
    std::fprintf(stdout, "\n-- %s; tests fired: %s", outcomes[static_cast<int>(r.outcome)],
                 nat::tests_to_string(r.verdict.fired).c_str());
    if (r.outcome == rewrite::Outcome::malformed)
        std::fprintf(stdout, "; error: %s", std::string(sip::error_name(r.error)).c_str());
    std::fprintf(stdout, "; via params %u, contacts %u, sdp addresses %u, content-length %u%s%s\n", r.summary.via_params,
                 r.summary.contacts, r.summary.sdp_addresses, r.summary.content_lengths,
                 r.summary.contacts_skipped ? ", contacts skipped (a value not read: unparsed, ambiguous or past the 16th)" : "",
                 r.summary.sdp_skipped ? ", sdp skipped (a body not read: more than 8, broken or deep multipart, or encoded)" : "");
    return 0;
}
