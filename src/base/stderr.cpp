#include <farend/base/stderr.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace farend {

bool stderr_is_journal() noexcept {
    static const bool journal = [] {
        const char* stream = std::getenv("JOURNAL_STREAM");
        unsigned long long dev = 0, ino = 0;
        if (!stream || std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
        struct stat st{};
        return fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
    }();
    return journal;
}

void write_stderr(const char* p, std::size_t n) noexcept {
    while (n > 0) {
        const ssize_t w = ::write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

void say(Level level, const char* fmt, ...) {
    std::string line = stderr_is_journal() ? "<" + std::to_string(static_cast<int>(level)) + ">farend: " : "farend: ";
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
    write_stderr(line.data(), line.size());
}

}  // namespace farend
