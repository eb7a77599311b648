#include <farend/base/stderr.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

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

}  // namespace farend
