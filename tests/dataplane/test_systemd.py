#!/usr/bin/python3
"""configs/farend.service run by a real systemd.

The machine's own init is not systemd, so the test boots one: systemd-nspawn starts systemd as
PID 1 of a container whose root is an empty tmpfs with this machine's /usr (--volatile=yes), in
this machine's network namespace. The unit, configs/farend.conf and configs/farend.default are put
where the unit's header says to install them, and build/farend as /usr/local/bin/farend (an
overlay: this machine's /usr is not touched). Only the EAL options differ from a deployment: in
/etc/default/farend, whose FAREND_EAL the unit's ExecStart reads, this machine's lcore and two
net_pcap ports (the access one reading a FIFO the test writes NATed REGISTERs into); everything
else, ExecStart's line included, is as shipped.

What systemd itself then shows: the start completes only once farend says READY=1; `systemctl
status` carries farend's totals; dpdk-telemetry.py reaches farend from outside its sandbox, whose
/etc is read-only and /tmp its own; `systemctl reload` re-reads the rules, and fails without touching
them when the file is broken; a worker stuck for WatchdogSec (its port's read of the FIFO blocks)
gets farend killed by the watchdog and started again; `systemctl stop` leaves the final counters
in the journal and the stats file in /var/lib/farend; a broken file fails the start once, with no
restart loop."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from scapy.all import rdpcap

sys.path.insert(0, os.path.dirname(__file__))
from dataplane_common import FAREND, ROOT, natted_register, setUpModule, sip, tearDownModule  # noqa: E402,F401
from farendtools import pcap_header, pcap_record, telemetry  # noqa: E402

NSPAWN = shutil.which("systemd-nspawn")
SYSTEMD = "/usr/lib/systemd/systemd"

# /etc/default/farend (configs/farend.default) with this machine's lcore and two net_pcap ports.
EAL = ('FAREND_EAL="-l 0 --no-huge --no-pci -m 512 --vdev=net_pcap0,rx_pcap=/lab/in.pcap '
       '--vdev=net_pcap1,tx_pcap=/lab/out.pcap"\n')

# Debian's dpdk.service (the dpdk package: hugepages and NIC bindings from /etc/dpdk at boot) sets
# vm.max_map_count, which the container's read-only /proc/sys refuses; in its place, a unit of the
# same name that takes a second, so that a farend not ordered after it would start first.
DPDK_STAND_IN = """[Unit]
Description=stand-in for Debian's dpdk.service
DefaultDependencies=false

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sleep 1
"""


class Feeder(threading.Thread):
    """Writes a burst of 8 NATed REGISTERs into the FIFO every 0.1 s, so that farend's worker
    comes round its loop; paused, the FIFO stays open and empty, and the worker's read blocks."""

    FRAMES = b"".join(pcap_record(bytes(natted_register(i))) for i in range(8))

    def __init__(self, fifo):
        super().__init__(daemon=True)
        self.fifo = fifo
        self.sent = 0
        self.paused = threading.Event()
        self.done = threading.Event()

    def run(self):
        fd = os.open(self.fifo, os.O_WRONLY)  # once farend's port opens its end
        try:
            os.write(fd, pcap_header())
            while not self.done.is_set():
                if not self.paused.is_set():
                    os.write(fd, self.FRAMES)
                    self.sent += 8
                time.sleep(0.1)
        except BrokenPipeError:  # farend went away
            pass
        finally:
            os.close(fd)

    def close(self):
        self.done.set()
        self.join(timeout=10)


@unittest.skipUnless(NSPAWN and os.path.exists(SYSTEMD),
                     "SKIPPED LOUDLY: no systemd-nspawn (Debian's systemd-container, which scripts/install-deps "
                     "installs) or no systemd: configs/farend.service is not run under systemd")
