#!/usr/bin/python3
"""The real build/farend on captures through net_pcap (scripts/farend-pcap), checked independently
with scapy: frame bytes, IP/UDP lengths and checksums recomputed by scapy, VLAN tags, counters in
--stats-json; option errors; the config file; segmented, jumbo and fragmented frames; every
malformed reason and broken header; two net_tap ports; net_af_packet on a veth (its kernel rings'
drops); every capture of ../shared/corpus/pcap.

Run from the repository root: /usr/bin/python3 -m unittest -v tests/dataplane/test_farend.py
(needs root for DPDK's runtime directory, python3-scapy, a built build/farend)."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from scapy.all import (IP, UDP, IPOption_RR, Dot1Q, Ether, IPv6, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, Raw, defragment,
                       defragment6, fragment, fragment6, rdpcap, wrpcap)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# setUpModule and tearDownModule: the module's scratch directory, removed when its tests end
from dataplane_common import (FAREND, ROOT, FAREND_PCAP, SAMPLE, SHARED, big_register, checksums_ok, natted_register,
                              run_both_ways, run_pcap, setUpModule, sip, tearDownModule)  # noqa: E402,F401
from farendtools import as_ethernet, nat_frame, telemetry, write_pcap  # noqa: E402


class SampleCapture(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.before = rdpcap(SAMPLE)
        cls.after, cls.stats, _ = run_pcap(SAMPLE)

    def test_nothing_lost_order_kept(self):
        self.assertEqual(len(self.after), len(self.before))
        for b, a in zip(self.before, self.after):
            self.assertEqual(bytes(b)[:12], bytes(a)[:12], "MAC addresses are untouched")

    def test_non_sip_frames_identical(self):
        for b, a in zip(self.before, self.after):
            if UDP not in b or b[UDP].dport != 5060:
                self.assertEqual(bytes(b), bytes(a))

    def test_every_frame_has_right_lengths_and_checksums(self):
        for a in self.after:
            self.assertTrue(checksums_ok(a), a.summary())

    def test_natted_messages_rewritten(self):
        texts = [sip(a) for a in self.after]
        register = next(t for t in texts if t.startswith("REGISTER") and "2001@" in t)
        self.assertIn("Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-reg-1;rport=40000;received=203.0.113.5\r\n", register)
        self.assertIn("Contact: <sip:2001@203.0.113.5:40000;transport=udp>;expires=3600\r\n", register)
        invite = next(t for t in texts if t.startswith("INVITE"))
        self.assertIn("c=IN IP4 203.0.113.5\r\n", invite)
        self.assertIn("o=alice 2890844526 2890844526 IN IP4 203.0.113.5\r\n", invite)
        self.assertIn("a=rtcp:49171 IN IP4 203.0.113.5\r\n", invite)
        body = invite.split("\r\n\r\n", 1)[1]
        self.assertIn(f"Content-Length: {len(body)}\r\n", invite)
        v6 = next(t for t in texts if "2002@" in t)
        self.assertIn("Contact: <sip:2002@[2001:db8::5]:40002>", v6)
        self.assertIn(";rport=40002;received=2001:db8::5", v6)

    def test_vlan_tag_kept(self):
        tagged = [a for a in self.after if Dot1Q in a]
        self.assertEqual(len(tagged), 1)
        self.assertEqual(tagged[0][Dot1Q].vlan, 100)
        self.assertIn("received=203.0.113.5", sip(tagged[0]))

    def test_untouched_sip_identical(self):
        for b, a in zip(self.before, self.after):
            t = sip(b)
            if t.startswith("OPTIONS") or t.startswith("INVITE  "):  # public agent, malformed
                self.assertEqual(bytes(b), bytes(a))

    def test_counters(self):
        s = self.stats
        self.assertEqual((s["rx_packets"], s["tx_packets"], s["dropped"]), (11, 11, 0))
        self.assertEqual(s["sip_messages"], 7)
        self.assertEqual(s["nat_detected"], 5)
        self.assertEqual(s["rewritten"], 5)
        self.assertEqual(s["malformed"], 1)
        self.assertEqual(s["malformed_bad_request_uri"], 1)
        self.assertEqual(s["not_udp"], 3)
        self.assertEqual(s["passed_unmodified"], 6)
        self.assertEqual(s["nat_via_private"], 5)
        self.assertEqual(s["rx_bytes"] + (s["tx_bytes"] - s["rx_bytes"]), sum(len(a) for a in self.after))


class Responses(unittest.TestCase):
    """Responses from NATed agents through the real farend: a 1xx/2xx's Contact is the sender's and
    is rewritten; a 3xx's Contacts (where to try instead) and a 485's (the alternatives) name other
    parties and leave byte-identical, not counted as NATed."""

    @staticmethod
    def response(status, contact):
        return (f"SIP/2.0 {status}\r\nVia: SIP/2.0/UDP 198.51.100.10;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n"
                f"To: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContact: {contact}\r\nContent-Length: 0\r\n\r\n")

    def test_redirect_and_ambiguous_contacts_left_as_they_came(self):
        frames = [nat_frame(self.response("180 Ringing", "<sip:b@192.168.1.10:5060>"), 40000),
                  nat_frame(self.response("302 Moved Temporarily", "<sip:3000@192.168.1.77:5060>"), 40000),
                  nat_frame(self.response("485 Ambiguous", "<sip:b1@192.168.1.20>, <sip:b2@192.168.1.21>"), 40000)]
        path = os.path.join(tempfile.mkdtemp(), "responses.pcap")
        write_pcap(path, [bytes(f) for f in frames])
        after, stats, _ = run_pcap(path)
        self.assertEqual(len(after), 3)
        self.assertIn("Contact: <sip:b@203.0.113.5:40000>\r\n", sip(after[0]))
        self.assertTrue(checksums_ok(after[0]))
        self.assertEqual([bytes(a) for a in after[1:]], [bytes(f) for f in frames[1:]])
        self.assertEqual((stats["sip_messages"], stats["nat_detected"], stats["rewritten"], stats["passed_unmodified"],
                          stats["dropped"]), (3, 1, 1, 2, 0))


class Options(unittest.TestCase):
    def test_malformed_drop(self):
        after, stats, _ = run_pcap(SAMPLE, "--malformed", "drop")
        self.assertEqual(len(after), 10)
        self.assertEqual((stats["drop_malformed"], stats["dropped"]), (1, 1))

    def test_rewrite_none_and_alias(self):
        after, stats, _ = run_pcap(SAMPLE, "--rewrite", "none")
        self.assertEqual([bytes(a) for a in after], [bytes(b) for b in rdpcap(SAMPLE)])
        self.assertEqual((stats["nat_detected"], stats["rewritten"], stats["nat_unchanged"]), (5, 0, 5))
        after, _, _ = run_pcap(SAMPLE, "--contact-mode", "alias")
        register = next(sip(a) for a in after if sip(a).startswith("REGISTER") and "2001@" in sip(a))
        self.assertIn("<sip:2001@192.168.1.10:5060;transport=udp;alias=203.0.113.5~40000~1>", register)

    def test_checksums_ignore_rewrites_what_a_sending_host_captured(self):
        # The client's 35 SIP datagrams in this capture were taken on its own host, before checksum
        # offload filled their UDP checksums in: by default not rewritten (bad_checksum); with
        # --checksums ignore, rewritten, their checksums summed anew.
        path = os.path.join(SHARED, "corpus", "pcap", "heplify_erspan_sip_ipv4_udp.DERIVED-decap.pcap")
        if not os.path.exists(path):
            self.skipTest(f"SKIPPED LOUDLY: {path} is missing (../shared/corpus)")
        before = rdpcap(path)
        after, stats, _ = run_pcap(path)
        self.assertEqual((stats["bad_checksum"], stats["rewritten"]), (35, 0))
        self.assertEqual([bytes(a) for a in after], [bytes(b) for b in before])
        after, stats, _ = run_pcap(path, "--checksums", "ignore")
        self.assertEqual(stats["bad_checksum"], 0)
        self.assertGreater(stats["rewritten"], 0)
        changed = [a for b, a in zip(before, after) if bytes(a) != bytes(b)]
        self.assertEqual(len(changed), stats["rewritten"])
        for a in changed:
            self.assertTrue(checksums_ok(a), a.summary())

    def test_sip_ports(self):
        _, stats, _ = run_pcap(SAMPLE, "--sip-ports", "5080")
        self.assertEqual((stats["sip_messages"], stats["rewritten"]), (0, 0))

    def test_bad_values_exit_2_naming_the_option(self):
        for opt, val in [("--nat-tests", "bogus"), ("--port-pair", "0:0"), ("--port-pair", "x"), ("--sip-ports", "70000"),
                         ("--rewrite", "via,bogus"), ("--contact-mode", "both"), ("--private-ranges", "10.1.0.0/8"),
                         ("--malformed", "keep"), ("--checksums", "fix"), ("--keepalive-interval", "abc"), ("--keepalive-interval", "86401"),
                         ("--keepalive-method", "ping"), ("--exit-when-idle", "-1"),
                         ("--mtu", "10"), ("--flow-capacity", "8"), ("--flow-capacity", "16777217"),
                         ("--mbufs", "100"), ("--mbufs", "16777217"), ("--mbufs", "-1"),
                         ("--config", "/nonexistent.conf")]:
            _, _, p = run_pcap(SAMPLE, opt, val, expect_rc=2)
            self.assertIn(opt, p.stderr, f"{opt} {val}: {p.stderr}")
        _, _, p = run_pcap(SAMPLE, "--no-such-option", expect_rc=2)
        self.assertIn("no-such-option", p.stderr)
        # Refused before EAL starts (no runtime directory made, no port or memory taken), so that
        # under systemd the failure is at once and final (configs/farend.service:
        # RestartPreventExitStatus=2); EAL's own bad options exit 2 too, other EAL failures 1.
        prefix = f"fe-badopt-{os.getpid()}"
        eal = [FAREND, "--no-huge", "--no-pci", "-m", "256", "--file-prefix", prefix, "-l", "0", "--vdev=net_null0"]
        p = subprocess.run([*eal, "--", "--mtu", "10"], capture_output=True, text=True, timeout=60)
        self.assertEqual((p.returncode, p.stdout, p.stderr),
                         (2, "", "farend: --mtu: not an MTU (576-65535) (farend --help lists the options)\n"))
        self.assertFalse(os.path.exists(f"/var/run/dpdk/{prefix}"), "EAL started")
        p = subprocess.run([*eal, "--no-such-eal-option", "--", "--mtu", "1400"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("farend: EAL initialisation failed: Invalid argument", p.stderr)
        # The machine's problem: a second farend on a file prefix a running one holds (that one
        # waits in its port's open of a FIFO no one writes) exits 1.
        fifo = os.path.join(tempfile.mkdtemp(), "in.pcap")
        os.mkfifo(fifo)
        first = subprocess.Popen([*eal[:-1], f"--vdev=net_pcap0,rx_pcap={fifo}", "--"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while not os.path.exists(f"/var/run/dpdk/{prefix}/config") and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)
            p = subprocess.run([*eal, "--", "--mtu", "1400"], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("EAL: Cannot init config", p.stderr)
            self.assertTrue(p.stderr.endswith("farend: EAL initialisation failed (see the EAL messages above; farend "
                                              "--help)\n"), p.stderr)
        finally:
            first.kill()
            first.wait()
            shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)

    def test_mbufs(self):
        # The pool the ports' queues need (2 ports, a queue each: 2 x (1,024 + 1,024 + 2 x 32) + 1,024
        # + 1,024 x 8 fragments) is the floor; fewer is refused with both numbers, before any frame.
        _, _, p = run_pcap(SAMPLE, "--mbufs", "13439", expect_rc=1)
        self.assertIn("--mbufs 13439 is fewer than the 13440 mbufs 2 ports with 1 queue(s) each need", p.stderr)
        # More (net_pcap's infinite_rx keeps its whole capture in the pool): the same output as
        # without the option, from a pool of that size.
        a, sa, _ = run_pcap(SAMPLE)
        with tempfile.TemporaryDirectory() as tmp:
            out, stats = os.path.join(tmp, "out.pcap"), os.path.join(tmp, "stats.json")
            p = subprocess.run([FAREND_PCAP, SAMPLE, out, "--stats-json", stats, "--mbufs", "20000"], capture_output=True,
                               text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(stats) as f:
                d = json.load(f)
            self.assertEqual([bytes(f) for f in a], [bytes(f) for f in rdpcap(out)])
        self.assertEqual(d["totals"]["rewritten"], sa["rewritten"])
        self.assertEqual(d["resources"]["pools"]["farend_mbufs"], {"size": 20000, "in_use": 0})

    def test_help_and_version(self):
        p = subprocess.run([FAREND, "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0)
        for opt in ["--config", "--port-pair", "--sip-ports", "--nat-tests", "--rewrite", "--contact-mode",
                    "--private-ranges", "--malformed", "--checksums", "--keepalive-interval", "--keepalive-method", "--exit-when-idle",
                    "--stats-json", "--flow-capacity", "--mbufs", "--mtu", "--rule"]:
            self.assertIn(opt, p.stdout)
        p = subprocess.run([FAREND, "--version"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertTrue(p.stdout.startswith("farend "))

    def test_check_config(self):
        """--check-config checks the options and the config file without starting EAL (a running
        farend's ports, memory and file prefix are left alone): the shipped configuration passes,
        as configs/farend.service's ExecReload runs it; a broken rule, a bad value or a command-line
        option in the file fails with exit status 2 and says what is wrong."""
        shipped = os.path.join(ROOT, "configs", "farend.conf")
        with open(os.path.join(ROOT, "configs", "farend.service")) as f:
            unit = f.read()
        checks = re.findall(r"^ExecReload=(/usr/local/bin/farend --check-config .*)$", unit, re.M)
        self.assertEqual(len(checks), 1, unit)
        prefix = f"fe-check-{os.getpid()}"
        for line in checks:
            argv = line.replace("/usr/local/bin/farend", FAREND).replace("/etc/farend/farend.conf", shipped).split()
            p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("nat-tests = contact-private,via-source-mismatch,via-private,contact-source-mismatch\n", p.stdout)
            self.assertTrue(p.stdout.endswith("farend: configuration OK (0 rule(s); ports, lcores and memory are checked "
                                              "at start)\n"), p.stdout)
        with tempfile.TemporaryDirectory() as tmp:
            conf = os.path.join(tmp, "farend.conf")

            def check(text, *args):
                with open(conf, "w") as f:
                    f.write(text)
                return subprocess.run([FAREND, *args, "--check-config", "--config", conf], capture_output=True,
                                      text=True, timeout=30)
            # EAL options before "--" are not read (a bogus one would stop EAL), and EAL does not start
            p = check("rule = source=10.0.0.0/8 action=never name=lan\nmtu = 1400\n", "--no-such-eal-option",
                      "--file-prefix", prefix, "--")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("mtu = 1400\n", p.stdout)
            self.assertIn("configuration OK (1 rule(s)", p.stdout)
            self.assertFalse(os.path.exists(f"/var/run/dpdk/{prefix}"), "EAL started")
            p = check("rule = source=10.0.0.0/8 action=never\nrule = domain=*.example.com action=sometimes\n")
            self.assertEqual(p.returncode, 2)
            self.assertIn("farend: --rule: rule 2 ('domain=*.example.com action=sometimes')", p.stderr)
            self.assertEqual(p.stdout, "")
            p = check("mtu = 100\n")
            self.assertEqual((p.returncode, p.stderr), (2, "farend: --mtu: not an MTU (576-65535) (farend --help lists the "
                                                           "options)\n"))
            p = check("check-config = 1\n")
            self.assertEqual(p.returncode, 2)
            self.assertIn("check-config is a command-line option", p.stderr)

    def test_priorities_where_stderr_is_the_journal(self):
        """Under systemd stderr is the journal's stream ($JOURNAL_STREAM names its device and inode):
        each line then starts with its syslog priority, farend's and DPDK's (which otherwise also
        go to syslog, so twice into the journal), for `journalctl -p warning`. Anywhere else the
        lines are as they were. Here stderr is a file, and $JOURNAL_STREAM names it or not."""
        with tempfile.TemporaryDirectory() as tmp:
            err_file = os.path.join(tmp, "stderr")

            def run(journal, *argv, simd=None):
                """journal: True for $JOURNAL_STREAM naming stderr's file, a string for that value;
                simd: a $FAREND_SIMD."""
                with open(err_file, "w") as f:
                    st = os.fstat(f.fileno())
                    env = dict(os.environ)
                    env.pop("JOURNAL_STREAM", None)
                    env.pop("FAREND_SIMD", None)
                    if simd:
                        env["FAREND_SIMD"] = simd
                    if journal:
                        env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}" if journal is True else journal
                    p = subprocess.run([FAREND, *argv], stdout=subprocess.DEVNULL, stderr=f, env=env, timeout=60)
                with open(err_file) as f:
                    return p.returncode, f.read().splitlines()
            eal = ["--no-huge", "--no-pci", "-m", "256", "--file-prefix", f"fe-prio-{os.getpid()}", "-l", "0",
                   f"--vdev=net_pcap0,rx_pcap={SAMPLE}", f"--vdev=net_pcap1,tx_pcap={tmp}/out.pcap",
                   "--vdev=net_null2", "--", "--exit-when-idle", "1"]
            rc, lines = run(True, *eal)
            self.assertEqual(rc, 0, lines)
            self.assertRegex(lines[0], r"^<6>EAL: Detected CPU lcores: \d+$")
            self.assertIn("<4>farend: warning: 3 ports found, an odd number; ports outside --port-pair are unused", lines)
            # DPDK 22.11's warning that no legacy telemetry callback exists (farend registers none on
            # purpose) is information: once, its text kept
            self.assertEqual([l for l in lines if "No legacy callbacks" in l],
                             ["<6>TELEMETRY: No legacy callbacks, legacy socket not created"])
            self.assertEqual([l for l in lines if not re.match(r"<[0-7]>", l)], [], "a line without its priority")
            self.assertEqual(len(lines), len(set(lines)), "a line twice")
            rc, plain = run(False, *eal)
            self.assertEqual(rc, 0, plain)
            self.assertIn("farend: warning: 3 ports found, an odd number; ports outside --port-pair are unused", plain)
            self.assertEqual([l for l in plain if re.match(r"<[0-7]>", l)], [])
            self.assertEqual(sorted(re.sub(r"^<[0-7]>", "", l) for l in lines if "fe-prio" not in l),
                             sorted(l for l in plain if "fe-prio" not in l))
            # the SIMD library's one line, a FAREND_SIMD it cannot honour, is a warning
            simd_line = (r"farend: FAREND_SIMD=sse9 is not a kernel this CPU runs \(scalar, avx2, avx512\); "
                         r"using (scalar|avx2|avx512)")
            rc, lines = run(True, *eal, simd="sse9")
            self.assertEqual(rc, 0, lines)
            self.assertEqual(len([l for l in lines if re.fullmatch("<4>" + simd_line, l)]), 1, lines)
            self.assertEqual([l for l in lines if not re.match(r"<[0-7]>", l)], [], "a line without its priority")
            rc, plain = run(False, *eal, simd="sse9")
            self.assertEqual(rc, 0, plain)
            self.assertEqual(len([l for l in plain if re.fullmatch(simd_line, l)]), 1, plain)
            # before EAL: a bad option is an error
            rc, lines = run(True, "--", "--mtu", "5")
            self.assertEqual((rc, lines), (2, ["<3>farend: --mtu: not an MTU (576-65535) (farend --help lists the options)"]))
            # a stream that is not stderr's (systemd's for stdout only, say) changes nothing
            rc, lines = run("1:1", "--", "--mtu", "5")
            self.assertEqual((rc, lines), (2, ["farend: --mtu: not an MTU (576-65535) (farend --help lists the options)"]))

    def test_systemd_unit_verifies(self):
        """configs/farend.service as systemd reads it (systemd-analyze verify, the binary's path made
        this build's): no directive it refuses or ignores."""
        if not shutil.which("systemd-analyze"):
            self.skipTest("SKIPPED LOUDLY: no systemd-analyze on this machine: configs/farend.service is not verified")
        with open(os.path.join(ROOT, "configs", "farend.service")) as f:
            unit = f.read().replace("/usr/local/bin/farend", FAREND)
        self.assertIn("Type=notify\n", unit)
        self.assertIn("WatchdogSec=", unit)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "farend.service")
            with open(path, "w") as f:
                f.write(unit)
            p = subprocess.run(["systemd-analyze", "verify", path], capture_output=True, text=True, timeout=60)
            self.assertEqual((p.returncode, p.stdout + p.stderr), (0, ""))

    def test_config_file_equals_command_line(self):
        opts = ["--nat-tests", "all", "--rewrite", "via,sdp", "--contact-mode", "alias", "--private-ranges",
                "default,198.18.0.0/15", "--malformed", "drop", "--checksums", "ignore", "--sip-ports", "5060,5080",
                "--mtu", "1400"]
        # Everything it writes (the config, each run's output capture) goes in one directory that is
        # removed at the end: nothing left in /tmp.
        with tempfile.TemporaryDirectory() as tmp:
            conf = os.path.join(tmp, "farend.conf")
            with open(conf, "w") as f:
                f.write("# farend test config\nnat-tests = all\nrewrite = via,sdp\ncontact-mode = alias\n"
                        "private-ranges = default,198.18.0.0/15\nmalformed = drop\nchecksums = ignore\n"
                        "sip-ports = 5060,5080\nmtu = 1400\n")
            env = dict(os.environ, FAREND_PCAP_VERBOSE="1")
            runs = iter(range(1000))

            def banner(*args):
                out = os.path.join(tmp, f"out-{next(runs)}.pcap")
                p = subprocess.run([FAREND_PCAP, SAMPLE, out, *args], capture_output=True, text=True, env=env,
                                   timeout=60)
                self.assertEqual(p.returncode, 0, p.stderr)
                return [l for l in p.stdout.splitlines() if " = " in l and not l.startswith("stats-json")]
            self.assertEqual(banner(*opts), banner("--config", conf))
            # the command line wins over the file; the file may repeat what the command line says
            self.assertIn("contact-mode = rewrite", banner("--config", conf, "--contact-mode", "rewrite"))
            with open(conf, "a") as g:
                g.write("port-pair = 0:1\n")
            self.assertIn("port-pair = 0:1", banner("--config", conf))
            with open(conf, "a") as g:
                g.write("no-such-option = 1\n")
            _, _, p = run_pcap(SAMPLE, "--config", conf, expect_rc=2)
            self.assertIn(f"--config {conf}", p.stderr)
            self.assertIn("no-such-option", p.stderr)

    def test_shipped_config_documents_every_option_and_loads(self):
        """configs/farend.conf, which a deployment copies to /etc/farend: every option of --help has
        its commented default line there, and the file with every such line and example rule
        uncommented is one farend accepts, its values in force (the command line's still win)."""
        help_text = subprocess.run([FAREND, "--help"], capture_output=True, text=True, timeout=30).stdout
        names = set(re.findall(r"^\s+(?:-\w \[ )?--([a-z][a-z-]*)", help_text, re.M)) - {"help", "version", "config",
                                                                                         "check-config"}
        self.assertGreaterEqual(len(names), 15, help_text)
        with open(os.path.join(ROOT, "configs", "farend.conf")) as f:
            shipped = f.read()
        missing = sorted(n for n in names if not re.search(rf"^# {re.escape(n)} = ", shipped, re.M))
        self.assertEqual(missing, [], "options of --help without a line in configs/farend.conf")
        with tempfile.TemporaryDirectory() as tmp:
            conf = os.path.join(tmp, "farend.conf")
            live = [l[2:] for l in shipped.splitlines() if re.match(r"# [a-z][a-z-]* = ", l) and l[2:].split(" = ")[0] in names]
            self.assertGreaterEqual(len(live), len(names))
            with open(conf, "w") as f:
                f.write("\n".join(live) + "\n")
            env = dict(os.environ, FAREND_PCAP_VERBOSE="1")
            out, stats = os.path.join(tmp, "out.pcap"), os.path.join(tmp, "stats.json")
            # exit-when-idle = 0 and stats-json = /var/lib/... in the file: the command line's win
            p = subprocess.run([FAREND_PCAP, SAMPLE, out, "--config", conf, "--stats-json", stats], capture_output=True,
                               text=True, env=env, timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            for line in ("nat-tests = contact-private,via-source-mismatch,via-private,contact-source-mismatch",
                         "rewrite = via,contact,sdp", "contact-mode = rewrite", "malformed = pass", "checksums = verify",
                         "mtu = 1500", "flow-capacity = 65536"):
                self.assertIn(line, p.stdout)
            with open(stats) as f:
                totals = json.load(f)["totals"]
            self.assertEqual(totals["rx_packets"], len(rdpcap(SAMPLE)))
            self.assertEqual(totals["dropped"], 0)

    def test_no_ports_is_a_clear_error(self):
        p = subprocess.run([FAREND, "--no-huge", "--no-pci", "-m", "128", "--file-prefix", f"fe-noport-{os.getpid()}",
                            "-l", "0", "--"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no ports", p.stderr)
        self.assertIn("dpdk-devbind.py", p.stderr)

    def test_too_little_eal_memory_says_what_and_how_much(self):
        # Each of farend's allocations at start-up says what it could not make and to give EAL
        # more memory. With two ports and one worker: -m 16 fails at the mbuf pool (55 MiB),
        # -m 64 at the jumbo pool, -m 128 at the reassembly table (after the pools' ~75 MiB).
        expected = {16: "farend: cannot create the mbuf pool: 13440 mbufs of 4352 bytes (55 MiB) needed: ",
                    64: "farend: cannot create the jumbo mbuf pool: 255 mbufs of 64 KiB (15 MiB) needed: ",
                    128: "farend: cannot create the IP reassembly table of worker lcore 0 on socket 0, 8192 entries "}
        for m, start in expected.items():
            p = subprocess.run([FAREND, "--no-huge", "--no-pci", "-m", str(m), "-l", "0", "--file-prefix",
                                f"fe-mem{m}-{os.getpid()}", "--vdev=net_null0,no-rx=1", "--vdev=net_null1,no-rx=1", "--",
                                "--exit-when-idle", "0.5"], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 1, p.stderr)
            last = p.stderr.rstrip("\n").split("\n")[-1]
            self.assertTrue(last.startswith(start), (m, last))
            self.assertTrue(last.endswith("(give EAL more memory: -m, or hugepages)"), (m, last))

    def test_a_vdev_that_did_not_start_is_named(self):
        # EAL goes on when a virtual device fails to start; farend names it, after its driver's
        # own message, whether no port or only some came up.
        tmp = tempfile.mkdtemp()
        missing = os.path.join(tmp, "missing.pcap")
        eal = [FAREND, "--no-huge", "--no-pci", "-m", "128", "-l", "0", "--log-level=lib.eal:warning"]
        p = subprocess.run(eal + ["--file-prefix", f"fe-novdev-{os.getpid()}", f"--vdev=net_pcap0,rx_pcap={missing}", "--"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(f"Couldn't open {missing}", p.stderr)  # the driver's reason, then farend's line
        self.assertTrue(p.stderr.endswith("farend: no ports: --vdev net_pcap0 did not start (its driver says why above)\n"),
                        p.stderr)
        p = subprocess.run(eal + ["--file-prefix", f"fe-novdev2-{os.getpid()}",
                                  f"--vdev=net_pcap0,rx_pcap={SAMPLE},tx_pcap={tmp}/out0.pcap",
                                  f"--vdev=net_pcap1,rx_pcap={missing},tx_pcap={tmp}/out1.pcap",
                                  f"--vdev=net_pcap2,rx_pcap={missing}", "--"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("farend: --port-pair 0:1: port 1 does not exist (1 port(s) found; --vdev net_pcap1, net_pcap2 did not "
                      "start (their drivers say why above))\n", p.stderr)




class Buffers(unittest.TestCase):
    def run_one(self, frame, *opts):
        path = tempfile.mktemp(suffix=".pcap")
        wrpcap(path, [frame])
        after, stats, _ = run_pcap(path, "--mtu", "9000", *opts)  # jumbo ports: no re-fragmentation
        self.assertEqual(len(after), 1)
        return after[0], stats

    def test_rewrite_that_outgrows_the_mbuf_moves_to_a_jumbo_buffer(self):
        # A 4,082-byte frame: the mbuf (4,096 bytes of data room) has 14 bytes to spare; the Via
        # gains 28 ("=40000;received=203.0.113.5").
        frame = big_register(16, 3400)
        self.assertGreater(len(frame), 4000)
        self.assertLess(len(frame), 4096)
        out, stats = self.run_one(frame)
        self.assertEqual((stats["rewritten"], stats["rewrite_no_room"], stats["dropped"]), (1, 0, 0))
        self.assertGreater(len(out), len(frame))
        self.assertTrue(checksums_ok(out))
        self.assertEqual(sip(out).count("@203.0.113.5:40000;ob>"), 16)

    def test_multi_segment_jumbo_frame_is_linearised_and_rewritten(self):
        frame = big_register(3, 8500)
        self.assertGreater(len(frame), 8000)
        out, stats = self.run_one(frame)
        self.assertEqual((stats["rewritten"], stats["drop_linearize"], stats["dropped"]), (1, 0, 0))
        self.assertTrue(checksums_ok(out))
        self.assertIn("rport=40000;received=203.0.113.5", sip(out))


    def test_ipv4_options_kept_and_headers_fixed(self):
        f = big_register(2, 10)
        with_opts = (Ether(src=f.src, dst=f.dst) / IP(src="203.0.113.5", dst="198.51.100.10",
                     options=[IPOption_RR(routers=["10.0.0.1", "10.0.0.2"])]) / f[UDP])
        frame = Ether(bytes(with_opts))
        self.assertGreater(frame[IP].ihl, 5)
        out, stats = self.run_one(frame)
        self.assertEqual(stats["rewritten"], 1)
        self.assertEqual(out[IP].ihl, frame[IP].ihl)
        self.assertEqual(bytes(out[IP])[20:frame[IP].ihl * 4], bytes(frame[IP])[20:frame[IP].ihl * 4], "options kept")
        self.assertTrue(checksums_ok(out))
        self.assertIn(";rport=40000;received=203.0.113.5", sip(out))


class Fragments(unittest.TestCase):
    def run_frames(self, frames, *opts):
        path = tempfile.mktemp(suffix=".pcap")
        wrpcap(path, frames)
        return run_pcap(path, *opts)

    def test_ipv4_fragments_reassembled_rewritten_refragmented(self):
        whole = big_register(3, 2500)  # ~2.8 KB datagram
        frags = fragment(whole[IP], fragsize=1000)
        self.assertEqual(len(frags), 3)
        frames = [Ether(src=whole.src, dst=whole.dst) / f for f in frags]
        after, stats, _ = self.run_frames(frames)
        self.assertEqual((stats["fragments"], stats["reassembled"], stats["rewritten"], stats["refragmented"]), (3, 1, 1, 1))
        self.assertEqual(stats["dropped"], 0)
        self.assertGreaterEqual(len(after), 2)
        for a in after:
            self.assertLessEqual(len(a[IP]), 1500)
            self.assertTrue(checksums_ok(a))
        back = defragment([a[IP] for a in after])
        self.assertEqual(len(back), 1)
        d = IP(bytes(back[0]))
        self.assertTrue(checksums_ok(Ether() / d))
        self.assertIn(";rport=40000;received=203.0.113.5\r\n", bytes(d[UDP].payload).decode())

    def test_ipv6_fragments_reassembled_and_rewritten(self):
        base = big_register(3, 2000)
        pkt = IPv6(src="2001:db8::5", dst="2001:db8::10") / IPv6ExtHdrFragment() / UDP(sport=40002, dport=5060) / base[Raw]
        frags = fragment6(pkt, 1280)
        self.assertGreater(len(frags), 1)
        after, stats, _ = self.run_frames([Ether(src=base.src, dst=base.dst) / f for f in frags])
        self.assertEqual((stats["reassembled"], stats["rewritten"]), (1, 1))
        self.assertEqual(stats["dropped"], 0)
        for a in after:
            self.assertLessEqual(len(a[IPv6]), 1500)

    def test_ipv6_atomic_fragment_is_a_whole_datagram(self):
        # RFC 6946: offset 0 and M clear is a whole datagram, processed on its own: rewritten at
        # once (not held for a last piece that never comes, then passed unread at the timeout),
        # its fragment header kept; the frame after it leaves after it.
        base = natted_register(3, 40002)
        atomic = Ether(src=base.src, dst=base.dst) / IPv6(src="2001:db8::5", dst="2001:db8::10") / \
            IPv6ExtHdrFragment(offset=0, m=0, id=77) / UDP(sport=40002, dport=5060) / base[Raw]
        after, stats, _ = self.run_frames([atomic, base])
        self.assertEqual(len(after), 2)
        first = after[0]
        self.assertIn(IPv6ExtHdrFragment, first, "the atomic fragment leaves first, its fragment header kept")
        self.assertEqual((first[IPv6ExtHdrFragment].offset, first[IPv6ExtHdrFragment].m, first[IPv6ExtHdrFragment].id), (0, 0, 77))
        self.assertTrue(checksums_ok(first))
        self.assertIn(";rport=40002;received=2001:db8::5", sip(first))
        self.assertEqual((stats["fragments"], stats["fragments_passed"], stats["reassembled"]), (0, 0, 0))
        self.assertEqual((stats["rewritten"], stats["dropped"]), (2, 0))

    def test_ipv6_fragment_header_after_hop_by_hop_passes_counted(self):
        # rte_ip_frag reads a fragment header only right after the IPv6 header: pieces with a
        # hop-by-hop header first go on as they came, counted as fragments passed (not silently).
        base = natted_register(3, 40002)
        pkt = IPv6(src="2001:db8::5", dst="2001:db8::10") / IPv6ExtHdrHopByHop() / IPv6ExtHdrFragment(id=5) / \
            UDP(sport=40002, dport=5060) / base[Raw]
        frames = [Ether(src=base.src, dst=base.dst) / f for f in fragment6(pkt, 200)]
        self.assertGreater(len(frames), 1)
        after, stats, _ = self.run_frames(frames)
        self.assertEqual([bytes(a) for a in after], [bytes(f) for f in frames])
        self.assertEqual((stats["fragments"], stats["fragments_passed"], stats["reassembled"], stats["dropped"]),
                         (len(frames), len(frames), 0, 0))

    def test_missing_fragment_passes_what_came(self):
        whole = big_register(3, 2500)
        frags = fragment(whole[IP], fragsize=1000)
        frames = [Ether() / f for f in frags[:2]]
        after, stats, _ = self.run_frames(frames)
        # never completed: at the 2 s timeout (here: at exit) the pieces go on as they came
        self.assertEqual(sorted(bytes(a) for a in after), sorted(bytes(f) for f in frames))
        self.assertEqual((stats["fragments"], stats["fragments_passed"], stats["dropped"]), (2, 2, 0))

    def test_dont_fragment_sent_whole_and_counted(self):
        f = big_register(3, 2500)
        f[IP].flags = "DF"
        after, stats, _ = self.run_frames([Ether(bytes(f))])
        self.assertEqual(len(after), 1)
        self.assertEqual((stats["rewritten"], stats["oversize_tx"]), (1, 1))


MALFORMED_VIA = "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-m\r\n"
MALFORMED_CONTACT = "Contact: <sip:a@192.168.1.10>\r\n"
# One message per parse error reason that a UDP datagram can carry (too-large cannot: 65,507 bytes
# is the most an IPv4 datagram holds; the unit tests cover it).
MALFORMED = {
    "empty": "\r\n\r\n",
    # RFC 5626 4.4.2's keepalive over UDP: a STUN Binding request (RFC 5389 6: type 0x0001, length 0,
    # the magic cookie, a transaction ID)
    "stun": bytes.fromhex("000100002112a442") + bytes.fromhex("5a1f0377219c4401ee306b12"),
    "bad_start_line": "HELLO\r\n" + MALFORMED_VIA + "\r\n",
    "bad_method": "INV@TE sip:a@b SIP/2.0\r\n" + MALFORMED_VIA + "\r\n",
    "bad_request_uri": "INVITE nouri SIP/2.0\r\n" + MALFORMED_VIA + "\r\n",
    "bad_version": "INVITE sip:a@b SIP/3.0\r\n" + MALFORMED_VIA + "\r\n",
    "bad_status_code": "SIP/2.0 99 Odd\r\n" + MALFORMED_VIA + "\r\n",
    "no_end_of_headers": "REGISTER sip:b SIP/2.0\r\n" + MALFORMED_VIA + MALFORMED_CONTACT,
    "header_without_colon": "REGISTER sip:b SIP/2.0\r\n" + MALFORMED_VIA + "NoColonHere\r\n\r\n",
    "bad_header_name": "REGISTER sip:b SIP/2.0\r\n" + MALFORMED_VIA + "Bad Name: x\r\n\r\n",
    "fold_before_header": "REGISTER sip:b SIP/2.0\r\n  folded\r\n" + MALFORMED_VIA + "\r\n",
    "too_many_headers": "REGISTER sip:b SIP/2.0\r\n" + MALFORMED_VIA + "".join(f"X-H{i}: {i}\r\n" for i in range(100)) + "\r\n",
    "bad_content_length": "REGISTER sip:b SIP/2.0\r\n" + MALFORMED_VIA + MALFORMED_CONTACT + "Content-Length: abc\r\n\r\n",
    "content_length_too_large": "REGISTER sip:b SIP/2.0\r\n" + MALFORMED_VIA + MALFORMED_CONTACT + "Content-Length: 99999999\r\n\r\n",
    "content_length_conflict": "REGISTER sip:b SIP/2.0\r\n" + MALFORMED_VIA + MALFORMED_CONTACT + "Content-Length: 0\r\nl: 3\r\n\r\nabc",
    "body_truncated": "REGISTER sip:b SIP/2.0\r\n" + MALFORMED_VIA + MALFORMED_CONTACT + "Content-Length: 50\r\n\r\nabc",
}


class HostileFrames(unittest.TestCase):
    """Every malformed reason, broken IP/UDP headers, the largest datagrams, fragment floods: nothing
    crashes, nothing is lost without a count, what cannot be read goes on byte-identical."""

    def run_frames(self, frames, *opts):
        path = tempfile.mktemp(suffix=".pcap")
        wrpcap(path, frames)
        return run_pcap(path, *opts)

    def test_every_malformed_reason_golden(self):
        frames = [nat_frame(m, 40000 + i) for i, m in enumerate(MALFORMED.values())]
        after, stats, _ = self.run_frames(frames)
        self.assertEqual([bytes(a) for a in after], [bytes(f) for f in frames])  # --malformed pass: byte-identical
        for reason in MALFORMED:
            self.assertEqual(stats[f"malformed_{reason}"], 1, reason)
        self.assertEqual((stats["malformed"], stats["passed_unmodified"], stats["dropped"]), (len(MALFORMED), len(MALFORMED), 0))
        after, stats, _ = self.run_frames(frames, "--malformed", "drop")
        # dropped and counted, except an agent's keepalives (CRLFs, STUN), which are no broken SIP
        self.assertEqual([bytes(a) for a in after], [bytes(frames[0]), bytes(frames[1])])
        self.assertEqual((stats["drop_malformed"], stats["dropped"]), (len(MALFORMED) - 2, len(MALFORMED) - 2))

    def test_zero_byte_keepalive_forwarded_under_drop(self):
        # Four zero bytes (what farend's own --keepalive-method null4 sends, and agents too) are a
        # NAT keepalive like CRLFs: forwarded even with --malformed drop. The "hello" keepalives of
        # ../shared's ndpi_sip_hello capture are junk as SIP: dropped, counted.
        null4, hello = nat_frame(b"\0\0\0\0", 40001), nat_frame(b"hello" + b"\0" * 9, 40002)
        after, stats, _ = self.run_frames([null4, hello], "--malformed", "drop")
        self.assertEqual([bytes(a) for a in after], [bytes(null4)])
        self.assertEqual((stats["malformed_empty"], stats["malformed_no_end_of_headers"]), (1, 1))
        self.assertEqual((stats["drop_malformed"], stats["dropped"]), (1, 1))

    def test_stun_keepalive_and_its_answer_pass_both_ways(self):
        # RFC 5626 4.4.2: over UDP an agent keeps its flow open with STUN Binding requests to the
        # switch's SIP port, and takes a missing answer for a dead flow. The request goes on even
        # with --malformed drop (counted malformed_stun); the switch's answer (a success response
        # with the agent's public address, XOR-MAPPED-ADDRESS) comes back untouched, in alias mode
        # too, where the switch's side is read for aliases.
        request = MALFORMED["stun"]
        answer = (bytes.fromhex("0101000c2112a442") + request[8:20] +
                  bytes.fromhex("0020000800019c42") + bytes([203 ^ 0x21, 0 ^ 0x12, 113 ^ 0xa4, 5 ^ 0x42]))
        up = nat_frame(request, 40000)
        down = (Ether(src="02:00:00:00:02:0a", dst="02:00:00:00:01:0a") / IP(src="198.51.100.10", dst="203.0.113.5")
                / UDP(sport=5060, dport=40000) / Raw(answer))
        after, back, stats = run_both_ways([up], [down], "--malformed", "drop", "--contact-mode", "alias")
        self.assertEqual([bytes(a) for a in after], [bytes(up)])
        self.assertEqual([bytes(a) for a in back], [bytes(down)])
        self.assertEqual((stats["malformed_stun"], stats["malformed"], stats["dropped"]), (1, 1, 0))
        self.assertEqual((stats["alias_bad"], stats["alias_retargeted"], stats["passed_unmodified"]), (0, 0, 2))

    def test_frames_cut_short_over_the_mtu_leave_whole(self):
        # A datagram cut short on the way (af_packet's frame size cuts what the kernel put
        # together): its IP length is larger than the frame. Over the MTU, cutting it into
        # fragments would make a datagram of what is left; it leaves whole, as it came
        # (oversize_tx), and is counted bad_frames. The same from the switch's side in alias mode.
        register = natted_register(0, 40000)
        body = bytes(register[Raw]) + b"X" * 3000
        cut = Ether(bytes(nat_frame(body, 40000))[:2000])
        down = Ether(bytes(Ether(src="02:00:00:00:02:0a", dst="02:00:00:00:01:0a") / IP(src="198.51.100.10", dst="203.0.113.5")
                           / UDP(sport=5060, dport=40000) / Raw(b"INVITE sip:a@192.168.1.10;alias=203.0.113.5~40000~1 SIP/2.0\r\n" + b"Y" * 3000)))
        down_cut = Ether(bytes(down)[:2000])
        after, back, stats = run_both_ways([cut], [down_cut], "--contact-mode", "alias")
        self.assertEqual([bytes(a) for a in after], [bytes(cut)])
        self.assertEqual([bytes(a) for a in back], [bytes(down_cut)])
        self.assertEqual((stats["bad_frames"], stats["oversize_tx"], stats["refragmented"], stats["dropped"]), (2, 2, 0, 0))

    def test_broken_headers_forwarded_byte_identical(self):
        msg = nat_frame("REGISTER sip:b SIP/2.0\r\n" + MALFORMED_VIA + MALFORMED_CONTACT + "Content-Length: 0\r\n\r\n", 40000)
        b = bytes(msg)
        def patched(off, value, width=2):
            return Ether(b[:off] + value.to_bytes(width, "big") + b[off + width:])
        ip6 = bytearray(bytes(Ether(src="02:00:00:00:01:0a", dst="02:00:00:00:02:0a") / IPv6(src="2001:db8::5", dst="2001:db8::10")
                              / UDP(sport=40006, dport=5060) / msg[Raw]))
        ip6[18:20] = (3000).to_bytes(2, "big")
        frames = [
            patched(14 + 24, 0xffff),         # UDP length beyond the datagram
            patched(14 + 24, 4),              # UDP length under its own header
            patched(14 + 2, 1400),            # IP total length beyond the frame
            patched(14 + 2, 10),              # IP total length under the header
            patched(14, 0x43, 1),             # IHL 3 (12-byte header)
            Ether(b[:14 + 20 + 4]),           # UDP header cut
            Ether(b[:14 + 10]),               # IP header cut
            Ether(bytes(ip6)),                # IPv6 payload length beyond the frame
        ]
        zero = Ether(src="02:00:00:00:01:0a", dst="02:00:00:00:02:0a") / IP(src="203.0.113.5", dst="198.51.100.10") / UDP(sport=40000, dport=5060)
        after, stats, _ = self.run_frames(frames + [zero])
        self.assertEqual([bytes(a) for a in after], [bytes(f) for f in frames + [zero]])
        self.assertEqual(stats["bad_frames"], len(frames))
        self.assertEqual(stats["malformed_empty"], 1)  # zero-length UDP to the SIP port: an empty datagram
        self.assertEqual((stats["dropped"], stats["sip_messages"]), (0, 1))

    def test_damaged_datagrams_forwarded_byte_identical(self):
        # A datagram damaged on the way (a byte changed after its checksums were summed) is never
        # rewritten: its new checksums would vouch for the damage, where the switch would have
        # discarded it. IPv4 payload, IPv4 header (TTL), IPv6 payload, IPv6 without a checksum.
        sound = [natted_register(i, 41000 + i) for i in range(4)]
        def damaged(frame, off):
            b = bytearray(bytes(frame))
            b[off] ^= 0x01
            return Ether(bytes(b))
        v6 = Ether(src="02:00:00:00:01:0a", dst="02:00:00:00:02:0a") / IPv6(src="2001:db8::5", dst="2001:db8::10") \
            / UDP(sport=41010, dport=5060) / Raw(bytes(natted_register(10)[UDP].payload))
        v6_zero = Ether(bytes(v6))
        v6_zero[UDP].chksum = 0
        frames = [damaged(sound[0], len(bytes(sound[0])) - 30), damaged(sound[1], 14 + 8),
                  damaged(v6, len(bytes(v6)) - 30), Ether(bytes(v6_zero))] + sound[2:]
        after, stats, _ = self.run_frames(frames)
        self.assertEqual([bytes(a) for a in after[:4]], [bytes(f) for f in frames[:4]])
        for b, a in zip(frames[4:], after[4:]):
            self.assertNotEqual(bytes(a), bytes(b))
            self.assertTrue(checksums_ok(a))
        self.assertEqual((stats["bad_checksum"], stats["rewritten"], stats["sip_messages"]), (4, 2, 2))
        self.assertEqual((stats["passed_unmodified"], stats["dropped"]), (4, 0))

    @staticmethod
    def big_datagram(total, sport):
        head = (f"REGISTER sip:b SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-big{sport}\r\n"
                "Contact: <sip:a@192.168.1.10>\r\nContent-Length: 0\r\nX-Pad: ")
        msg = (head + "p" * (total - len(head) - 4) + "\r\n\r\n").encode()
        assert len(msg) == total
        return IP(src="203.0.113.5", dst="198.51.100.10") / UDP(sport=sport, dport=5060) / Raw(msg)

    def test_largest_datagrams(self):
        # 8 fragments is the most rte_ip_frag reassembles (RTE_LIBRTE_IP_FRAG_MAX_FRAG): such a
        # datagram is rewritten; 45-fragment ones (65,000 and 65,507 bytes of SIP) go on as they came.
        eth = Ether(src="02:00:00:00:01:0a", dst="02:00:00:00:02:0a")
        eight = [eth / f for f in fragment(self.big_datagram(11000, 40000), fragsize=1480)]
        self.assertEqual(len(eight), 8)
        after, stats, _ = self.run_frames(eight)
        self.assertEqual((stats["reassembled"], stats["rewritten"], stats["fragments_passed"], stats["dropped"]), (1, 1, 0, 0))
        back = defragment([a[IP] for a in after])
        self.assertEqual(len(back), 1)
        self.assertTrue(b";received=203.0.113.5;rport=40000\r\n" in bytes(IP(bytes(back[0]))[UDP].payload))
        huge = [eth / f for total, sport in ((65000, 40001), (65507, 40002))
                for f in fragment(self.big_datagram(total, sport), fragsize=1480)]
        self.assertEqual(len(huge), 89)  # 44 + 45 pieces of 1,480 bytes
        after, stats, _ = self.run_frames(huge)
        self.assertEqual(sorted(bytes(a) for a in after), sorted(bytes(f) for f in huge))
        self.assertEqual((stats["fragments"], stats["fragments_passed"], stats["reassembled"], stats["dropped"]), (89, 89, 0, 0))

    def test_fragment_flood_and_overlaps(self):
        # 10,000 first fragments of datagrams that never complete: far more than the table holds
        # (1,024 a worker), and more than the mbuf pool could keep if the table took them all
        eth = Ether(src="02:00:00:00:01:0a", dst="02:00:00:00:02:0a")
        flood = [eth / IP(src="203.0.113.5", dst="198.51.100.10", id=i, flags="MF", proto=17) / Raw(b"f" * 64)
                 for i in range(1, 10001)]
        # two fragments that overlap (teardrop), and a datagram that completes, after the flood
        over = [eth / IP(src="203.0.113.6", dst="198.51.100.10", id=7, flags="MF", frag=0, proto=17) / Raw(b"o" * 64),
                eth / IP(src="203.0.113.6", dst="198.51.100.10", id=7, frag=4, proto=17) / Raw(b"o" * 64)]
        good = [eth / f for f in fragment(self.big_datagram(2000, 40003), fragsize=1480)]
        frames = flood + over + good
        after, stats, _ = self.run_frames(frames)
        self.assertEqual(len(after), len(frames))  # one frame out for each in, whatever was reassembled
        self.assertEqual((stats["fragments"], stats["dropped"]), (len(frames), 0))
        self.assertGreaterEqual(stats["fragments_passed"], len(flood) + len(over))
        passed = {bytes(a) for a in after}
        self.assertTrue(all(bytes(f) in passed for f in flood + over))

    def test_overlaps_that_add_up_leave_no_half_built_datagram(self):
        # Four pieces whose lengths add up to the datagram's (0-32, 16-48, 64-128, 128-192): the
        # library chains 64-192 together, then finds the hole at 48-64 and gives up. The chain
        # (its tail stripped of its header) is freed and counted; the other two go on as they came.
        eth = Ether(src="02:00:00:00:01:0a", dst="02:00:00:00:02:0a")
        def piece(ofs, n, more):
            return eth / IP(src="203.0.113.7", dst="198.51.100.10", id=9, flags="MF" if more else 0, frag=ofs // 8,
                            proto=17) / Raw(bytes([65 + ofs // 16]) * n)
        frames = [piece(0, 32, True), piece(16, 32, True), piece(64, 64, True), piece(128, 64, False)]
        after, stats, _ = self.run_frames(frames)
        self.assertEqual(sorted(bytes(a) for a in after), sorted(bytes(f) for f in frames[:2]))
        self.assertEqual((stats["fragments"], stats["fragments_passed"], stats["drop_fragments"], stats["dropped"]),
                         (4, 2, 1, 1))


def stop_farend(test, farend, stats_path):
    """SIGINT to a farend started with --stats-json stats_path; it must exit 0. Returns its output
    and its report."""
    farend.send_signal(signal.SIGINT)
    out, err = farend.communicate(timeout=30)
    test.assertEqual(farend.returncode, 0, err)
    with open(stats_path) as f:
        return out, err, json.load(f)


class TapPorts(unittest.TestCase):
    """Ports that do the checksum work themselves, as NICs do: net_tap verifies UDP checksums on
    receipt and fills IPv4 and UDP checksums in on transmit (in software, behind the same ethdev
    offload flags as a NIC's). farend, in a network namespace of its own with two tap ports,
    says so per port; a sound NATed datagram leaves rewritten with right checksums, which the
    port filled in from farend's pseudo-header sums; a damaged one is told apart by the port's
    verdict and leaves as it came. The frames go from the kernel's side of one tap to the other:
    nothing leaves the namespace."""

    NS = f"farend-tap-{os.getpid()}"

    def setUp(self):
        if not os.path.exists("/dev/net/tun"):
            self.skipTest("SKIPPED LOUDLY: no /dev/net/tun on this machine: net_tap cannot run, the ports' "
                          "checksum offloads are not tested")
        subprocess.run(["ip", "netns", "add", self.NS], check=True)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", self.NS])
        # No IPv6 on the taps: the kernel would send its own router solicitations through farend.
        subprocess.run(["ip", "netns", "exec", self.NS, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1",
                        "net.ipv6.conf.all.disable_ipv6=1"], check=True)

    def start_farend(self, stats_path):
        """farend on the two taps; returns it and its start-up lines about the ports."""
        farend = subprocess.Popen(
            ["ip", "netns", "exec", self.NS, FAREND, "--no-huge", "--no-pci", "-m", "512", "--file-prefix", self.NS,
             "-l", "0", "--log-level=lib.eal:warning", "--vdev=net_tap0,iface=fe-tap-a", "--vdev=net_tap1,iface=fe-tap-c",
             "--", "--stats-json", stats_path],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: farend.poll() is None and farend.kill())
        ports = []
        for line in farend.stdout:  # the start-up description ends with a line per port
            if line.startswith("port "):
                ports.append(line.strip())
                if len(ports) == 2:
                    break
        return farend, ports

    def send_and_sniff(self, sent_path, got_path):
        """The kernel's side: sniff the core tap, send the frames of sent_path into the access tap."""
        probe = f"""
import sys, time
from scapy.all import AsyncSniffer, rdpcap, sendp, wrpcap
sniffer = AsyncSniffer(iface="fe-tap-c", store=True)
sniffer.start()
time.sleep(1)
sendp(rdpcap({sent_path!r}), iface="fe-tap-a", verbose=False)
time.sleep(2)
wrpcap({got_path!r}, sniffer.stop())
"""
        subprocess.run(["ip", "netns", "exec", self.NS, "/usr/bin/python3", "-c", probe], check=True, timeout=60)

    def test_checksums_by_the_ports(self):
        tmp = tempfile.mkdtemp()
        stats_path, sent_path, got_path = (os.path.join(tmp, n) for n in ("stats.json", "in.pcap", "out.pcap"))
        msg = ("REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKt1\r\n"
               "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\nCall-ID: t1\r\n"
               "CSeq: 1 REGISTER\r\nContact: <sip:alice@192.168.1.10:5060>\r\nContent-Length: 0\r\n\r\n")
        sound = Ether(bytes(nat_frame(msg, 40000)))
        damaged = bytearray(bytes(nat_frame(msg.replace("t1", "t2"), 40001)))
        damaged[-30] ^= 0x04  # after scapy summed its checksum
        damaged = Ether(bytes(damaged))
        sound6 = Ether(bytes(Ether(src="02:00:00:00:01:0a", dst="02:00:00:00:02:0a") /
                             IPv6(src="2001:db8::5", dst="2001:db8::10") / UDP(sport=40002, dport=5060) /
                             Raw(msg.replace("t1", "t3").encode())))
        sent = [sound, damaged, sound6]
        wrpcap(sent_path, sent)
        farend, ports = self.start_farend(stats_path)
        self.assertEqual(ports, [f"port {p} (net_tap): link up, 10 Gbps, full-duplex; UDP checksums verified on receipt "
                                 f"by the port; IPv4 and UDP checksums filled in on transmit by the port" for p in (0, 1)])
        self.send_and_sniff(sent_path, got_path)
        out, err, report = stop_farend(self, farend, stats_path)
        stats = report["totals"]
        got = [f for f in rdpcap(got_path) if UDP in f]
        self.assertEqual(len(got), 3, [f.summary() for f in got])
        by_port = {f[UDP].sport: f for f in got}
        for sport in (40000, 40002):
            self.assertTrue(checksums_ok(by_port[sport]), f"source port {sport}: checksums as the port filled them in")
            self.assertIn(b"received=", bytes(by_port[sport][Raw]))
        self.assertNotEqual(by_port[40000][UDP].chksum, 0)
        self.assertEqual(bytes(by_port[40001]), bytes(damaged), "the damaged datagram leaves as it came")
        self.assertEqual((stats["rewritten"], stats["bad_checksum"], stats["dropped"]), (2, 1, 0))
        for p in ("0", "1"):
            self.assertTrue(report["resources"]["ports"][p]["rx_checksum_offload"])
            self.assertTrue(report["resources"]["ports"][p]["tx_checksum_offload"])

    def test_a_link_that_goes_down_and_up(self):
        """The core port's link goes down and comes back (a cable pulled, a switch port reset): farend
        says each change on stderr at once, shows the link in /farend/resources, counts the changes,
        and forwards again once the link is back."""
        tmp = tempfile.mkdtemp()
        stats_path, sent_path, got_path = (os.path.join(tmp, n) for n in ("stats.json", "in.pcap", "out.pcap"))
        wrpcap(sent_path, [Ether(bytes(natted_register(0)))])
        farend, ports = self.start_farend(stats_path)
        self.assertTrue(all("link up, 10 Gbps, full-duplex;" in p for p in ports), ports)

        def link_of_port1(up):
            for _ in range(50):  # the watch thread reads the links every 250 ms
                res = telemetry(self.NS, "/farend/resources", proc=farend)
                if res["port1_link_up"] == up:
                    return res
                time.sleep(0.1)
            self.fail(f"/farend/resources did not show port 1's link {'up' if up else 'down'}: {res}")

        subprocess.run(["ip", "-n", self.NS, "link", "set", "fe-tap-c", "down"], check=True)
        res = link_of_port1(0)
        self.assertEqual((res["port1_link_changes"], res["port0_link_up"], res["port0_link_changes"]), (1, 1, 0))
        subprocess.run(["ip", "-n", self.NS, "link", "set", "fe-tap-c", "up"], check=True)
        res = link_of_port1(1)
        self.assertEqual((res["port1_link_changes"], res["port1_link_speed_mbps"], res["port1_link_full_duplex"]),
                         (2, 10000, 1))
        self.send_and_sniff(sent_path, got_path)  # and frames pass again
        out, err, report = stop_farend(self, farend, stats_path)
        self.assertEqual([line for line in err.splitlines() if "link" in line],
                         ["farend: port 1 (net_tap): link DOWN", "farend: port 1 (net_tap): link up, 10 Gbps, full-duplex"])
        self.assertIn("  port 1 (net_tap): link changed 2 time(s), up at the end\n", out)
        self.assertNotIn("port 0 (net_tap): link changed", out)
        got = [f for f in rdpcap(got_path) if UDP in f]
        self.assertEqual(len(got), 1, [f.summary() for f in got])
        via = re.search(rb"Via: [^\r]*", bytes(got[0][Raw])).group(0)
        self.assertEqual(via, b"Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-r0;rport=40000;received=203.0.113.5")
        ports_json = report["resources"]["ports"]
        self.assertEqual((ports_json["0"]["link_changes"], ports_json["1"]["link_changes"], ports_json["1"]["link_up"]),
                         (0, 2, True))


class AfPacketPorts(unittest.TestCase):
    """net_af_packet on a veth pair (or a tap) in a network namespace of its own. DPDK 22.11's
    af_packet driver reads no drop count of its rings, so a frame the kernel had no room for was
    lost without a trace: farend reads each of the driver's sockets' PACKET_STATISTICS and adds the
    drops to the port's rx_missed. The driver says its link is up, 10 Gbps, full-duplex whatever
    its interface is: farend reads the interface's. A port with more receive queues than workers
    (whose frames the kernel spreads over them all) is refused. Frames go from the peer end of the
    veth into farend's end; nothing leaves the namespace."""

    NS = f"farend-afp-{os.getpid()}"
    RING = 64  # framecnt: frames a queue's ring holds

    def setUp(self):
        subprocess.run(["ip", "netns", "add", self.NS], check=True)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", self.NS])
        # No IPv6: the kernel would send its own router solicitations into the rings.
        subprocess.run(["ip", "netns", "exec", self.NS, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1",
                        "net.ipv6.conf.all.disable_ipv6=1"], check=True)
        subprocess.run(["ip", "-n", self.NS, "link", "add", "fe-afp-a", "type", "veth", "peer", "name", "fe-afp-p"],
                       check=True)
        for dev in ("fe-afp-a", "fe-afp-p"):
            subprocess.run(["ip", "-n", self.NS, "link", "set", dev, "up"], check=True)

    def farend(self, lcores, qpairs, stats_path, iface="fe-afp-a"):
        return subprocess.Popen(
            ["ip", "netns", "exec", self.NS, FAREND, "--no-huge", "--no-pci", "-m", "512", "--file-prefix", self.NS,
             *lcores, "--log-level=lib.eal:warning",
             f"--vdev=net_af_packet0,iface={iface},qpairs={qpairs},framecnt={self.RING},framesz=4096,blocksz=4096",
             "--vdev=net_null1,no-rx=1", "--", "--stats-json", stats_path],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def received(self, dev="fe-afp-a"):
        """Frames an interface of the namespace has received (its sysfs, as the namespace sees it)."""
        return int(subprocess.run(["ip", "netns", "exec", self.NS, "cat", f"/sys/class/net/{dev}/statistics/rx_packets"],
                                  check=True, capture_output=True, text=True).stdout)

    def send_registers(self, first, count, every=50, pause=0.05):
        """NATed REGISTERs first..first+count-1 into the veth's peer end (toward farend's), a pause
        after every `every` (the veth's backlog drains between)."""
        code = f"""
import socket, sys, time
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
from dataplane_common import natted_register
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("fe-afp-p", 0))
for i in range({first}, {first + count}):
    s.send(bytes(natted_register(i)))
    if i % {every} == {every - 1}:
        time.sleep({pause})
"""
        subprocess.run(["ip", "netns", "exec", self.NS, "/usr/bin/python3", "-c", code], check=True, timeout=60)


    def test_a_full_kernel_ring_is_counted(self):
        """Two workers, one ring each (qpairs=2, 64 frames a ring). farend is stopped (SIGSTOP) while 300
        NATed REGISTERs arrive: each ring takes 64, the kernel drops the rest. Once farend runs again
        it reads the 128 and counts the 172 as port 0's rx_missed, in /farend/resources at once and
        at exit: every frame the interface received is read or counted. (farend before this
        counted 0 and the 172 were gone unseen: checked by hand with its build.)"""
        tmp = tempfile.mkdtemp()
        stats_path = os.path.join(tmp, "stats.json")
        farend = self.farend(["--lcores", "0@0,1@0,2@1"], 2, stats_path)  # main lcore, two workers
        self.addCleanup(lambda: farend.poll() is None and farend.kill())
        res = telemetry(self.NS, "/farend/resources", proc=farend)
        self.assertEqual((res["port0_rx_packets"], res["port0_rx_missed"]), (0, 0))
        before = self.received()
        farend.send_signal(signal.SIGSTOP)
        try:
            self.send_registers(0, 300)
            received = self.received() - before
        finally:
            farend.send_signal(signal.SIGCONT)
        self.assertEqual(received, 300, "the veth delivered every frame to farend's end")
        for _ in range(50):
            res = telemetry(self.NS, "/farend/resources", proc=farend)
            if res["port0_rx_packets"] + res["port0_rx_missed"] >= received:
                break
            time.sleep(0.1)
        self.assertEqual(res["port0_rx_packets"] + res["port0_rx_missed"], received, res)
        self.assertEqual(res["port0_rx_packets"], 2 * self.RING, "each ring was full: 64 frames a queue read")
        out, err, report = stop_farend(self, farend, stats_path)
        missed = received - 2 * self.RING
        self.assertIn(f"  port 0 (net_af_packet): rx_missed {missed}, rx_nombuf 0, rx_errors 0, tx_errors 0 (dropped by "
                      "the port", out)
        port = report["resources"]["ports"]["0"]
        self.assertEqual((port["rx_packets"], port["rx_missed"]), (2 * self.RING, missed))
        totals = report["totals"]
        self.assertEqual((totals["rx_packets"], totals["rewritten"], totals["dropped"]), (2 * self.RING, 2 * self.RING, 0))

    def test_a_link_that_goes_down_and_up(self):
        """DPDK 22.11's af_packet driver says its link is up whatever its interface is; farend reads
        the interface's flags instead. The veth's peer taken down (farend's end loses its carrier),
        then farend's end itself (administratively): each change said on stderr, shown in
        /farend/resources and counted; a REGISTER sent once both are back leaves rewritten. Then the
        veth is deleted: down for good, and farend goes on (and stops cleanly)."""
        tmp = tempfile.mkdtemp()
        stats_path = os.path.join(tmp, "stats.json")
        farend = self.farend(["-l", "0"], 1, stats_path)
        self.addCleanup(lambda: farend.poll() is None and farend.kill())

        def link(up, changes):
            for _ in range(50):  # the watch thread reads the links every 250 ms
                res = telemetry(self.NS, "/farend/resources", proc=farend)
                if (res["port0_link_up"], res["port0_link_changes"]) == (up, changes):
                    return
                time.sleep(0.1)
            self.fail(f"/farend/resources did not show port 0's link {'up' if up else 'down'}: {res}")

        def set_link(dev, state):
            subprocess.run(["ip", "-n", self.NS, "link", "set", dev, state], check=True)

        link(1, 0)
        set_link("fe-afp-p", "down")  # the peer: farend's end loses its carrier
        link(0, 1)
        set_link("fe-afp-p", "up")
        link(1, 2)
        set_link("fe-afp-a", "down")  # farend's own end
        link(0, 3)
        set_link("fe-afp-a", "up")
        link(1, 4)
        self.send_registers(7, 1)
        for _ in range(50):
            if telemetry(self.NS, "/farend/stats", proc=farend)["rewritten"] == 1:
                break
            time.sleep(0.1)
        subprocess.run(["ip", "-n", self.NS, "link", "del", "fe-afp-p"], check=True)  # both ends gone
        link(0, 5)
        out, err, report = stop_farend(self, farend, stats_path)
        self.assertEqual([line for line in err.splitlines() if "link" in line],
                         ["farend: port 0 (net_af_packet): link DOWN",
                          "farend: port 0 (net_af_packet): link up, 10 Gbps, full-duplex"] * 2 +
                         ["farend: port 0 (net_af_packet): link DOWN"])
        self.assertIn("  port 0 (net_af_packet): link changed 5 time(s), DOWN at the end\n", out)
        self.assertEqual((report["totals"]["rx_packets"], report["totals"]["rewritten"]), (1, 1),
                         "the REGISTER sent once the link was back")

    def test_the_interfaces_speed_and_duplex(self):
        """The af_packet driver says 10 Gbps full-duplex of every interface; farend reads the
        interface's own (ethtool's). A tap, held open by a process so that it has a carrier, set to
        1,000 Mb/s half-duplex: so at start and in /farend/resources (the build before said 10 Gbps,
        full-duplex)."""
        if not os.path.exists("/dev/net/tun"):
            self.skipTest("SKIPPED LOUDLY: no /dev/net/tun on this machine: no tap whose speed can be set, "
                          "net_af_packet's speed from its interface is not tested")
        hold = ("import fcntl, os, struct, sys\n"
                "fd = os.open('/dev/net/tun', os.O_RDWR)\n"
                "fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', b'fe-afp-t', 0x0002 | 0x1000))  # TUNSETIFF: tap, no PI\n"
                "print('ready', flush=True)\n"
                "sys.stdin.read()\n")
        holder = subprocess.Popen(["ip", "netns", "exec", self.NS, "/usr/bin/python3", "-c", hold], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: holder.poll() is None and holder.kill())
        self.assertEqual(holder.stdout.readline().strip(), "ready")
        subprocess.run(["ip", "-n", self.NS, "link", "set", "fe-afp-t", "up"], check=True)
        subprocess.run(["ip", "netns", "exec", self.NS, "ethtool", "-s", "fe-afp-t", "speed", "1000", "duplex", "half",
                        "autoneg", "off"], check=True)
        tmp = tempfile.mkdtemp()
        farend = self.farend(["-l", "0"], 1, os.path.join(tmp, "stats.json"), iface="fe-afp-t")
        self.addCleanup(lambda: farend.poll() is None and farend.kill())
        line = next((l for l in farend.stdout if l.startswith("port 0 ")), "")
        self.assertEqual(line.split(";")[0], "port 0 (net_af_packet): link up, 1 Gbps, half-duplex")
        res = telemetry(self.NS, "/farend/resources", proc=farend)
        self.assertEqual((res["port0_link_up"], res["port0_link_speed_mbps"], res["port0_link_full_duplex"]), (1, 1000, 0))
        stop_farend(self, farend, os.path.join(tmp, "stats.json"))
        holder.stdin.close()
        holder.wait(timeout=30)

    def test_sending_to_an_interface_taken_down(self):
        """The core port's interface taken down (administratively) while 200 NATed REGISTERs come in
        on the access port: farend goes on (its worker is not held in the driver, telemetry
        answers), and every frame is accounted for: forwarded (the driver's TX ring takes 64; the
        port counts them tx_errors, and they leave once the interface is back) or dropped and
        counted (drop_tx_full). Once the interface is back, 200 more all leave."""
        subprocess.run(["ip", "-n", self.NS, "link", "add", "fe-afp-c", "type", "veth", "peer", "name", "fe-afp-q"],
                       check=True)
        for dev in ("fe-afp-c", "fe-afp-q"):
            subprocess.run(["ip", "-n", self.NS, "link", "set", dev, "up"], check=True)
        tmp = tempfile.mkdtemp()
        stats_path = os.path.join(tmp, "stats.json")
        farend = subprocess.Popen(
            ["ip", "netns", "exec", self.NS, FAREND, "--no-huge", "--no-pci", "-m", "512", "--file-prefix", self.NS,
             "-l", "0", "--log-level=lib.eal:warning",
             f"--vdev=net_af_packet0,iface=fe-afp-a,framecnt={self.RING},framesz=4096,blocksz=4096",
             f"--vdev=net_af_packet1,iface=fe-afp-c,framecnt={self.RING},framesz=4096,blocksz=4096",
             "--", "--stats-json", stats_path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: farend.poll() is None and farend.kill())
        telemetry(self.NS, "/farend/resources", proc=farend)

        def stats_when(done):
            for _ in range(50):
                st = telemetry(self.NS, "/farend/stats", proc=farend)
                if done(st):
                    return st
                time.sleep(0.1)
            self.fail(f"/farend/stats: {st}")

        subprocess.run(["ip", "-n", self.NS, "link", "set", "fe-afp-c", "down"], check=True)
        self.send_registers(0, 200, every=20, pause=0.02)
        st = stats_when(lambda st: st["rx_packets"] == 200 and st["tx_packets"] + st["dropped"] == 200)
        self.assertGreater(st["dropped"], 0, "the driver's TX ring holds 64 at most while the interface is down")
        self.assertEqual(st["drop_tx_full"], st["dropped"])
        down_tx, down_dropped = st["tx_packets"], st["dropped"]
        subprocess.run(["ip", "-n", self.NS, "link", "set", "fe-afp-c", "up"], check=True)
        time.sleep(0.5)
        self.send_registers(1000, 200, every=20, pause=0.02)
        st = stats_when(lambda st: st["rx_packets"] == 400 and st["tx_packets"] + st["dropped"] == 400)
        out, err, report = stop_farend(self, farend, stats_path)
        t = report["totals"]
        self.assertEqual((t["rx_packets"], t["tx_packets"] + t["dropped"], t["rewritten"]), (400, 400, 400))
        # Once it is back, at most the ring's worth more is dropped while the ring drains.
        self.assertLessEqual(t["dropped"] - down_dropped, self.RING)
        self.assertEqual(report["resources"]["ports"]["1"]["tx_errors"], down_tx,
                         "the frames the driver's TX ring took while the interface was down, as the driver counts them")
        self.assertEqual(self.received("fe-afp-q"), t["tx_packets"], "every frame farend sent reached the wire, the ring's 64 late")

    def test_more_receive_queues_than_workers_is_refused(self):
        """qpairs=2 with one worker: the kernel would hand half the frames to a queue no worker reads.
        farend refuses to start and says what to change. So with net_pcap's two captures (a queue
        each) and one worker, where the second capture was never read (11 of 22 frames, before)."""
        tmp = tempfile.mkdtemp()
        farend = self.farend(["-l", "0"], 2, os.path.join(tmp, "stats.json"))
        self.addCleanup(lambda: farend.poll() is None and farend.kill())  # one that started after all
        try:
            out, err = farend.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.fail("farend started with a queue no worker reads")
        self.assertEqual(farend.returncode, 1, out + err)
        self.assertIn("farend: port 0 (net_af_packet) has 2 receive queues, made from its arguments and each fed its "
                      "share of the frames, but 1 worker lcore(s) read them: queue(s) 1 would never be read. Give "
                      "qpairs=1, or 2 worker lcores (-l: the main lcore and 2 more)\n", err)
        p = subprocess.run([FAREND, "--no-huge", "--no-pci", "-m", "512", "--file-prefix", f"{self.NS}-pcap", "-l", "0",
                            "--log-level=lib.eal:warning", f"--vdev=net_pcap0,rx_pcap={SAMPLE},rx_pcap={SAMPLE}",
                            "--vdev=net_null1,no-rx=1", "--", "--exit-when-idle", "1"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("farend: port 0 (net_pcap) has 2 receive queues, made from its arguments and each fed its share "
                      "of the frames, but 1 worker lcore(s) read them: queue(s) 1 would never be read. Give one "
                      "rx_pcap=, rx_iface= or iface= per worker, or 2 worker lcores (-l: the main lcore and 2 more)\n",
                      p.stderr)
        # The ports were never started: none is stopped (DPDK said "Device with port_id=0 already
        # stopped" for each before), only closed.
        self.assertNotIn("already stopped", p.stderr + err)
        # Two worker lcores, but the other port has one queue: one worker runs, and farend says why.
        p = subprocess.run([FAREND, "--no-huge", "--no-pci", "-m", "512", "--file-prefix", f"{self.NS}-pcap2",
                            "--lcores", "0@0,1@0,2@1", "--log-level=lib.eal:warning",
                            f"--vdev=net_pcap0,rx_pcap={SAMPLE},rx_pcap={SAMPLE}", f"--vdev=net_pcap1,rx_pcap={SAMPLE}",
                            "--", "--exit-when-idle", "1"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("queue(s) 1 would never be read. Give one rx_pcap=, rx_iface= or iface= per worker (another port "
                      "has 1 queue(s), which sets how many workers run), or every port 2 queues\n", p.stderr)


# A command prefix that runs what follows with two NUMA nodes where this VM has one: EAL reads an
# lcore's socket from /sys/devices/system/node/node<N>/cpu<M>, which a private mount namespace
# replaces (cpu0 on node 0, cpu1 on node 1). Memory, pages and devices stay as they are.


class CorpusCaptures(unittest.TestCase):
    def test_every_capture_through_farend(self):
        pcaps = sorted(glob.glob(os.path.join(SHARED, "corpus", "pcap", "*.pcap*")))
        self.assertGreater(len(pcaps), 10)
        for path in pcaps:
            with self.subTest(capture=os.path.basename(path)):
                before = rdpcap(path)
                after, stats, _ = run_pcap(path)
                self.assertEqual(stats["rx_packets"], len(before))
                # Nothing lost: what is not sent is counted, and only for fragments that never
                # completed (captures of other link types read as Ethernet can look like them).
                self.assertEqual(stats["tx_packets"] + stats["dropped"], len(before), "nothing lost")
                self.assertEqual(stats["dropped"], stats["drop_fragments"])
                if stats["dropped"]:
                    continue
                self.assertEqual(len(after), len(before))
                changed = 0
                for b, a in zip(before, after):
                    if bytes(b) == bytes(a):
                        continue  # forwarded as it was (whatever its checksums were)
                    changed += 1
                    # Only what came sound is rewritten (captures taken on a sending host with
                    # checksum offload hold datagrams whose checksums were never filled in).
                    self.assertTrue(checksums_ok(b), f"{os.path.basename(path)}: rewritten but came damaged: {b.summary()}")
                    self.assertTrue(checksums_ok(a), f"{os.path.basename(path)}: {a.summary()}")
                    self.assertIn(UDP, a)
                self.assertEqual(changed, stats["rewritten"])
                if os.path.basename(path).startswith("heplify_erspan_sip_ipv4_udp.DERIVED"):
                    # 35 of its SIP datagrams carry checksums the capturing host never filled in.
                    self.assertEqual(stats["bad_checksum"], 35)

    def test_real_ipv6_fragments_reassembled(self):
        # sngrep_ipv6frag is a Linux cooked capture (read as Ethernet above, it is junk to farend):
        # given Ethernet headers, as the dataplane would receive it, it is SIP over IPv6 between
        # agents on ULA addresses, on ports 5062, 15060 and 25060, two INVITEs of it in fragments.
        # Half its datagrams carry checksums the capturing host never filled in (offload).
        path = os.path.join(SHARED, "corpus", "pcap", "sngrep_ipv6frag.pcap")
        inp = os.path.join(tempfile.mkdtemp(), "v6frag.pcap")
        write_pcap(inp, [as_ethernet(p) for p in rdpcap(path)])
        after, stats, _ = run_pcap(inp, "--sip-ports", "5062,15060,25060")
        self.assertEqual((stats["rx_packets"], stats["tx_packets"], stats["dropped"]), (34, 34, 0))
        self.assertEqual((stats["fragments"], stats["reassembled"], stats["fragments_passed"], stats["refragmented"]), (4, 2, 0, 2))
        self.assertEqual((stats["sip_messages"], stats["rewritten"], stats["bad_checksum"]), (17, 10, 15))
        # Each reassembled INVITE leaves as two pieces again; put together, its UDP checksum holds.
        pieces = [a for a in after if IPv6ExtHdrFragment in a]
        self.assertEqual(len(pieces), 4)
        whole = defragment6([a[IPv6] for a in pieces[:2]])
        u = IPv6(bytes(whole))
        self.assertIn(UDP, u)
        fresh = IPv6(bytes(u))
        del fresh[UDP].chksum
        self.assertEqual(IPv6(bytes(fresh))[UDP].chksum, u[UDP].chksum)
        self.assertTrue(bytes(u[UDP].payload).startswith(b"INVITE "))


if __name__ == "__main__":
    unittest.main(verbosity=2)
