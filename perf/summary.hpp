// The figures of one run side by side: a console reporter that keeps each benchmark's result, so
// that bench_sip and bench_rewrite can print, after Google Benchmark's own table, each SIMD
// kernel's throughput and its ratio to the scalar kernel's, all measured in this same run (on a
// shared VM the absolute figures move from run to run; ratios from one run move much less).
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

namespace farend::perf {

class Summary : public benchmark::ConsoleReporter {
public:
    // The console's options as Google Benchmark's own reporter takes them from the command line
    // (read before benchmark::Initialize, which takes its flags out of argv): colour when stdout is
    // a terminal (--benchmark_color=auto, the default) or when asked; counters as columns only
    // with --benchmark_counters_tabular=true.
    static OutputOptions options(int argc, char** argv) {
        std::string color = "auto";
        bool tabular = false;
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            if (a.rfind("--benchmark_color=", 0) == 0) color = a.substr(18);
            if (a.rfind("--benchmark_counters_tabular=", 0) == 0) tabular = a.substr(29) == "true";
        }
        const bool colour = color == "true" || color == "yes" || color == "force" ||
                            (color == "auto" && isatty(STDOUT_FILENO) != 0);
        return static_cast<OutputOptions>((colour ? OO_Color : OO_None) | (tabular ? OO_Tabular : OO_None));
    }

    explicit Summary(OutputOptions opts) : benchmark::ConsoleReporter(opts) {}

    void ReportRuns(const std::vector<Run>& runs) override {
        benchmark::ConsoleReporter::ReportRuns(runs);
        for (const Run& r : runs) {
            if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
            Figures& f = runs_[r.run_name.str()];
            if (auto c = r.counters.find("bytes_per_second"); c != r.counters.end()) f.gbps.push_back(c->second.value / 1e9);
            if (auto c = r.counters.find("ns/msg"); c != r.counters.end()) f.ns.push_back(c->second.value * 1e9);
        }
    }

    // GB/s of the named benchmark (the median of its repetitions), if it ran and reports bytes.
    std::optional<double> gbps(const std::string& name) const { return median(name, &Figures::gbps); }
    // Nanoseconds a message, likewise.
    std::optional<double> ns(const std::string& name) const { return median(name, &Figures::ns); }

    bool empty() const { return runs_.empty(); }

private:
    struct Figures {
        std::vector<double> gbps, ns;
    };
    std::optional<double> median(const std::string& name, std::vector<double> Figures::*which) const {
        const auto it = runs_.find(name);
        if (it == runs_.end() || (it->second.*which).empty()) return std::nullopt;
        std::vector<double> v = it->second.*which;
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    }
    std::map<std::string, Figures> runs_;
};

// True when the command line asks for another output format than the console's (JSON, CSV): the
// summary then stays out of the way and Google Benchmark's own reporter prints.
inline bool console_format(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::strncmp(argv[i], "--benchmark_format=", 19) == 0 && std::strcmp(argv[i] + 19, "console") != 0)
            return false;
    return true;
}

// Runs the registered benchmarks and says whether they went to the console, where the caller's
// summary may follow: on the console (the default) through `summary`, which prints Google
// Benchmark's table as it keeps the figures; in another format (JSON, CSV) through Google
// Benchmark's own reporter, which then owns stdout. The format is read before
// benchmark::Initialize takes its flags out of argv.
inline bool run_benchmarks(int argc, char** argv, Summary& summary) {
    const bool console = console_format(argc, argv);
    benchmark::Initialize(&argc, argv);
    if (console)
        benchmark::RunSpecifiedBenchmarks(&summary);
    else
        benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return console;
}

// "  12.46" (width, decimals, then the unit if any) or "      -" (not run: filtered out, or failed).
inline void print_figure(std::optional<double> v, int width, int decimals, const char* unit = "") {
    if (v)
        std::printf("%*.*f%s", width, decimals, *v, unit);
    else
        std::printf("%*s%*s", width, "-", static_cast<int>(std::strlen(unit)), "");
}

// "x 2.83" (a over b), or "-" when either is missing.
inline void print_ratio(std::optional<double> a, std::optional<double> b, int width) {
    if (a && b && *b > 0)
        std::printf("%*.2fx", width - 1, *a / *b);
    else
        std::printf("%*s", width, "-");
}

}  // namespace farend::perf
