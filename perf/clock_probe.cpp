// How fast the CPU this runs on is right now, two ways, each timed by the wall clock:
// - its core clock: a chain of dependent adds, one a cycle on any out-of-order core (each waits for
//   the one before it);
// - its width: four independent chains of adds, in adds a core cycle. The core can run four
//   (~3.7 a cycle here with the loop), unless something takes a share of the core: most likely
//   its other hardware thread, another tenant's vCPU.
// farend's busy counters and the benchmarks count TSC cycles, which tick at a fixed rate. This VM's
// speed moves under them both ways for minutes at a time: the clock from ~3.4 GHz to ~2.0 (the
// host lowering it), or the width from ~3.7 to ~2.6 adds a cycle at the full clock (seen as a
// 25-30% lower rate of independent adds in a phase when farend ran ~1.6x its cycles). The
// benchmarks probe the worker's CPU before and after each run (farendtools.core_speed) to say
// which speed the run had, and compare the runs at one speed on their own too.
// It also gives the TSC's rate over the probe (its ticks against the wall clock), so that a tool
// can turn TSC cycles into core cycles (perf/profile-dataplane --instructions: instructions a core
// cycle, function by function).
// And how long a load waits that misses the core's second-level cache: a chase of dependent loads
// through 4 MiB in a random order (one 64-byte line a load), in ns. Runs are also slow at the
// full clock and width: with another process streaming through memory on the other vCPU, farend
// took 6-15% more cycles a packet and this chase 3x as long (perf/RESULTS.md, thirty-sixth
// session), where the clock and the width did not move.
// Usage: clock_probe [MILLISECONDS]   (default 30, for the adds; the chase takes ~2-40 ms more;
//        prints "core clock N MHz, W adds a cycle, on cpu C, TSC T MHz, L ns a load")
#include <sched.h>
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

namespace {

// kSteps steps of 16 adds: the empty asm after each keeps it a real add in a register (no
// folding of 16 into one), so a step of one chain is 16 cycles whatever the loop around it costs,
// and a step of four chains 4 cycles on a core that runs four adds a cycle.
constexpr uint64_t kSteps = 1 << 16;  // ~1 M adds a chain: ~0.3 ms at 3.4 GHz
constexpr uint64_t kAdds = kSteps * 16;

#define FAREND_ADD(x) \
    x += 1;           \
    asm volatile("" : "+r"(x));

uint64_t one_chain(uint64_t x) noexcept {
    for (uint64_t i = 0; i < kSteps; ++i) {
        FAREND_ADD(x) FAREND_ADD(x) FAREND_ADD(x) FAREND_ADD(x) FAREND_ADD(x) FAREND_ADD(x) FAREND_ADD(x) FAREND_ADD(x)
        FAREND_ADD(x) FAREND_ADD(x) FAREND_ADD(x) FAREND_ADD(x) FAREND_ADD(x) FAREND_ADD(x) FAREND_ADD(x) FAREND_ADD(x)
    }
    return x;
}

uint64_t four_chains(uint64_t a) noexcept {
    uint64_t b = a, c = a, d = a;
    for (uint64_t i = 0; i < kSteps / 4; ++i) {
#define FAREND_FOUR FAREND_ADD(a) FAREND_ADD(b) FAREND_ADD(c) FAREND_ADD(d)
        FAREND_FOUR FAREND_FOUR FAREND_FOUR FAREND_FOUR FAREND_FOUR FAREND_FOUR FAREND_FOUR FAREND_FOUR
        FAREND_FOUR FAREND_FOUR FAREND_FOUR FAREND_FOUR FAREND_FOUR FAREND_FOUR FAREND_FOUR FAREND_FOUR
#undef FAREND_FOUR
    }
    return a + b + c + d;  // kAdds adds in all, as one_chain
}
#undef FAREND_ADD

// The chase: kLines lines of 64 bytes, each holding the index of the next in one cycle through
// all of them in a random order (Sattolo's shuffle), so that every load waits for the one before
// and no prefetcher can guess the next line. 4 MiB: past this VM's 1 MiB second-level cache, in
// its third level when nothing else presses on it.
constexpr uint32_t kLines = (4u << 20) / 64;
constexpr uint32_t kChase = 1u << 15;  // loads a timed run: ~0.6 ms at 18 ns, ~6 ms at 180 ns

struct Line {
    uint64_t next;
    uint64_t pad[7];
};
static_assert(sizeof(Line) == 64);

std::vector<Line> chase_lines() {
    std::vector<Line> lines(kLines);
    std::vector<uint32_t> order(kLines);
    for (uint32_t i = 0; i < kLines; ++i) order[i] = i;
    uint64_t seed = 0x9e3779b97f4a7c15ull;  // a fixed order: every probe walks the same cycle
    for (uint32_t i = kLines - 1; i > 0; --i) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        std::swap(order[i], order[(seed >> 33) % i]);
    }
    for (uint32_t i = 0; i < kLines; ++i) lines[order[i]].next = order[(i + 1) % kLines];
    return lines;
}

