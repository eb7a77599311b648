"""Helpers shared by farend's Python scripts and tests (perf/dataplane-bench, perf/kamailio-bench,
perf/scaling-bench, scripts/overload, scripts/soak, tests/dataplane): NATed SIP message text,
captures of it, DPDK telemetry queries, a measured window of a running application (and of farend
on looping captures), a CPU's speed, a process's memory, a scratch directory."""
import atexit
import collections
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

# The UDP port of the benchmarks' --floor runs: the NATed mix sent there is not SIP to farend
# (its SIP ports are 5060 by default), which forwards it unread.
NOT_SIP_PORT = 9999

SDP = ("v=0\r\no=a 1 1 IN IP4 192.168.1.{h}\r\ns=-\r\nc=IN IP4 192.168.1.{h}\r\nt=0 0\r\n"
       "m=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtcp:49171 IN IP4 192.168.1.{h}\r\n")


# The six kinds of message of the NATed mix, in the order each agent sends them.
MIX_KINDS = ("REGISTER", "INVITE", "200", "ACK", "BYE", "OPTIONS")


def natted_messages(a, kinds=MIX_KINDS):
    """Agent a's messages as they leave its NAT (private 192.168.1.x in Via, Contact and SDP)."""
    h = 10 + a % 200
    via = f"Via: SIP/2.0/UDP 192.168.1.{h}:5060;branch=z9hG4bK{a}x;rport\r\n"
    common = (f"From: <sip:{2000 + a}@sip.example.net>;tag=t{a}\r\nTo: <sip:{2000 + a}@sip.example.net>\r\n"
              f"Call-ID: c{a}@192.168.1.{h}\r\nMax-Forwards: 70\r\n")
    contact = f"Contact: <sip:{2000 + a}@192.168.1.{h}:5060>\r\n"
    body = SDP.format(h=h)
    text = {
        "REGISTER": f"REGISTER sip:sip.example.net SIP/2.0\r\n{via}{common}CSeq: 1 REGISTER\r\n{contact}Expires: 300\r\n"
                    f"Content-Length: 0\r\n\r\n",
        "INVITE": f"INVITE sip:15551234567@sip.example.net SIP/2.0\r\n{via}{common}CSeq: 2 INVITE\r\n{contact}"
                  f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}",
        "200": f"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 203.0.113.10;branch=z9hG4bKsw{a}\r\n{common}CSeq: 7 INVITE\r\n{contact}"
               f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}",
        "ACK": f"ACK sip:15551234567@203.0.113.10:5060 SIP/2.0\r\n{via}{common}CSeq: 2 ACK\r\nContent-Length: 0\r\n\r\n",
        "BYE": f"BYE sip:15551234567@203.0.113.10:5060 SIP/2.0\r\n{via}{common}CSeq: 3 BYE\r\nContent-Length: 0\r\n\r\n",
        "OPTIONS": f"OPTIONS sip:sip.example.net SIP/2.0\r\n{via}{common}CSeq: 4 OPTIONS\r\n{contact}Content-Length: 0\r\n\r\n",
    }
    return [text[k] for k in kinds]


def nat_frame(msg, sport, src="203.0.113.5", dst="198.51.100.10", dport=5060):
    from scapy.all import IP, UDP, Ether, Raw
    return (Ether(src="02:00:00:00:01:0a", dst="02:00:00:00:02:0a") / IP(src=src, dst=dst)
            / UDP(sport=sport, dport=dport) / Raw(msg.encode() if isinstance(msg, str) else msg))


def nat_mix_order(agents, per_agent=6, seed=6):
    """The order the messages of `agents` independent agents (`per_agent` each) arrive in: each
    agent's own in order, the agents' interleaved at random (seeded: every run the same), as at a
    carrier's edge. Pairs (agent, its message's index)."""
    import random
    senders = [a for a in range(agents) for _ in range(per_agent)]
    random.Random(seed).shuffle(senders)  # which agent sends next: a random interleaving
    sent = [0] * agents
    order = []
    for a in senders:
        order.append((a, sent[a]))
        sent[a] += 1
    return order


def nat_mix_messages(agents, kinds=MIX_KINDS):
    """The NATed messages of `agents` agents (natted_messages, of `kinds`) in nat_mix_order:
    pairs (agent, message text)."""
    messages = [natted_messages(a, kinds) for a in range(agents)]
    return [(a, messages[a][i]) for a, i in nat_mix_order(agents, len(kinds))]


