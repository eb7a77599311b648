#include <farend/dataplane/log.hpp>

#include <rte_log.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace farend::dataplane::log {

namespace {

// Whether stderr is the journal: $JOURNAL_STREAM names the device and inode of the stream systemd
// connected (systemd.exec(5)), and stderr is that one. Read once.
bool to_journal() {
    static const bool journal = [] {
        const char* stream = std::getenv("JOURNAL_STREAM");
        unsigned long long dev = 0, ino = 0;
        if (!stream || std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
        struct stat st{};
        return fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
    }();
    return journal;
}

void write_all(const char* p, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(STDERR_FILENO, p, n);
        if (w <= 0) return;  // nowhere to say it
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

// Whether the next byte DPDK writes on this thread begins a line (a message longer than the
// stream's buffer comes in several writes).
thread_local bool at_line_start = true;

// The write function of DPDK's log stream: what rte_log formatted, to stderr, each line after its
// priority ("<N>": DPDK's levels are syslog's plus one) when stderr is the journal.
ssize_t dpdk_write(void*, const char* buf, std::size_t size) {
    if (!to_journal()) {
        write_all(buf, size);
        return static_cast<ssize_t>(size);
    }
    int prio = rte_log_cur_msg_loglevel() - 1;
    if (prio < 0 || prio > 7) prio = static_cast<int>(Level::info);
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
    write_all(out.data(), out.size());
    return static_cast<ssize_t>(size);
}

}  // namespace

void redirect_dpdk() {
    cookie_io_functions_t io{};
    io.write = dpdk_write;
    if (FILE* f = fopencookie(nullptr, "w", io)) rte_openlog_stream(f);
}

void say(Level level, const char* fmt, ...) {
    std::string line = to_journal() ? "<" + std::to_string(static_cast<int>(level)) + ">farend: " : "farend: ";
    const std::size_t head = line.size();
    std::va_list ap;
    va_start(ap, fmt);
    std::va_list again;
    va_copy(again, ap);
    const int body = std::vsnprintf(nullptr, 0, fmt, ap);
    va_end(ap);
    if (body > 0) {
        line.resize(head + static_cast<std::size_t>(body) + 1);
        std::vsnprintf(line.data() + head, static_cast<std::size_t>(body) + 1, fmt, again);
        line.back() = '\n';  // over vsnprintf's terminating zero
    } else {
        line += '\n';
    }
    va_end(again);
    write_all(line.data(), line.size());
}

}  // namespace farend::dataplane::log
