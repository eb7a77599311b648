// Cache-line size for per-lcore state. DPDK's RTE_CACHE_LINE_SIZE is 64 on every x86-64 and
// most arm64 targets; the core libraries do not include DPDK, so they carry the constant here
// and the dataplane static_asserts that both agree.
#pragma once

#include <cstddef>

namespace farend {
inline constexpr std::size_t kCacheLine = 64;
}