def write_nat_mix(path, agents=200, repeat=1, dport=5060, kinds=MIX_KINDS):
    """A capture of NATed SIP only: `agents` agents behind one NAT (203.0.113.5:40000+a), six messages
    each (REGISTER, INVITE+SDP, 200 OK+SDP, ACK, BYE, OPTIONS, in that order for each agent, the
    agents interleaved at random: nat_mix_messages), the whole `repeat` times over, to UDP port
    `dport` (another port than SIP's: the same frames, which farend forwards unread). Not in turns
    of the six kinds: a branch predictor learns a period of six messages, which made farend's SIP
    path 2-3% faster than on this order, 4% than fully shuffled (perf/RESULTS.md, twenty-second).
    `kinds`: only these of the six (one kind alone: perf/stage-costs --by-kind).
    Returns (frames written, average frame size)."""
    from scapy.all import wrpcap
    frames = [nat_frame(m, 40000 + a, dport=dport) for a, m in nat_mix_messages(agents, kinds)]
    wrpcap(path, frames * repeat)
    return len(frames) * repeat, sum(len(f) for f in frames) / len(frames)


def as_ethernet(p, src="02:00:00:00:01:0a", dst="02:00:00:00:02:0a"):
    """A captured packet's bytes as the dataplane receives them, with an Ethernet header whatever
    the capture's link type: Linux cooked captures' header replaced, raw IP given one. None for a
    packet that is neither Ethernet nor IP."""
    from scapy.all import IP, CookedLinux, Ether, IPv6
    if p.haslayer(Ether):
        return bytes(p)
    if p.haslayer(CookedLinux):
        return bytes(Ether(src=src, dst=dst, type=p[CookedLinux].proto) / p[CookedLinux].payload)
    if p.haslayer(IP) or p.haslayer(IPv6):
        return bytes(Ether(src=src, dst=dst) / (p[IP] if p.haslayer(IP) else p[IPv6]))
    return None


def pcap_header():
    """A classic pcap's file header (microsecond stamps; Ethernet)."""
    import struct
    return struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)


def pcap_record(frame):
    """One frame (bytes) as a classic pcap record, its time stamp 0."""
    import struct
    return struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame


def write_pcap(path, frames):
    """A classic pcap (microsecond stamps, all 0; Ethernet) of frames given as bytes: without
    scapy's per-packet writer, which costs as much as building the frames."""
    with open(path, "wb") as out:
        out.write(pcap_header())
        for f in frames:
            out.write(pcap_record(f))


def with_dport(frame, dport):
    """An untagged Ethernet + IPv4 (no options) + UDP frame, as bytes, sent to UDP port dport
    instead: the port replaced and the UDP checksum updated for it (RFC 1624 eqn. 3), the bytes
    scapy would build for that port."""
    if frame[12:14] != b"\x08\x00" or frame[14] != 0x45 or frame[23] != 17:
        raise ValueError("with_dport: not an untagged IPv4 frame without options carrying UDP")
    old = int.from_bytes(frame[36:38], "big")
    out = bytearray(frame)
    out[36:38] = dport.to_bytes(2, "big")
    check = int.from_bytes(frame[40:42], "big")
    if check:  # 0: none was computed (RFC 768), and none is
        s = (~check & 0xffff) + (~old & 0xffff) + dport
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        check = ~s & 0xffff or 0xffff  # a computed 0 goes as all ones
        out[40:42] = check.to_bytes(2, "big")
    return bytes(out)


def write_sources(path, n, dport=5060, also=()):
    """A capture of n NATed agents' messages, one each (the six kinds of the mix in turn), each from
    its own public address and port (20,000 agents an address of 203.0.113.5 on, ports 40000 on):
    read in a loop, every message's flow entry was last touched n messages earlier. also: pairs
    (path, port) of further captures of the same frames to another UDP port (a port not SIP's:
    the same frames, unread), built once (scapy's ~0.5 ms a frame, 30 s for 60,000)."""
    frames = [bytes(nat_frame(natted_messages(a, (MIX_KINDS[a % len(MIX_KINDS)],))[0], 40000 + a % 20000,
                              src=f"203.0.113.{5 + a // 20000}", dport=dport)) for a in range(n)]
    write_pcap(path, frames)
    for other, port in also:
        write_pcap(other, [with_dport(f, port) for f in frames])
    return len(frames)


def write_sources_run(path, n, dport=5060):
    """write_sources(path, n, dport) for a run of farend on it alone: (frames, average frame size,
    farend's options for a pool that holds the capture (--mbufs: flows_pool), EAL megabytes)."""
    count = write_sources(path, n, dport=dport)
    avg = (os.path.getsize(path) - 24) / count - 16  # less the pcap file header and record headers
    mbufs, megabytes = flows_pool(n)
    return count, avg, ["--mbufs", str(mbufs)], megabytes


