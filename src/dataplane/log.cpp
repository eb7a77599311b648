#include <farend/dataplane/log.hpp>

#include <farend/base/stderr.hpp>

#include <rte_log.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace farend::dataplane::log {

namespace {

// Whether the next byte DPDK writes on this thread begins a line (a message longer than the
// stream's buffer comes in several writes).
thread_local bool at_line_start = true;

constexpr char kNoLegacy[] = "TELEMETRY: No legacy callbacks, legacy socket not created";
constexpr std::size_t kNoLegacyLen = sizeof kNoLegacy - 1;

// The write function of DPDK's log stream: what rte_log formatted, to stderr, each line after its
// priority ("<N>": DPDK's levels are syslog's plus one) when stderr is the journal.
ssize_t dpdk_write(void*, const char* buf, std::size_t size) {
    if (!stderr_is_journal()) {
        write_stderr(buf, size);
        return static_cast<ssize_t>(size);
    }
    int prio = rte_log_cur_msg_loglevel() - 1;
    if (prio < 0 || prio > 7) prio = static_cast<int>(Level::info);
    // DPDK 22.11 warns at every start that no legacy telemetry callback is registered. farend
    // registers none on purpose (its figures are on the v2 socket, which dpdk-telemetry.py
    // reads): the line is news, not a warning, and would otherwise show at every start in
    // `journalctl -p warning`. Its text is kept.
    if (prio == static_cast<int>(Level::warning) && at_line_start && size >= kNoLegacyLen &&
        std::memcmp(buf, kNoLegacy, kNoLegacyLen) == 0)
        prio = static_cast<int>(Level::info);
    std::string out;
    out.reserve(size + 16);
    for (std::size_t i = 0; i < size; ++i) {
        if (at_line_start) {
            out += '<';
            out += static_cast<char>('0' + prio);
            out += '>';
        }
        out += buf[i];
        at_line_start = buf[i] == '\n';
    }
    write_stderr(out.data(), out.size());
    return static_cast<ssize_t>(size);
}

}  // namespace

void redirect_dpdk() {
    cookie_io_functions_t io{};
    io.write = dpdk_write;
    if (FILE* f = fopencookie(nullptr, "w", io)) rte_openlog_stream(f);
}

}  // namespace farend::dataplane::log
