// Writing to stderr, for the libraries and the dataplane alike: whether stderr is systemd's
// journal (then each line may start with its syslog priority, "<N>", which journald reads as the
// line's priority), and a write of a whole line that survives signals.
#pragma once

#include <cstddef>

namespace farend {

// Whether stderr is the journal: $JOURNAL_STREAM names the device and inode of the stream systemd
// connected (systemd.exec(5)), and stderr is that one. Read once.
[[nodiscard]] bool stderr_is_journal() noexcept;

// All n bytes to stderr, in as few write(2)s as the kernel takes (one for a line, so that threads'
// lines do not interleave); a write interrupted by a signal is tried again. Nothing is said when
// stderr is gone: there is nowhere to say it.
void write_stderr(const char* p, std::size_t n) noexcept;

}  // namespace farend