def flows_pool(n):
    """(--mbufs, EAL megabytes) for a capture of n frames that net_pcap's infinite_rx holds in
    farend's pool, beside the 13,440 mbufs farend's two ports need."""
    mbufs = n + 13440 + 4096
    return mbufs, 512 + mbufs * 4608 // (1 << 20)


def telemetry(prefix, cmd, tries=100, proc=None, via=()):
    """One DPDK telemetry command's answer (dict), retried while the application starts. proc: the
    application's Popen (its output piped), if this started it: if it exits before it answers
    (a bad option, no memory), RuntimeError says so with what it printed, at once. via: a command
    prefix that runs dpdk-telemetry.py where the application's socket is (nsenter into a
    container, say)."""
    key = cmd.split(",")[0]
    last = None
    for _ in range(tries):
        if proc is not None and proc.poll() is not None:
            out, _ = proc.communicate()
            raise RuntimeError(f"{proc.args[0]} exited with status {proc.returncode} before it answered {cmd}:\n{out}")
        p = subprocess.run([*via, "dpdk-telemetry.py", "-f", prefix], input=cmd + "\n", capture_output=True,
                           text=True, timeout=30)
        last = p
        for line in p.stdout.splitlines():
            line = line.strip()
            if line.startswith("{") and key in line:
                v = json.loads(line)[key]
                if v is not None:  # null until the application has registered its commands
                    return v
        time.sleep(0.2)
    raise RuntimeError(f"no telemetry answer to {cmd} from {prefix}: {last.stdout if last else ''} {last.stderr if last else ''}")


def measure(argv, prefix, cmd, warmup, window, stdin=None, during=None):
    """Starts argv (a DPDK application with --file-prefix prefix), waits until it answers cmd, then
    `warmup` seconds; returns cmd's answers at the start and the end of a `window`, the seconds
    between them, and the application's output once it was stopped. during(window, pid), if
    given, is what fills the window instead of a sleep (a profiler's run of that length on the
    application's process)."""
    proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        telemetry(prefix, cmd, proc=proc)  # up
        time.sleep(warmup)
        a, ta = telemetry(prefix, cmd, proc=proc), time.monotonic()
        if during:
            during(window, proc.pid)
        else:
            time.sleep(window)
        b, tb = telemetry(prefix, cmd, proc=proc), time.monotonic()
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    return a, b, tb - ta, out


def loop_eal(pcaps, megabytes=512, workers=1, huge=False):
    """EAL arguments for a benchmark: the captures read in a loop into port 0 (net_pcap, a queue
    each), port 1 a net_null sink; one worker lcore, or two (on this 2-core machine the second
    shares a core with the main lcore, which sleeps). DPDK's memory in 4 KiB pages (--no-huge)
    unless huge (2 MiB hugepages: see reserve_hugepages)."""
    lcores = ["-l", "0-1"] if workers == 1 else ["--lcores", "0@0,1@0,2@1"]
    rx = ",".join(f"rx_pcap={p}" for p in pcaps)
    # --huge-unlink: the hugepage files go when mapped, so a stopped run leaves none behind.
    memory = ["--huge-unlink"] if huge else ["--no-huge"]
    return [*memory, "--no-pci", "-m", str(megabytes), *lcores, "--log-level=lib.eal:warning",
            f"--vdev=net_pcap0,{rx},infinite_rx=1", "--vdev=net_null1,no-rx=1"]


def reserve_hugepages(megabytes):
    """At least `megabytes` of free 2 MiB hugepages and hugetlbfs mounted at /dev/hugepages (root),
    as a DPDK deployment has them. Returns a function that puts back what it changed (the pool's
    size, the mount). Raises RuntimeError saying what is missing."""
    want = (megabytes + 1) // 2
    path = "/proc/sys/vm/nr_hugepages"

    def free():
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("HugePages_Free:"):
                    return int(line.split()[1])
        return 0

    with open(path) as f:
        total = int(f.read())
    mounted = False

    def restore():
        if mounted:
            subprocess.run(["umount", "/dev/hugepages"], capture_output=True)
        with open(path, "w") as f:
            f.write(str(total))

    if free() < want:
        with open(path, "w") as f:
            f.write(str(total + want - free()))
        if free() < want:
            got = free()
            restore()
            raise RuntimeError(f"could reserve only {got} of {want} 2 MiB hugepages (memory too fragmented?)")
    if subprocess.run(["mountpoint", "-q", "/dev/hugepages"]).returncode != 0:
        os.makedirs("/dev/hugepages", exist_ok=True)
        p = subprocess.run(["mount", "-t", "hugetlbfs", "nodev", "/dev/hugepages"], capture_output=True, text=True)
        if p.returncode != 0:
            restore()
            raise RuntimeError(f"cannot mount hugetlbfs on /dev/hugepages: {p.stderr.strip()}")
        mounted = True
    return restore