uint64_t chase(const std::vector<Line>& lines, uint64_t p, uint32_t n) noexcept {
    for (uint32_t i = 0; i < n; ++i) p = lines[p].next;
    return p;
}

double median(std::vector<double>& v) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    long ms = 30;
    if (argc > 2 || (argc == 2 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0))) {
        std::fprintf(argc > 2 ? stderr : stdout, "usage: clock_probe [MILLISECONDS]   (1-10000, default 30)\n");
        return argc > 2 ? 2 : 0;
    }
    if (argc == 2) {
        char* end = nullptr;
        ms = std::strtol(argv[1], &end, 10);
        if (*argv[1] == '\0' || *end != '\0' || ms < 1 || ms > 10000) {
            std::fprintf(stderr, "clock_probe: MILLISECONDS must be a whole number from 1 to 10000, not '%s'\n", argv[1]);
            return 2;
        }
    }
    using clock = std::chrono::steady_clock;
    const auto seconds = [](auto t0) { return std::chrono::duration<double>(clock::now() - t0).count(); };
    const auto until = clock::now() + std::chrono::milliseconds(ms);
    // Runs of both kinds in turn until the time is up, and the median of each (an interrupt or a
    // preemption that slows one run, or a speed that moves during the probe, moves it least).
    std::vector<double> hz, width;
    uint64_t x = 0;
    const auto start = clock::now();
    const uint64_t tsc0 = __rdtsc();
    do {
        auto t0 = clock::now();
        x = one_chain(x);
        const double one = seconds(t0);
        t0 = clock::now();
        x = four_chains(x);
        const double four = seconds(t0);
        hz.push_back(static_cast<double>(kAdds) / one);
        width.push_back(one / four);  // adds a cycle: one chain runs one
    } while (clock::now() < until);
    const double tsc_hz = static_cast<double>(__rdtsc() - tsc0) / seconds(start);
    // The chase: one walk through all the lines to bring them in, then five timed runs, their median.
    const std::vector<Line> lines = chase_lines();
    uint64_t p = chase(lines, 0, kLines);
    std::vector<double> ns;
    for (int r = 0; r < 5; ++r) {
        const auto t0 = clock::now();
        p = chase(lines, p, kChase);
        ns.push_back(seconds(t0) * 1e9 / kChase);
    }
    std::printf("core clock %.0f MHz, %.2f adds a cycle, on cpu %d, TSC %.0f MHz, %.1f ns a load\n", median(hz) / 1e6,
                median(width), sched_getcpu(), tsc_hz / 1e6, median(ns));
    // x counts every add: never 0 (and the chains are not dead code); p < kLines, always (and the
    // chase is not dead code either).
    return x == 0 || p >= kLines ? 1 : 0;
}
