// The core clock of the CPU this runs on, right now: a chain of dependent adds (one a cycle on
// any out-of-order core: each waits for the one before it) timed by the wall clock. farend's busy
// counters and the benchmarks count TSC cycles, which tick at a fixed rate; this VM's core clock
// moves under them (~3.4 GHz, and ~2.0 GHz for minutes at a time), and with it every figure in TSC
// cycles. The benchmarks probe the worker's CPU before and after their runs (farendtools.core_clock)
// to say which clock a run had, and compare the runs that had one clock on their own too. (A run
// can also be slow at the full clock, from a neighbour in the shared caches: this does not see that.)
// Usage: clock_probe [MILLISECONDS]   (default 30; prints "core clock N MHz on cpu C")
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <vector>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

// 16 x kSteps dependent adds: the empty asm keeps each add in a register and in order (no
// folding into one add of 16), so a step is 16 cycles whatever the loop around it costs.
constexpr uint64_t kSteps = 1 << 16;  // ~1 M cycles: ~0.3 ms at 3.4 GHz

uint64_t chain(uint64_t x) noexcept {
    for (uint64_t i = 0; i < kSteps; ++i) {
#define FAREND_ADD   \
    x += 1;          \
    asm volatile("" : "+r"(x));
        FAREND_ADD FAREND_ADD FAREND_ADD FAREND_ADD FAREND_ADD FAREND_ADD FAREND_ADD FAREND_ADD
        FAREND_ADD FAREND_ADD FAREND_ADD FAREND_ADD FAREND_ADD FAREND_ADD FAREND_ADD FAREND_ADD
#undef FAREND_ADD
    }
    return x;
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
    const auto until = clock::now() + std::chrono::milliseconds(ms);
    // The median of the runs (~0.3 ms each): an interrupt or a preemption that slows one run, or
    // a clock that moves during the probe, moves it least.
    std::vector<double> hz;
    uint64_t x = 0;
    do {
        const auto t0 = clock::now();
        x = chain(x);
        const double secs = std::chrono::duration<double>(clock::now() - t0).count();
        hz.push_back(static_cast<double>(kSteps * 16) / secs);
    } while (clock::now() < until);
    std::nth_element(hz.begin(), hz.begin() + static_cast<std::ptrdiff_t>(hz.size() / 2), hz.end());
    const double median = hz[hz.size() / 2];
    std::printf("core clock %.0f MHz on cpu %d\n", median / 1e6, sched_getcpu());
    return x == 0 ? 1 : 0;  // x is 16 x kSteps x runs: never 0 (and the chain is not dead code)
}