@contextlib.contextmanager
def hugepages_for(who, megabytes, wanted=True):
    """For a with-block: reserve_hugepages(megabytes) when wanted, everything it changed put back
    when the block ends, however it ends. A reservation that fails exits, saying so as `who`."""
    if not wanted:
        yield
        return
    try:
        restore = reserve_hugepages(megabytes)
    except RuntimeError as e:
        sys.exit(f"{who}: --hugepages: {e}")
    try:
        yield
    finally:
        restore()  # the hugepage pool and mount as they were before


# The CPU of loop_eal's one worker lcore (-l 0-1: lcore 1, on CPU 1), whose speed core_speed() probes.
WORKER_CPU = 1
CLOCK_PROBE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "perf", "clock_probe")
SPEED_NOT_PROBED = f"not probed (needs build/perf/clock_probe, from ninja -C build, and CPU {WORKER_CPU})"

# A probe of a CPU's speed: its core clock in MHz and its width, in adds a core cycle on four
# independent chains (perf/clock_probe.cpp); and the TSC's rate in MHz over the probe (None when
# not given), which turns the TSC cycles farend counts into core cycles.
Speed = collections.namedtuple("Speed", "mhz width tsc_mhz load_ns", defaults=(None, None))


def core_speed(cpu=WORKER_CPU, ms=30):
    """How fast `cpu` is right now (a Speed), or None when build/perf/clock_probe is not built or
    `cpu` is not one this process may run on: the probe pinned to that CPU for `ms` milliseconds.
    The benchmarks count TSC cycles, which tick at a fixed rate; this VM's speed moves under them
    for minutes at a time, two ways: its clock from ~3.4 GHz to ~2.0 (~1.5x the busy cycles a
    packet), or its width from ~3.7 adds a cycle to ~2.6 at the full clock (the core shared, most
    likely with its other hardware thread: ~1.6x). Runs are also slow with both at their usual
    values: with another process streaming through memory on the other vCPU, farend took 6-15%
    more cycles a packet, and the probe's chase of dependent loads through 4 MiB ~190 ns a load
    where it takes ~15-25 (load_ns; perf/RESULTS.md, thirty-sixth session). A run's probes before
    and after it say which speed it had; one speed is needed for a fair comparison, not enough."""
    if not os.access(CLOCK_PROBE, os.X_OK) or cpu not in os.sched_getaffinity(0):
        return None
    p = subprocess.run([CLOCK_PROBE, str(ms)], capture_output=True, text=True, timeout=30,
                       preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
    m = re.match(r"core clock ([0-9]+) MHz, ([0-9.]+) adds a cycle, on cpu [0-9]+, TSC ([0-9]+) MHz, ([0-9.]+) ns a load",
                 p.stdout)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"{CLOCK_PROBE} failed (status {p.returncode}): {p.stdout}{p.stderr}")
    return Speed(float(m.group(1)), float(m.group(2)), float(m.group(3)), float(m.group(4)))


# What one_speed() asks of probes by default: the clock and the width within 10%, the loads'
# waits within 2x (1 + LOAD_TOLERANCE). The tools print it through one_speed_rule().
SPEED_TOLERANCE = 0.1
LOAD_TOLERANCE = 1.0


def one_speed_rule(probes="probes"):
    """one_speed()'s default test in words, for the tools' "at one speed (...)" lines: "a round's
    probes within 10%, their loads within 2x" (`probes`: how the round's probes are named)."""
    return (f"a round's {probes} within {SPEED_TOLERANCE * 100:.0f}%, "
            f"their loads within {1 + LOAD_TOLERANCE:g}x")


def one_speed(probes, tolerance=SPEED_TOLERANCE, load_tolerance=LOAD_TOLERANCE):
    """Whether probes of core_speed() (None: not probed) agree within `tolerance`, in clock and in
    width, and within `load_tolerance` in their loads' wait (when every probe has one): the runs
    between them had one speed. The clock and width probes alone vary by ~5% within one speed,
    and the VM's speeds are 1.4-1.7x apart; the loads' wait varies by up to ~2x on its own
    (15-33 ns), and ~8x with memory pressed on by another vCPU."""
    if not probes or any(p is None for p in probes):
        return False
    loads = [p.load_ns for p in probes]
    if None not in loads and max(loads) > min(loads) * (1 + load_tolerance):
        return False
    return all(max(v) <= min(v) * (1 + tolerance) for v in ([p.mhz for p in probes], [p.width for p in probes]))


