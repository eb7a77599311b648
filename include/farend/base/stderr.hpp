// farend's messages on stderr, for the libraries and the dataplane alike, with their priority
// where stderr is systemd's journal: journald reads a "<N>" before a line as its syslog priority,
// so that `journalctl -u farend -p warning` shows the warnings and errors alone. Elsewhere (a
// terminal, a file, the tests' pipes) the lines carry no priority.
#pragma once

#include <cstddef>

namespace farend {

// syslog's priorities (<syslog.h>), the ones farend uses.
enum class Level : int { err = 3, warning = 4, notice = 5, info = 6 };

// Whether stderr is the journal: $JOURNAL_STREAM names the device and inode of the stream systemd
// connected (systemd.exec(5)), and stderr is that one. Read once.
[[nodiscard]] bool stderr_is_journal() noexcept;

// All n bytes to stderr, in as few write(2)s as the kernel takes (one for a line, so that threads'
// lines do not interleave); a write interrupted by a signal is tried again. Nothing is said when
// stderr is gone: there is nowhere to say it.
void write_stderr(const char* p, std::size_t n) noexcept;

// "farend: " and the text, a line on stderr (one write), after its priority where stderr is the
// journal.
void say(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace farend
