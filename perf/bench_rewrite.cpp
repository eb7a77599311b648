// The rewrite path per NATed message: the message types of perf/messages.hpp arriving from a NAT's
// public address.
//   rewrite/KERNEL/TYPE  detect + plan + apply + UDP checksum on a message parsed beforehand
//                        (issue 3's figure; target: under 250 ns per NATed message). Each
//                        iteration copies the original into the packet buffer first (~600 B memcpy,
//                        included) and applies the edits there.
//   full/KERNEL/TYPE     the same plus scan + index + parse: what a worker spends per message
//                        (rewrite::Processor).
//   detect/TYPE          the NAT tests alone on a message parsed beforehand (no SIMD in them).
//   checksum/KERNEL/TYPE the ones' complement sum of the message as a UDP payload, by the
//                        scalar and the AVX2 kernel (the AVX-512 machines use the AVX2 one).
// After Google Benchmark's table, a summary of this same run: ns a message by type, stage and
// kernel with each kernel's speed-up over scalar, and the checksum kernels' GB/s and ratio.
#include "messages.hpp"
#include "summary.hpp"

#include <farend/net/checksum.hpp>
#include <farend/rewrite/processor.hpp>
#include <farend/simd/checksum.hpp>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

using namespace farend;

namespace {

const nat::Source kSource{*IpAddr::parse("203.0.113.5"), 40000};
const IpAddr kDst = *IpAddr::parse("198.51.100.10");

struct Parsed {
    std::string msg;
    std::unique_ptr<sip::MessageParser> parser;
    std::unique_ptr<sip::MessageParts> parts;
};

void BM_Rewrite(benchmark::State& state, const simd::Kernel* k, std::vector<std::string> msgs) {
    const rewrite::Options opt;
    std::vector<Parsed> parsed;
    for (const auto& m : msgs) {
        Parsed p{m, std::make_unique<sip::MessageParser>(*k), std::make_unique<sip::MessageParts>()};
        const auto& idx = p.parser->parse(p.msg);
        sip::extract_parts(p.msg, p.parser->mask_view(), idx, true, *p.parts);
        parsed.push_back(std::move(p));
    }
    std::vector<uint8_t> pkt(8 + 4096);
    auto plan = std::make_unique<rewrite::EditPlan>();
    size_t rewritten = 0, total = 0;
    for (auto _ : state) {
        for (const auto& p : parsed) {
            const auto& idx = p.parser->index();
            const nat::Verdict v = nat::detect(p.msg, p.parser->mask_view(), idx, *p.parts, kSource, opt.detect);
            rewrite::Summary sum;
            plan->clear();
            if (v.nated()) rewrite::plan_rewrites(p.msg, p.parser->mask_view(), idx, *p.parts, kSource, opt.rewrite, *plan, sum);
            uint8_t* udp = pkt.data();
            std::memcpy(udp + 8, p.msg.data(), p.msg.size());
            const auto r = plan->apply(reinterpret_cast<char*>(udp + 8), static_cast<uint32_t>(p.msg.size()), 4096);
            const uint32_t len = 8 + r.size;
            net::store_be16(udp + 4, static_cast<uint16_t>(len));
            net::fix_udp_checksum(kSource.ip, kDst, udp, len, false);
            benchmark::DoNotOptimize(udp);
            rewritten += r.status == rewrite::ApplyStatus::ok && !plan->empty();
            ++total;
        }
    }
    if (rewritten != total) state.SkipWithError("a message was not rewritten: the benchmark would measure the wrong path");
    state.counters["ns/msg"] = benchmark::Counter(static_cast<double>(state.iterations() * msgs.size()),
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Full(benchmark::State& state, const simd::Kernel* k, std::vector<std::string> msgs) {
    rewrite::Processor proc(rewrite::Options{}, *k);
    std::vector<uint8_t> pkt(8 + 4096);
    size_t rewritten = 0, total = 0;
    for (auto _ : state) {
        for (const auto& m : msgs) {
            uint8_t* udp = pkt.data();
            std::memcpy(udp + 8, m.data(), m.size());
            const auto r = proc.process(reinterpret_cast<char*>(udp + 8), static_cast<uint32_t>(m.size()), 4096, kSource);
            const uint32_t len = 8 + r.size;
            net::store_be16(udp + 4, static_cast<uint16_t>(len));
            net::fix_udp_checksum(kSource.ip, kDst, udp, len, false);
            benchmark::DoNotOptimize(udp);
            rewritten += r.outcome == rewrite::Outcome::rewritten;
            ++total;
        }
    }
    if (rewritten != total) state.SkipWithError("a message was not rewritten: the benchmark would measure the wrong path");
    state.counters["ns/msg"] = benchmark::Counter(static_cast<double>(state.iterations() * msgs.size()),
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Detect(benchmark::State& state, std::vector<std::string> msgs) {
    const rewrite::Options opt;
    std::vector<Parsed> parsed;
    for (const auto& m : msgs) {
        Parsed p{m, std::make_unique<sip::MessageParser>(simd::active()), std::make_unique<sip::MessageParts>()};
        const auto& idx = p.parser->parse(p.msg);
        sip::extract_parts(p.msg, p.parser->mask_view(), idx, true, *p.parts);
        parsed.push_back(std::move(p));
    }
    size_t nated = 0, total = 0;
    for (auto _ : state) {
        for (const auto& p : parsed) {
            const nat::Verdict v = nat::detect(p.msg, p.parser->mask_view(), p.parser->index(), *p.parts, kSource, opt.detect);
            benchmark::DoNotOptimize(v);
            nated += v.nated();
            ++total;
        }
    }
    if (nated != total) state.SkipWithError("a message was not found NATed: the benchmark would measure the wrong path");
    state.counters["ns/msg"] = benchmark::Counter(static_cast<double>(state.iterations() * msgs.size()),
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Checksum(benchmark::State& state, simd::SumFn sum, std::vector<std::string> msgs) {
    size_t bytes = 0;
    for (const auto& m : msgs) bytes += m.size();
    for (auto _ : state) {
        for (const auto& m : msgs) {
            const uint16_t c = net::fold(sum(reinterpret_cast<const uint8_t*>(m.data()), m.size()));
            benchmark::DoNotOptimize(c);
        }
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
    state.counters["ns/msg"] = benchmark::Counter(static_cast<double>(state.iterations() * msgs.size()),
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

int main(int argc, char** argv) {
    const auto msgs = perf::messages();
    std::vector<std::string> mixed;
    for (const auto& [name, m] : msgs) mixed.push_back(m);
    const char* fixed = std::getenv("FAREND_BENCH_ITERATIONS");
    for (const auto& [family, fn] : {std::pair{"rewrite", &BM_Rewrite}, std::pair{"full", &BM_Full}}) {
        for (const simd::Kernel* k : simd::supported()) {
            for (const auto& [name, m] : msgs) {
                auto* b = benchmark::RegisterBenchmark((std::string(family) + "/" + k->name + "/" + name).c_str(), fn, k,
                                                      std::vector<std::string>{m});
                if (fixed) b->Iterations(std::atoll(fixed));
            }
            auto* b = benchmark::RegisterBenchmark((std::string(family) + "/" + k->name + "/mixed").c_str(), fn, k, mixed);
            if (fixed) b->Iterations(std::atoll(fixed));
        }
    }
    std::vector<std::pair<std::string, simd::SumFn>> sums{{"scalar", &simd::ones_sum_scalar}};
    if (simd::kernel(simd::Backend::avx2)) sums.emplace_back("avx2", &simd::ones_sum_avx2);
    auto each_type = [&](const std::string& prefix, auto make) {
        for (const auto& [name, m] : msgs) {
            auto* b = make(prefix + name, std::vector<std::string>{m});
            if (fixed) b->Iterations(std::atoll(fixed));
        }
        auto* b = make(prefix + "mixed", mixed);
        if (fixed) b->Iterations(std::atoll(fixed));
    };
    each_type("detect/", [](const std::string& n, std::vector<std::string> v) {
        return benchmark::RegisterBenchmark(n.c_str(), BM_Detect, std::move(v));
    });
    for (const auto& [kname, fn] : sums)
        each_type("checksum/" + kname + "/", [fn = fn](const std::string& n, std::vector<std::string> v) {
            return benchmark::RegisterBenchmark(n.c_str(), BM_Checksum, fn, std::move(v));
        });
    perf::Summary summary(perf::Summary::options(argc, argv));
    if (!perf::run_benchmarks(argc, argv, summary) || summary.empty()) return 0;
    // The figures of this run side by side: ns a NATed message by stage and kernel, each kernel
    // against scalar, and the checksum kernels.
    const auto ns = [&](const std::string& name) { return summary.ns(name); };
    std::printf("\nthis run, ns a NATed message (ratios: scalar's time over the kernel's, measured in this same run):\n");
    std::printf("  kernel   family  ");
    for (const auto& [name, m] : msgs) std::printf("%11s", name.c_str());
    std::printf("      mixed  speed-up\n");
    for (const char* family : {"full", "rewrite"}) {
        for (const simd::Kernel* k : simd::supported()) {
            const std::string at = std::string(family) + "/" + k->name + "/";
            std::printf("  %-8s %-8s", k->name, family);
            for (const auto& [name, m] : msgs) perf::print_figure(ns(at + name), 11, 0);
            perf::print_figure(ns(at + "mixed"), 11, 0);
            perf::print_ratio(ns(std::string(family) + "/scalar/mixed"), ns(at + "mixed"), 10);
            std::printf("\n");
        }
    }
    std::printf("  %-8s %-8s", "-", "detect");
    for (const auto& [name, m] : msgs) perf::print_figure(ns("detect/" + name), 11, 1);
    perf::print_figure(ns("detect/mixed"), 11, 1);
    std::printf("\n  (full: scan + index + parse + detect + plan + apply + UDP checksum, what a worker spends;\n"
                "   rewrite: the same on a message parsed beforehand; detect: the NAT tests alone)\n");
    std::printf("this run, the UDP checksum's ones' complement sum on the mixed set (GB of 10^9 bytes):\n");
    for (const auto& [kname, fn] : sums) {
        const auto g = summary.gbps("checksum/" + kname + "/mixed");
        std::printf("  %-8s", kname.c_str());
        perf::print_figure(g, 8, 2, " GB/s");
        perf::print_figure(ns("checksum/" + kname + "/mixed"), 8, 1, " ns/msg");
        perf::print_ratio(g, summary.gbps("checksum/scalar/mixed"), 9);
        std::printf(" scalar's speed\n");
    }
    return 0;
}