def at_one_speed(values, speeds):
    """The values of the rounds whose probes (speeds: one list a round, beside values) agree
    (one_speed()), in their order; None when any probe is missing (SPEED_NOT_PROBED)."""
    if any(None in sp for sp in speeds):
        return None
    return [v for v, sp in zip(values, speeds) if one_speed(sp)]


def speed_range(probes):
    """The probes' spread as text: "3405-3596 MHz, 3.61-3.74 adds a cycle", and ", 15-21 ns a
    load" when every probe timed its loads."""
    mhz, width, loads = [p.mhz for p in probes], [p.width for p in probes], [p.load_ns for p in probes]
    text = f"{min(mhz):.0f}-{max(mhz):.0f} MHz, {min(width):.2f}-{max(width):.2f} adds a cycle"
    return text + (f", {min(loads):.0f}-{max(loads):.0f} ns a load" if None not in loads else "")


def probed(run, cpus=(WORKER_CPU,)):
    """run() between probes of the speed of each of `cpus`: (its result, the probes: each CPU's
    before, then each CPU's after; for one CPU (before, after))."""
    before = [core_speed(c) for c in cpus]
    result = run()
    return result, (*before, *(core_speed(c) for c in cpus))


def in_turn(r, *runs):
    """Round r of measurements that take turns: each of runs (callables) goes first in every
    len(runs)-th round (two: the first in even rounds, the second in odd ones), the others after
    it in their order, so that a change of the machine's speed between them leans no way over the
    rounds. Returns their results in the order of runs."""
    first = r % len(runs)
    results = [None] * len(runs)
    for i in list(range(first, len(runs))) + list(range(first)):
        results[i] = runs[i]()
    return tuple(results)


def in_turn_probed(r, *runs, cpus=(WORKER_CPU,)):
    """in_turn() with each run between probes of the speed of each of `cpus` (probed()): (the
    runs' results in the order of runs, every probe of the round)."""
    probes = []

    def one(run):
        def go():
            result, speeds = probed(run, cpus)
            probes.extend(speeds)
            return result
        return go

    return in_turn(r, *map(one, runs)), probes


def measure_farend(farend, eal, prefix, warmup, window, args=(), during=None):
    """farend (its path) with EAL arguments `eal` and farend options `args`: how much each
    /farend/stats counter grew over the window, the window's seconds, farend's output."""
    a, b, secs, out = measure([farend, "--file-prefix", prefix, *eal, "--", *args], prefix, "/farend/stats", warmup,
                              window, during=during)
    return {k: b[k] - a[k] for k in b}, secs, out


def memory_kib(pid):
    """(VmRSS, VmHWM) of a process in KiB."""
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm


def cpu_ticks(stat_path):
    """User plus system clock ticks (os.sysconf("SC_CLK_TCK") a second) of a /proc stat file: a
    process's (/proc/PID/stat) or one thread's (/proc/PID/task/TID/stat)."""
    with open(stat_path) as f:
        fields = f.read().rsplit(")", 1)[1].split()  # past the command name, which may hold spaces
    return int(fields[11]) + int(fields[12])  # utime, stime


def scratch_dir(prefix="farend-"):
    """A new directory for a script's scratch files, removed when the script ends, however it ends
    (normal exit, sys.exit, an exception): a run leaves nothing in /tmp."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, tmp, True)
    return tmp


def write_rules(path, prefixes=True, match=True):
    """The rule tables of perf/bench_rules, as a --config file."""
    with open(path, "w") as f:
        if prefixes:
            for i in range(900):
                f.write(f"rule = source=10.{i // 256}.{i % 256}.0/24 action=never\n")
            for i in range(100):
                f.write(f"rule = source=2001:db8:{i}::/48 action=force\n")
        # Under four top-level domains, .net among them: the messages' hosts (sip.example.net) are
        # looked up (a host ending in no domain's last byte is not), yet match none of these.
        tlds = (".example.org", ".example.net", ".example.com", ".example.de")
        for i in range(10000):
            f.write(f"rule = domain={'*.' if i % 2 else ''}customer{i}{tlds[i // 2 % 4]} action=force\n")
        if match:
            f.write("rule = name=match source=203.0.113.0/24 domain=*.example.net action=auto\n")
