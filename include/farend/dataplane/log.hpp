// farend's messages on stderr, and DPDK's, with their priority where stderr is systemd's journal.
//
// Under systemd (configs/farend.service) stderr is a stream to journald, which reads a "<N>"
// before a line as its syslog priority: `journalctl -u farend -p warning` then shows the warnings
// and errors alone. Elsewhere (a terminal, a file, the tests' pipes) the lines are as they were.
// DPDK 22.11 writes each of its log lines to stderr and to syslog, which under systemd puts every
// EAL and driver line in the journal twice; redirect_dpdk() has them written once, to stderr, with
// their priority.
#pragma once

#include <farend/base/stderr.hpp>

namespace farend::dataplane::log {

// farend's own lines: base's say() and its levels (the SIMD library, which has no DPDK, says its
// one line through them too).
using farend::Level;
using farend::say;

// DPDK's log lines to stderr only, each with its priority where stderr is the journal. Before
// rte_eal_init, so that EAL's own lines go there too.
void redirect_dpdk();

}  // namespace farend::dataplane::log
