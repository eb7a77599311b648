// Runtime kernel choice: CPU features once, FAREND_SIMD to force one.
#include <farend/simd/scan.hpp>

#include <farend/base/stderr.hpp>

#include <cstdlib>

namespace farend::simd {
namespace {

constexpr Kernel kScalar{Backend::scalar, "scalar", &scan_scalar, &scan_index_scalar, &scan_values_scalar, &scan_summed_scalar, false};
constexpr Kernel kAvx2{Backend::avx2, "avx2", &scan_avx2, &scan_index_avx2, &scan_values_avx2, &scan_summed_avx2, true};
constexpr Kernel kAvx512{Backend::avx512, "avx512", &scan_avx512, &scan_index_avx512, &scan_values_avx512, &scan_summed_avx512, true};

bool cpu_has_avx2() noexcept {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
}
bool cpu_has_avx512bw() noexcept {
    __builtin_cpu_init();
    return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}

struct Supported {
    const Kernel* list[3];
    std::size_t n = 0;
    Supported() noexcept {
        list[n++] = &kScalar;
        if (cpu_has_avx2()) list[n++] = &kAvx2;
        if (cpu_has_avx512bw()) list[n++] = &kAvx512;
    }
};

const Supported& supported_set() noexcept {
    static const Supported s;
    return s;
}

const Kernel& choose() noexcept {
    const auto& s = supported_set();
    const Kernel* best = s.list[s.n - 1];
    if (const char* env = std::getenv("FAREND_SIMD"); env && *env) {
        if (const Kernel* k = kernel_by_name(env)) return *k;
        say(Level::warning, "FAREND_SIMD=%s is not a kernel this CPU runs (scalar, avx2, avx512); using %s", env,
            best->name);
    }
    return *best;
}

}  // namespace

const Kernel& active() noexcept {
    static const Kernel& k = choose();
    return k;
}

const Kernel* kernel(Backend b) noexcept {
    for (const Kernel* k : supported())
        if (k->backend == b) return k;
    return nullptr;
}

std::span<const Kernel* const> supported() noexcept {
    const auto& s = supported_set();
    return {s.list, s.n};
}

const Kernel* kernel_by_name(std::string_view name) noexcept {
    for (const Kernel* k : supported())
        if (name == k->name) return k;
    return nullptr;
}

}  // namespace farend::simd
