// Scan + index + parse (what NAT detection reads: top Via, every Contact, Content-Length, every
// SDP address) per message type and per SIMD kernel, and the block scan alone. Prints ns/message
// and GB/s, then a summary of this same run: each kernel's GB/s and its ratio to scalar's on the
// mixed set (scan alone, and scan + index + parse), and ns a message by type and kernel.
//
// Run: scripts/bench (or build/perf/bench_sip). Targets (issue 2): >= 3 GB/s for AVX2 on the
// mixed set; < 150 ns for a typical 500-byte REGISTER.
#include "messages.hpp"
#include "summary.hpp"

#include <farend/sip/contact.hpp>
#include <farend/sip/content.hpp>
#include <farend/sip/sdp.hpp>
#include <farend/sip/via.hpp>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

using namespace farend;

namespace {

// Per-worker scratch, reused from message to message as the pipeline will.
struct Scratch {
    sip::Via via;
    sip::Contact contacts[8];
    sip::SdpBodies bodies;
    sip::Sdp sdp;
};

// The parse NAT detection needs; returns something so the compiler keeps the work.
inline uint64_t parse_for_nat(sip::MessageParser& p, Scratch& s, std::string_view msg) {
    using namespace sip;
    const MessageIndex& idx = p.parse(msg);
    if (!idx.complete()) return 0;
    uint64_t sum = idx.header_count;
    const bool via = top_via(msg, p.mask_view(), idx, s.via) && s.via.valid;
    if (via) sum += s.via.sent_by.port_num;
    size_t n = 0;
    for (const Header* h = idx.find(HeaderId::contact); h; h = idx.next(*h)) {
        // As extract_parts() does: the Via's host:port, which the Contact usually repeats.
        n = parse_contact_values(msg, p.mask_view(), h->value, s.contacts, 8, via ? &s.via.sent_by : nullptr);
        for (size_t k = 0; k < n; ++k) sum += s.contacts[k].uri.host.port_num;
    }
    // As extract_sdp() does: the agent's address (its Contact's host, else its Via's), which its
    // SDP usually names (each message here has one Contact header at most).
    const HostPort* known = n && s.contacts[0].valid ? &s.contacts[0].uri.host : via ? &s.via.sent_by : nullptr;
    find_sdp_bodies(msg, idx, s.bodies);
    for (uint8_t b = 0; b < s.bodies.count; ++b) {
        parse_sdp(msg, p.mask_view(), s.bodies.bodies[b], s.sdp, known);
        sum += s.sdp.addr_count;
    }
    return sum;
}

void BM_Parse(benchmark::State& state, const simd::Kernel* k, std::vector<std::string> msgs) {
    sip::MessageParser parser(*k);
    auto scratch = std::make_unique<Scratch>();
    size_t bytes = 0;
    for (const auto& m : msgs) bytes += m.size();
    for (auto _ : state)
        for (const auto& m : msgs) benchmark::DoNotOptimize(parse_for_nat(parser, *scratch, m));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * msgs.size()));
    state.counters["ns/msg"] = benchmark::Counter(static_cast<double>(state.iterations() * msgs.size()),
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["bytes/msg"] = static_cast<double>(bytes) / static_cast<double>(msgs.size());
}

void BM_ScanOnly(benchmark::State& state, const simd::Kernel* k, std::string mixed) {
    std::vector<simd::BlockMasks> masks(simd::blocks_for(mixed.size()));
    for (auto _ : state) {
        k->scan(reinterpret_cast<const uint8_t*>(mixed.data()), mixed.size(), masks.data());
        benchmark::DoNotOptimize(masks.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * mixed.size()));
}

}  // namespace

int main(int argc, char** argv) {
    const auto msgs = perf::messages();
    std::vector<std::string> mixed;
    std::string concatenated;
    for (const auto& [name, m] : msgs) {
        mixed.push_back(m);
        concatenated += m;
    }
    // FAREND_BENCH_ITERATIONS=N runs every benchmark exactly N times: for instruction counts
    // under valgrind --tool=callgrind, which are repeatable where wall-clock times on a shared
    // VM are not.
    const char* fixed = std::getenv("FAREND_BENCH_ITERATIONS");
    auto reg = [&](benchmark::internal::Benchmark* b) {
        if (fixed) b->Iterations(std::atoll(fixed));
    };
    for (const simd::Kernel* k : simd::supported()) {
        for (const auto& [name, m] : msgs)
            reg(benchmark::RegisterBenchmark((std::string("parse/") + k->name + "/" + name).c_str(), BM_Parse, k,
                                             std::vector<std::string>{m}));
        reg(benchmark::RegisterBenchmark((std::string("parse/") + k->name + "/mixed").c_str(), BM_Parse, k, mixed));
        reg(benchmark::RegisterBenchmark((std::string("scan-only/") + k->name + "/mixed").c_str(), BM_ScanOnly, k,
                                         concatenated));
    }
    perf::Summary summary(perf::Summary::options(argc, argv));
    if (!perf::run_benchmarks(argc, argv, summary)) return 0;
    std::printf("\nmessage sizes:");
    for (const auto& [name, m] : msgs) std::printf(" %s=%zuB", name.c_str(), m.size());
    std::printf("\n");
    if (summary.empty()) return 0;
    // The figures of this run side by side: each kernel against scalar on the mixed set (the
    // scan alone, and scan + index + parse), then ns a message by type.
    const auto sg = [&](const std::string& f, const char* k) { return summary.gbps(f + "/" + k + "/mixed"); };
    std::printf("\nthis run, the mixed set (GB of 10^9 bytes, where the table's G is 2^30; ratios to the scalar "
                "kernel's,\nmeasured in this same run):\n");
    std::printf("  kernel   scan GB/s  x scalar   parse GB/s  x scalar   parse ns/msg\n");
    for (const simd::Kernel* k : simd::supported()) {
        std::printf("  %-7s", k->name);
        perf::print_figure(sg("scan-only", k->name), 11, 2);
        perf::print_ratio(sg("scan-only", k->name), sg("scan-only", "scalar"), 10);
        perf::print_figure(sg("parse", k->name), 13, 2);
        perf::print_ratio(sg("parse", k->name), sg("parse", "scalar"), 10);
        perf::print_figure(summary.ns(std::string("parse/") + k->name + "/mixed"), 15, 0);
        std::printf("\n");
    }
    std::printf("this run, parse ns a message by type:\n  kernel ");
    for (const auto& [name, m] : msgs) std::printf("%11s", name.c_str());
    std::printf("\n");
    for (const simd::Kernel* k : simd::supported()) {
        std::printf("  %-7s", k->name);
        for (const auto& [name, m] : msgs)
            perf::print_figure(summary.ns(std::string("parse/") + k->name + "/" + name), 11, 0);
        std::printf("\n");
    }
    return 0;
}
