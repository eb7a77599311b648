// farend's messages on stderr, and DPDK's, with their priority where stderr is systemd's journal.
//
// Under systemd (configs/farend.service) stderr is a stream to journald, which reads a "<N>"
// before a line as its syslog priority: `journalctl -u farend -p warning` then shows the warnings
// and errors alone. Elsewhere (a terminal, a file, the tests' pipes) the lines are as they were.
// DPDK 22.11 writes each of its log lines to stderr and to syslog, which under systemd puts every
// EAL and driver line in the journal twice; redirect_dpdk() has them written once, to stderr, with
// their priority.
#pragma once

namespace farend::dataplane::log {

// syslog's priorities (<syslog.h>), the ones farend uses.
enum class Level : int { err = 3, warning = 4, notice = 5, info = 6 };

// DPDK's log lines to stderr only, each with its priority where stderr is the journal. Before
// rte_eal_init, so that EAL's own lines go there too.
void redirect_dpdk();

// "farend: " and the text, a line on stderr.
void say(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace farend::dataplane::log