class UnderSystemd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        d = cls.dir
        os.makedirs(f"{d}/usr/local/bin")
        shutil.copy(FAREND, f"{d}/usr/local/bin/farend")
        os.makedirs(f"{d}/etc/farend")
        shutil.copy(os.path.join(ROOT, "configs", "farend.conf"), f"{d}/etc/farend/farend.conf")
        os.makedirs(f"{d}/etc/systemd/system")
        shutil.copy(os.path.join(ROOT, "configs", "farend.service"), f"{d}/etc/systemd/system/farend.service")
        with open(os.path.join(ROOT, "configs", "farend.default")) as f:
            shipped = f.read()
        cls.assert_shipped_eal(shipped)
        os.makedirs(f"{d}/etc/default")
        with open(f"{d}/etc/default/farend", "w") as f:
            f.write(re.sub(r"^FAREND_EAL=.*\n", EAL, shipped, flags=re.M))
        with open(f"{d}/etc/systemd/system/dpdk.service", "w") as f:
            f.write(DPDK_STAND_IN)
        os.makedirs(f"{d}/io")
        cls.fifo = f"{d}/io/in.pcap"
        os.mkfifo(cls.fifo)
        cls.machine = f"fe-sd-{os.getpid()}"
        cls.log = open(f"{d}/boot.log", "w")
        # sysinit.target: journald and the basics, none of the services this machine's /usr has (a
        # Kamailio among them, on this machine's network: nspawn's --private-network would hide
        # /sys/module, without which EAL cannot start).
        cls.nspawn = subprocess.Popen(
            [NSPAWN, "--quiet", "--keep-unit", "--register=no", "--volatile=yes", "-D", "/",
             f"--machine={cls.machine}", f"--overlay-ro=/usr:{d}/usr:/usr",
             f"--bind-ro={d}/etc/farend:/etc/farend",
             f"--bind-ro={d}/etc/systemd/system/farend.service:/etc/systemd/system/farend.service",
             f"--bind-ro={d}/etc/default/farend:/etc/default/farend",
             f"--bind-ro={d}/etc/systemd/system/dpdk.service:/etc/systemd/system/dpdk.service",
             f"--bind={d}/io:/lab", "-b", "systemd.firstboot=off", "systemd.unit=sysinit.target"],
            stdin=subprocess.DEVNULL, stdout=cls.log, stderr=subprocess.STDOUT)
        cls.pid = None
        deadline = time.monotonic() + 60
        state = ""
        while time.monotonic() < deadline and cls.nspawn.poll() is None:
            if cls.pid is None:
                try:
                    with open(f"/proc/{cls.nspawn.pid}/task/{cls.nspawn.pid}/children") as f:
                        kids = f.read().split()
                    cls.pid = kids[0] if kids else None
                except OSError:
                    pass
            if cls.pid:
                state = subprocess.run(["nsenter", "-t", cls.pid, "-a", "systemctl", "is-system-running"],
                                       capture_output=True, text=True, timeout=30).stdout.strip()
                if state in ("running", "degraded"):
                    return
            time.sleep(0.2)
        cls.tearDownClass()
        with open(f"{d}/boot.log") as f:
            raise AssertionError(f"the container's systemd did not come up (state '{state}'):\n{f.read()[-3000:]}")

    @staticmethod
    def assert_shipped_eal(text):
        """configs/farend.default: one FAREND_EAL line, whose options are EAL's (lcores, ports)."""
        lines = re.findall(r"^FAREND_EAL=(.*)$", text, re.M)
        if lines != ['"-l 1-2 -a 0000:03:00.0 -a 0000:03:00.1"']:
            raise AssertionError(f"configs/farend.default: {lines}")

    @classmethod
    def tearDownClass(cls):
        if cls.nspawn.poll() is None:
            cls.nspawn.terminate()  # the container's systemd shuts down
            try:
                cls.nspawn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                cls.nspawn.kill()
                cls.nspawn.wait()
        cls.log.close()
        shutil.rmtree(f"/run/systemd/nspawn/propagate/{cls.machine}", ignore_errors=True)
        shutil.rmtree(cls.dir, ignore_errors=True)

    # -- inside the container
    def inside(self):
        return ["nsenter", "-t", self.pid, "-a"]

    def run_in(self, *argv, timeout=60):
        return subprocess.run([*self.inside(), *argv], capture_output=True, text=True, timeout=timeout)

    def show(self, unit="farend", props="ActiveState,SubState,Result,MainPID,NRestarts,ExecMainStatus,StatusText"):
        p = self.run_in("systemctl", "show", unit, "-p", props)
        return dict(line.split("=", 1) for line in p.stdout.splitlines())

    def journal(self, priority="debug", since=None):
        """farend.service's journal, from `since` (time.time() then) when given."""
        when = ["--since", f"@{since:.6f}"] if since is not None else []
        return self.run_in("journalctl", "-u", "farend", "--no-pager", "-o", "cat", "-p", priority, *when).stdout

    def wait_for(self, what, cond, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = cond()
            if got:
                return got
            time.sleep(0.2)
        self.fail(f"{what} within {timeout} s: {self.show()}\n{self.journal()[-4000:]}")

    def write_conf(self, extra=""):
        with open(os.path.join(ROOT, "configs", "farend.conf")) as f:
            text = f.read()
        with open(f"{self.dir}/etc/farend/farend.conf", "w") as f:
            f.write(text + extra)

    def start_fed(self):
        """systemctl start with a feeder on the FIFO (farend's port opens it before READY=1)."""
        feeder = Feeder(self.fifo)
        feeder.start()
        p = self.run_in("systemctl", "start", "farend", timeout=120)
        return feeder, p

    # -- the tests
    def test_a_broken_file_fails_the_start_once(self):
        """A wrong rule: farend says which before EAL and exits 2; systemd does not try again
        (RestartPreventExitStatus=2), so the unit is failed at once and stays so."""
        self.write_conf("rule = source=10.0.0/8 action=never\n")
        self.addCleanup(self.write_conf)
        self.addCleanup(self.run_in, "systemctl", "reset-failed", "farend")
        since = time.time()
        p = self.run_in("systemctl", "start", "farend")
        self.assertNotEqual(p.returncode, 0, p.stderr)
        time.sleep(3)  # past RestartSec=2: a restart would have come
        s = self.show()
        self.assertEqual((s["ActiveState"], s["Result"], s["ExecMainStatus"], s["NRestarts"]),
                         ("failed", "exit-code", "2", "0"), s)
        j = self.journal(since=since)
        self.assertIn("farend: --rule: rule 1 ('source=10.0.0/8 action=never'): source '10.0.0/8' is not an address "
                      "prefix", j)
        self.assertEqual(j.count("Starting farend.service"), 1, j)
        self.assertNotIn("EAL:", j)
        self.assertIn("farend: --rule: rule 1 ('source=10.0.0/8 action=never')", self.journal("err", since))

    def test_start_status_reload_watchdog_restart_stop(self):
        self.write_conf()
        self.addCleanup(self.run_in, "systemctl", "reset-failed", "farend")
        self.addCleanup(self.run_in, "systemctl", "stop", "farend")
        since = time.time()
        # Start: Type=notify, so systemctl returns once farend said READY=1, its ports open.
        feeder, p = self.start_fed()
        self.addCleanup(feeder.close)
        self.assertEqual(p.returncode, 0, p.stderr + self.journal(since=since))
        s = self.show()
        self.assertEqual((s["ActiveState"], s["SubState"], s["NRestarts"]), ("active", "running", "0"), s)
        first_pid = s["MainPID"]
        # dpdk.service (Debian's sets up hugepages and NIC bindings from /etc/dpdk at boot; here a
        # stand-in) is pulled in and done before farend starts.
        dpdk = self.show("dpdk", "ActiveState,ActiveEnterTimestampMonotonic")
        started = self.show("farend", "ExecMainStartTimestampMonotonic")
        self.assertEqual(dpdk["ActiveState"], "active", dpdk)
        self.assertLessEqual(int(dpdk["ActiveEnterTimestampMonotonic"]), int(started["ExecMainStartTimestampMonotonic"]),
                             (dpdk, started))
        self.assertEqual(s["StatusText"], "forwarding: 2 port(s), 1 worker lcore(s)")
        j = self.journal(since=since)
        self.assertLess(j.index("port 1 (net_pcap): link up"), j.index("Started farend.service"), j)

        # systemctl status: farend's totals every 5 s, every REGISTER rewritten, no stall.
        totals = re.compile(r"^forwarding: 2 port\(s\), 1 worker lcore\(s\); (\d+) frames in, (\d+) SIP, (\d+) "
                            r"rewritten, 0 dropped, 0 worker stall\(s\)$")
        m = self.wait_for("farend's totals in its status", lambda: totals.match(self.show()["StatusText"]), 12)
        self.assertTrue(int(m[1]) > 0 and m[1] == m[2] == m[3], m[0])
        # The operator's view, from outside the unit's sandbox: dpdk-telemetry.py on the unit's
        # file prefix.
        st = telemetry("farend", "/farend/stats", tries=1, via=self.inside())
        self.assertGreater(st["rx_packets"], 0, st)
        self.assertEqual((st["rewritten"], st["dropped"]), (st["rx_packets"], 0), st)
        # The sandbox, seen from inside farend's own mount namespace: /etc read-only, /tmp its own.
        self.run_in("touch", "/tmp/outside")
        inside = ["nsenter", "-t", first_pid, "-m", "sh", "-c"]
        p = self.run_in(*inside, "touch /etc/written-by-farend; ls /tmp")
        self.assertIn("Read-only file system", p.stderr)
        self.assertNotIn("outside", p.stdout)
        self.assertEqual(self.run_in(*inside, "ls /run/dpdk/farend").returncode, 0)

        # Reload: the file checked, then SIGHUP; farend re-reads its rules.
        self.write_conf("rule = name=trusted source=198.51.100.0/24 action=never\n")
        p = self.run_in("systemctl", "reload", "farend")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.wait_for("the rules reloaded", lambda: "farend: rules reloaded: 1 rule(s)" in self.journal(since=since))
        # A broken file: the reload fails, farend is not signalled and keeps its rules.
        self.write_conf("rule = name=trusted source=198.51.100.0/24 action=sometimes\n")
        p = self.run_in("systemctl", "reload", "farend")
        self.assertNotEqual(p.returncode, 0)
        j = self.journal(since=since)
        self.assertIn("farend: --rule: rule 1 ('name=trusted source=198.51.100.0/24 action=sometimes')", j)
        self.assertIn("Reload failed for farend.service", j)
        self.assertEqual(j.count("farend: rules reloaded"), 1, j)
        s = self.show()
        self.assertEqual((s["ActiveState"], s["MainPID"]), ("active", first_pid), s)
        self.write_conf()

        # The worker stuck: the FIFO open and empty, its read blocks. farend says so after a
        # second and stops feeding the watchdog; WatchdogSec=10 later systemd kills it (SIGABRT)
        # and, Restart=on-failure, starts it again 2 s after.
        feeder.paused.set()
        self.wait_for("the watchdog's kill", lambda: self.show()["SubState"] in ("auto-restart", "activating"), 20)
        feeder.close()  # before the restarted farend opens the FIFO (RestartSec=2)
        j = self.journal(since=since)
        self.assertIn("farend: warning: worker lcore 0 has not come round its loop for 1.0 s", j)
        self.assertIn("farend.service: Watchdog timeout (limit 10s)!", j)
        self.assertRegex(j, r"farend.service: Killing process \d+ \(farend\) with signal SIGABRT")
        self.assertIn("farend.service: Failed with result 'watchdog'.", j)
        feeder = Feeder(self.fifo)
        feeder.start()
        self.addCleanup(feeder.close)
        self.wait_for("farend started again", lambda: self.show()["SubState"] == "running", 30)
        s = self.show()
        self.assertEqual((s["ActiveState"], s["NRestarts"]), ("active", "1"), s)
        self.assertNotEqual(s["MainPID"], first_pid)
        self.assertIn("farend.service: Scheduled restart job, restart counter is at 1.", self.journal(since=since))
        # What farend and DPDK say has its priority (journalctl -p), and DPDK's lines come once
        # (DPDK 22.11 would write each to syslog too): a line of each of the two starts.
        warnings = self.journal("warning", since)
        self.assertIn("farend: warning: worker lcore 0 has not come round its loop", warnings)
        self.assertIn("farend.service: Watchdog timeout (limit 10s)!", warnings)
        self.assertNotIn("port 0 (net_pcap): link up", warnings)
        self.assertNotIn("EAL: Detected CPU lcores", warnings)
        self.assertNotIn("No legacy callbacks", warnings)  # DPDK's, at info: farend uses no legacy socket
        j = self.journal(since=since)
        self.assertEqual(j.count("TELEMETRY: No legacy callbacks, legacy socket not created"), 2, j)
        self.wait_for("frames through the restarted farend", lambda: feeder.sent >= 40)

        # Stop: SIGTERM; farend drains, reports and writes its stats file in StateDirectory.
        p = self.run_in("systemctl", "stop", "farend")
        self.assertEqual(p.returncode, 0, p.stderr)
        feeder.close()
        s = self.show()
        self.assertEqual((s["ActiveState"], s["Result"], s["ExecMainStatus"]), ("inactive", "success", "0"), s)
        j = self.journal(since=since)
        self.assertIn("farend: final counters", j)
        self.assertIn("farend.service: Deactivated successfully.", j)
        stats = json.loads(self.run_in("cat", "/var/lib/farend/stats.json").stdout)["totals"]
        self.assertGreaterEqual(stats["rx_packets"], 40)
        self.assertEqual((stats["tx_packets"], stats["rewritten"], stats["dropped"]),
                         (stats["rx_packets"], stats["rx_packets"], 0), stats)
        out = rdpcap(f"{self.dir}/io/out.pcap")  # the restarted farend's
        self.assertEqual(len(out), stats["tx_packets"])
        for i, frame in enumerate(out[:8]):  # each burst's agents 0-7, their Via and Contact fixed
            self.assertIn(f"Via: SIP/2.0/UDP 192.168.1.{10 + i}:5060;branch=z9hG4bK-r{i};rport={40000 + i};"
                          f"received=203.0.113.5\r\n", sip(frame))
            self.assertIn(f"Contact: <sip:u{i}@203.0.113.5:{40000 + i}>\r\n", sip(frame))


if __name__ == "__main__":
    unittest.main(verbosity=2)
