#!/usr/bin/python3
"""build/farend's resources under load: a flow table smaller than the sources, the mbuf pools after
load, the main lcore's CPU, 15 s of scripts/overload, two workers, NUMA sockets (faked).

Run from the repository root: /usr/bin/python3 -m unittest -v tests/dataplane/test_resources.py
(needs root for DPDK's runtime directory, python3-scapy, a built build/farend)."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from scapy.all import IP, Ether, Raw, rdpcap, wrpcap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# setUpModule and tearDownModule: the module's scratch directory, removed when its tests end
from dataplane_common import (FAREND, FAREND_PCAP, ROOT, SAMPLE, TWO_NUMA_NODES, big_register, checksums_ok,
                              natted_register, run_pcap, setUpModule, sip, tearDownModule)  # noqa: E402,F401
from farendtools import telemetry  # noqa: E402


class FlowTableFull(unittest.TestCase):
    """More sources than --flow-capacity: every message still forwarded and rewritten, the least recently
    seen flows evicted and counted, the table never over its capacity."""

    def test_new_sources_forwarded_and_evictions_counted(self):
        tmp = tempfile.mkdtemp()
        inp, out, stats = (os.path.join(tmp, n) for n in ("in.pcap", "out.pcap", "stats.json"))
        sources = 300
        wrpcap(inp, [natted_register(i) for i in range(sources)])
        p = subprocess.run([FAREND_PCAP, inp, out, "--stats-json", stats, "--flow-capacity", "16"], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(stats) as f:
            doc = json.load(f)
        totals, res = doc["totals"], doc["resources"]
        after = rdpcap(out)
        self.assertEqual(len(after), sources)
        for i, frame in enumerate(after):  # in order, each rewritten to its own public port
            self.assertIn(f"Contact: <sip:u{i}@203.0.113.5:{40000 + i}>", sip(frame))
            self.assertTrue(checksums_ok(frame))
        capacity = res["flow_capacity"]
        self.assertEqual(capacity, 16)
        self.assertEqual(res["flows"], capacity)
        self.assertEqual(totals["rewritten"], sources)
        self.assertEqual(totals["flows_created"], sources)
        self.assertEqual(totals["flows_evicted"], sources - capacity)
        self.assertEqual(totals["flow_table_full"], 0)
        self.assertEqual(totals["dropped"], 0)
        self.assertTrue(all(pool["in_use"] == 0 for pool in doc["after_stop"]["pools"].values()), doc["after_stop"])

    def test_recently_seen_flows_survive_a_flood_of_new_sources(self):
        # One agent keeps sending between every burst of 8 new sources: the sampled-LRU eviction
        # always finds an older victim, so it is never evicted (its flow was created once).
        tmp = tempfile.mkdtemp()
        inp, out, stats = (os.path.join(tmp, n) for n in ("in.pcap", "out.pcap", "stats.json"))
        frames = []
        for burst in range(40):
            frames.append(natted_register(0, sport=39999))
            frames += [natted_register(1 + burst * 8 + k) for k in range(8)]
        wrpcap(inp, frames)
        p = subprocess.run([FAREND_PCAP, inp, out, "--stats-json", stats, "--flow-capacity", "64"], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(stats) as f:
            totals = json.load(f)["totals"]
        self.assertEqual(len(rdpcap(out)), len(frames))
        self.assertEqual(totals["flows_created"], 1 + 40 * 8)
        self.assertGreater(totals["flows_evicted"], 0)

    def test_evicted_sources_that_come_back_are_new_flows(self):
        # The look-up's hint (the slot a key's hash last led to) must not find a source in a slot
        # it lost: 16 sources three times over fit (created once each); then 40 sources twice over
        # through 16 slots, each evicted before it comes back, so each is created twice.
        for sources, rounds, created, evicted in ((16, 3, 16, 0), (40, 2, 80, 64)):
            with self.subTest(sources=sources, rounds=rounds):
                tmp = tempfile.mkdtemp()
                inp, out, stats = (os.path.join(tmp, n) for n in ("in.pcap", "out.pcap", "stats.json"))
                wrpcap(inp, [natted_register(i) for _ in range(rounds) for i in range(sources)])
                p = subprocess.run([FAREND_PCAP, inp, out, "--stats-json", stats, "--flow-capacity", "16"],
                                   capture_output=True, text=True, timeout=120)
                self.assertEqual(p.returncode, 0, p.stderr)
                with open(stats) as f:
                    doc = json.load(f)
                self.assertEqual(len(rdpcap(out)), sources * rounds)
                self.assertEqual(doc["totals"]["rewritten"], sources * rounds)
                self.assertEqual((doc["totals"]["flows_created"], doc["totals"]["flows_evicted"]), (created, evicted))
                self.assertEqual(doc["resources"]["flows"], 16)

    def test_a_table_larger_than_eal_memory_is_refused_at_start(self):
        # The table is in DPDK's memory (farend-pcap gives EAL -m 512): 4,000,000 flows need ~800
        # MiB of entries and hints, and farend says so, naming the option, before it forwards anything.
        tmp = tempfile.mkdtemp()
        inp, out = os.path.join(tmp, "in.pcap"), os.path.join(tmp, "out.pcap")
        wrpcap(inp, [natted_register(0)])
        p = subprocess.run([FAREND_PCAP, inp, out, "--flow-capacity", "4000000"], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertRegex(p.stderr, r"farend: cannot allocate the flow table of 4000000 flows \(8[0-9]{2} MiB a worker "
                                   r"beside rte_hash's tables\) in DPDK's memory on socket 0: give EAL more \(-m, "
                                   r"--socket-mem, hugepages\) or lower --flow-capacity")
        # With less memory still, rte_hash's own tables are what fails first: said so, with the same advice.
        p = subprocess.run([FAREND, "--no-huge", "--no-pci", "-m", "256", "--file-prefix", f"fe-hashflows-{os.getpid()}",
                            "-l", "0", "--log-level=lib.eal:warning", f"--vdev=net_pcap0,rx_pcap={inp}",
                            f"--vdev=net_pcap1,tx_pcap={out}", "--", "--flow-capacity", "4000000",
                            "--exit-when-idle", "0.5"], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertRegex(p.stderr, r"farend: cannot create the flow table's hash of 4000000 flows on socket 0: [^\n]+ "
                                   r"\(rte_hash's tables take ~60 bytes a flow, beside farend's ~210\): give EAL more "
                                   r"\(-m, --socket-mem, hugepages\) or lower --flow-capacity\n")
        # 1,000,000 flows a worker fit when EAL is given the memory for them.
        p = subprocess.run([FAREND, "--no-huge", "--no-pci", "-m", "1024", "--file-prefix", f"fe-bigflows-{os.getpid()}",
                            "-l", "0", "--log-level=lib.eal:warning", f"--vdev=net_pcap0,rx_pcap={inp}",
                            f"--vdev=net_pcap1,tx_pcap={out}", "--", "--flow-capacity", "1000000",
                            "--exit-when-idle", "0.5"], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(rdpcap(out)), 1)


class PoolAfterLoad(unittest.TestCase):
    """Once the traffic stops, every mbuf is back in its pool while farend still runs: none held by
    a TX buffer, a jumbo copy, or a datagram whose last fragment never came (after its 2 s)."""

    def test_every_mbuf_back_while_running(self):
        tmp = tempfile.mkdtemp()
        cap = os.path.join(tmp, "in.pcap")
        eth = Ether(src="02:00:00:00:01:0a", dst="02:00:00:00:02:0a")
        frames = [natted_register(i) for i in range(500)]
        frames += [big_register(60, 100) for _ in range(20)]  # rewrites that move to the jumbo pool
        frames += [eth / IP(src="203.0.113.5", dst="198.51.100.10", id=i, flags="MF", proto=17) / Raw(b"f" * 64)
                   for i in range(1, 51)]  # never completed
        wrpcap(cap, frames)
        prefix = f"fe-pool-{os.getpid()}"
        proc = subprocess.Popen([FAREND, "--no-huge", "--no-pci", "-m", "512", "--file-prefix", prefix, "-l", "0-1",
                                 f"--vdev=net_pcap0,rx_pcap={cap}", f"--vdev=net_pcap1,tx_pcap={tmp}/out.pcap", "--",
                                 "--mtu", "9000"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 30
            while telemetry(prefix, "/farend/stats")["rx_packets"] < len(frames) and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(3)  # past the 2 s reassembly timeout
            stats, res = telemetry(prefix, "/farend/stats"), telemetry(prefix, "/farend/resources")
            self.assertEqual(proc.poll(), None, "farend still runs")
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=60)
        self.assertEqual(stats["rx_packets"], len(frames))
        self.assertEqual(stats["tx_packets"], len(frames))
        self.assertEqual((stats["fragments_passed"], stats["rewritten"], stats["dropped"]), (50, 520, 0))
        for pool in ("farend_mbufs", "farend_jumbo", "farend_indirect"):
            self.assertEqual(res[f"pool_{pool}_in_use"], 0, pool)


class MainLcore(unittest.TestCase):
    """The main lcore runs no worker with -l 0-1: it sleeps while the worker polls, not spins (DPDK's
    rte_eal_mp_wait_lcore() spins on rte_pause(): a whole CPU busy for nothing, and with more
    workers than cores one of them shared its CPU with that spin). And farend still stops at once."""

    @staticmethod
    def thread_times(pid):
        """{thread name: (ns on a CPU, ns waiting for one)} of the process's threads, the main thread as
        'main' (/proc/PID/task/TID/schedstat). A thread that polls is always runnable: on a CPU or
        waiting for one, however busy the machine is; a thread that sleeps is neither."""
        times = {}
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = "main" if int(tid) == pid else f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run, wait = (int(x) for x in f.read().split()[:2])
            r, w = times.get(name, (0, 0))
            times[name] = (r + run, w + wait)
        return times

    def test_sleeps_while_the_worker_polls(self):
        tmp = tempfile.mkdtemp()
        cap = os.path.join(tmp, "in.pcap")
        wrpcap(cap, [natted_register(i) for i in range(100)])
        prefix = f"fe-main-{os.getpid()}"
        proc = subprocess.Popen([FAREND, "--no-huge", "--no-pci", "-m", "512", "--file-prefix", prefix, "-l", "0-1",
                                 f"--vdev=net_pcap0,rx_pcap={cap},infinite_rx=1", "--vdev=net_null1,no-rx=1"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and telemetry(prefix, "/farend/stats")["rx_packets"] == 0:
                time.sleep(0.2)
            a, t0 = self.thread_times(proc.pid), time.monotonic()
            time.sleep(2)
            b, secs = self.thread_times(proc.pid), time.monotonic() - t0
            self.assertEqual(proc.poll(), None, "farend still runs")
        finally:
            proc.send_signal(signal.SIGINT)
            t1 = time.monotonic()
            out = proc.communicate(timeout=60)[0]
            stop = time.monotonic() - t1
        # Shares of the wall-clock time: on a CPU, and on a CPU or waiting for one. The worker's CPU
        # share depends on what else runs on its CPU (a test suite beside this one gave it 0.45, two
        # busy loops 0.35); its runnable share does not (1.00 beside the two loops). A main lcore
        # that spun would be runnable all the time too; sleeping, it waits for a CPU only when it
        # wakes (0.06 beside the two loops).
        on_cpu = {k: (b[k][0] - a.get(k, (0, 0))[0]) / 1e9 / secs for k in b}
        runnable = {k: (sum(b[k]) - sum(a.get(k, (0, 0)))) / 1e9 / secs for k in b}
        workers = [k for k in on_cpu if k != "main" and "worker" in k]
        self.assertEqual(len(workers), 1, on_cpu)
        self.assertGreater(runnable[workers[0]], 0.9, f"the worker polls (runnable: {runnable}; on a CPU: {on_cpu})")
        self.assertGreater(on_cpu[workers[0]], 0.1, f"the worker polls (on a CPU: {on_cpu})")
        self.assertLess(on_cpu["main"], 0.1, f"the main lcore sleeps (on a CPU: {on_cpu})")
        self.assertLess(runnable["main"], 0.5, f"the main lcore sleeps, not only waits for a CPU (runnable: {runnable})")
        self.assertEqual(proc.returncode, 0, out)
        self.assertLess(stop, 10, "stopped promptly on SIGINT")
        self.assertIn("rx_packets", out)


class Overload(unittest.TestCase):
    """scripts/overload for 15 s (a minute by hand, tests/RELIABILITY.md): both ports replay without
    pause; farend keeps forwarding, every frame is accounted for, every mbuf returns, memory is flat."""

    def test_both_ports_flooded(self):
        out = os.path.join(tempfile.mkdtemp(), "overload.json")
        p = subprocess.run([os.path.join(ROOT, "scripts", "overload"), "--seconds", "15", "--sample", "5", "--json", out],
                           capture_output=True, text=True, timeout=300)
        print(p.stdout)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(out) as f:
            r = json.load(f)
        self.assertEqual(r["failures"], [])
        self.assertGreaterEqual(len(r["samples"]), 3)
        self.assertTrue(all(s["out_pps"] > 100000 for s in r["samples"]), r["samples"])
        t = r["totals"]
        self.assertEqual(t["rx_packets"] + t["keepalives_sent"], t["tx_packets"] + t["dropped"] + t["keepalive_answers"])
        for key in ("rewritten", "alias_retargeted", "keepalives_sent", "keepalive_answers", "malformed", "not_udp"):
            self.assertGreater(t[key], 0, key)  # every path of the mix was taken under load
        self.assertTrue(all(p["in_use"] == 0 for p in r["after_stop"]["pools"].values()))
        self.assertLessEqual(r["rss_growth_kib"], 1024)




class Numa(unittest.TestCase):
    def run_rings(self, lcores):
        """farend on two net_ring ports created on socket 0 (nodeaction), worker per --lcores."""
        return subprocess.run(
            TWO_NUMA_NODES + [FAREND, "--no-huge", "--no-pci", "-m", "512", "--file-prefix",
                              f"fe-numa-ring-{os.getpid()}", "--lcores", lcores, "--log-level=lib.eal:warning",
                              "--vdev=net_ring0,nodeaction=fe_r0:0:CREATE", "--vdev=net_ring1,nodeaction=fe_r1:0:CREATE",
                              "--", "--exit-when-idle", "1"],
            capture_output=True, text=True, timeout=60)

    def test_a_port_polled_from_another_socket_is_told(self):
        p = self.run_rings("0@0,1@1")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for port in (0, 1):
            self.assertIn(f"farend: warning: port {port} is on NUMA socket 0 and polled by worker lcore(s) 1 (socket 1): "
                          "its frames cross the sockets' link; give -l lcores of socket 0", p.stderr)

    def test_a_port_polled_from_its_own_socket_is_not(self):
        p = self.run_rings("0@1,1@0")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("worker lcore(s) 1,", p.stdout)
        self.assertNotIn("NUMA socket", p.stderr)


class TwoWorkers(unittest.TestCase):
    """Two worker lcores, each owning one queue of each port (net_pcap: one capture per queue, the
    bundled capture's first 6 frames on queue 0, the other 5 on queue 1)."""

    def setUp(self):
        frames = rdpcap(SAMPLE)
        self.tmp = tempfile.mkdtemp()
        wrpcap(f"{self.tmp}/q0.pcap", frames[:6])
        wrpcap(f"{self.tmp}/q1.pcap", frames[6:])

    def run_two(self, prefix, lcores, *opts, wrap=()):
        """farend on the two queues (wrap: a command prefix, as TWO_NUMA_NODES), --stats-json to s.json."""
        tmp = self.tmp
        return subprocess.run(
            [*wrap, FAREND, "--no-huge", "--no-pci", "-m", "512", "--file-prefix", f"{prefix}-{os.getpid()}",
             "--lcores", lcores, "--log-level=lib.eal:warning",
             f"--vdev=net_pcap0,rx_pcap={tmp}/q0.pcap,rx_pcap={tmp}/q1.pcap,tx_pcap={tmp}/a0.pcap,tx_pcap={tmp}/a1.pcap",
             f"--vdev=net_pcap1,tx_pcap={tmp}/c0.pcap,tx_pcap={tmp}/c1.pcap",
             "--", "--exit-when-idle", "1", "--stats-json", f"{tmp}/s.json", *opts],
            capture_output=True, text=True, timeout=120)

    def stats(self):
        with open(f"{self.tmp}/s.json") as f:
            return json.load(f)

    def assert_same_as_one_worker(self, stats):
        """Each worker read its queue; together they sent exactly what one worker sends for the whole
        capture, with the same counters."""
        one, one_stats, _ = run_pcap(SAMPLE)
        self.assertEqual([stats["lcores"][k]["rx_packets"] for k in ("1", "2")], [6, 5])
        two = list(rdpcap(f"{self.tmp}/c0.pcap")) + list(rdpcap(f"{self.tmp}/c1.pcap"))
        self.assertEqual(sorted(bytes(x) for x in two), sorted(bytes(x) for x in one))
        for key in ("rx_packets", "tx_packets", "sip_messages", "nat_detected", "rewritten", "malformed", "dropped"):
            self.assertEqual(stats["totals"][key], one_stats[key], key)

    def test_same_output_as_one_worker(self):
        p = self.run_two("fe-2w", "0@0,1@1,2@1")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        stats = self.stats()
        self.assertEqual(sorted(stats["lcores"]), ["1", "2"])
        self.assert_same_as_one_worker(stats)

    def test_workers_on_two_numa_sockets_each_get_their_own_pools(self):
        """Workers on two NUMA sockets receive into pools on their own socket. This VM has one
        node: EAL reads lcores' sockets from /sys/devices/system/node/nodeN/cpuM, so a private
        mount namespace shows it two (cpu0 on node 0, cpu1 on node 1). --no-huge gives EAL memory
        on socket 0 only, so socket 1's worker gets a set of pools from any socket. --mbufs is
        shared among the sets as the workers are; the output is what one worker sends."""
        p = self.run_two("fe-numa-a", "0@0,1@0,2@1", "--mbufs", "30001", wrap=TWO_NUMA_NODES)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("farend: mbuf pools per NUMA socket: socket 0 (farend_mbufs_s0, 15000 mbufs) for lcore(s) 1; "
                      "any socket (farend_mbufs_sany, 15001 mbufs) for lcore(s) 2", p.stdout)
        stats = self.stats()
        pools = stats["resources"]["pools"]
        self.assertEqual(sorted(pools), sorted(f"farend_{kind}_{s}" for kind in ("mbufs", "jumbo", "indirect")
                                               for s in ("s0", "sany")))
        self.assertEqual((pools["farend_mbufs_s0"]["size"], pools["farend_mbufs_sany"]["size"]), (15000, 15001))
        self.assertEqual([pools[k]["in_use"] for k in sorted(pools)], [0] * 6, "every mbuf back in its pool")
        self.assert_same_as_one_worker(stats)
        # Without --mbufs each set is sized for its own worker (half of what two workers need).
        p = self.run_two("fe-numa-b", "0@0,1@0,2@1", wrap=TWO_NUMA_NODES)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("socket 0 (farend_mbufs_s0, 13440 mbufs) for lcore(s) 1; "
                      "any socket (farend_mbufs_sany, 13440 mbufs) for lcore(s) 2", p.stdout)
        p = self.run_two("fe-numa-c", "0@0,1@0,2@1", "--mbufs", "26879", wrap=TWO_NUMA_NODES)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("--mbufs 26879 is fewer than the 26880 mbufs 2 ports with 2 queue(s) each need", p.stderr)

    def test_single_queue_ports_run_one_worker(self):
        tmp = tempfile.mkdtemp()
        p = subprocess.run([FAREND, "--no-huge", "--no-pci", "-m", "512", "--file-prefix", f"fe-3w-{os.getpid()}",
                            "--lcores", "0@0,1@1,2@1", f"--vdev=net_pcap0,rx_pcap={SAMPLE},tx_pcap={tmp}/a.pcap",
                            f"--vdev=net_pcap1,tx_pcap={tmp}/c.pcap", "--", "--exit-when-idle", "1", "--stats-json",
                            f"{tmp}/s.json"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("1 worker(s) run; lcore(s) 2 stay idle", p.stderr)
        with open(f"{tmp}/s.json") as f:
            stats = json.load(f)
        self.assertEqual(list(stats["lcores"]), ["1"])
        self.assertEqual(stats["totals"]["tx_packets"], 11)


if __name__ == "__main__":
    unittest.main(verbosity=2)
