#!/usr/bin/python3
"""What the dataplane tests share (test_farend.py, test_resources.py, test_control.py,
test_perf_tools.py): where the build and the captures are, a scratch directory per test module,
farend on a capture through scripts/farend-pcap, scapy's checks of checksums, and the frames the
tests build. Not a test module itself."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from scapy.all import IP, UDP, IPv6, rdpcap, wrpcap

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FAREND = os.path.join(ROOT, "build", "farend")
FAREND_PCAP = os.path.join(ROOT, "scripts", "farend-pcap")
SAMPLE = os.path.join(ROOT, "tests", "pcap", "nat-sample.pcap")
SHARED = os.environ.get("FAREND_SHARED", os.path.join(ROOT, "..", "shared"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from farendtools import nat_frame  # noqa: E402  (frames, shared with scripts/)

_scratch = None


def setUpModule():
    """Every scratch file and directory of a test module goes in one directory (tempfile's default
    place while it runs), removed when the module's tests end: a run leaves nothing in /tmp."""
    global _scratch
    _scratch = tempfile.mkdtemp(prefix="farend-dataplane-tests-")
    tempfile.tempdir = _scratch


def tearDownModule():
    tempfile.tempdir = None
    shutil.rmtree(_scratch, ignore_errors=True)


def run_pcap(inp, *opts, expect_rc=0):
    tmp = tempfile.mkdtemp()
    out = os.path.join(tmp, "out.pcap")
    stats = os.path.join(tmp, "stats.json")
    p = subprocess.run([FAREND_PCAP, inp, out, "--stats-json", stats, *opts], capture_output=True, text=True, timeout=120)
    if p.returncode != expect_rc:
        raise AssertionError(f"farend-pcap exit {p.returncode} (wanted {expect_rc}):\n{p.stdout}\n{p.stderr}")
    if expect_rc != 0:
        return None, None, p
    with open(stats) as f:
        return rdpcap(out), json.load(f)["totals"], p


def run_both_ways(access_in, core_in, *opts):
    """farend on frames arriving on both ports: access_in on the access port, core_in (the
    switch's) on the core port. Returns what left the core port, what left the access port, and
    the final counters."""
    tmp = tempfile.mkdtemp()
    acc, core, acc_out = (os.path.join(tmp, n) for n in ("a.pcap", "c.pcap", "a-out.pcap"))
    wrpcap(acc, access_in)
    wrpcap(core, core_in)
    core_out, stats, _ = run_pcap(acc, "--core-in", core, "--access-out", acc_out, *opts)
    return core_out, rdpcap(acc_out), stats


def checksums_ok(frame):
    """Recompute the IPv4 header and UDP checksums with scapy and compare with what farend wrote."""
    if IP in frame:
        ip = frame[IP]
        fresh = IP(bytes(ip))
        del fresh.chksum
        if IP(bytes(fresh)).chksum != ip.chksum:
            return False
        if UDP in frame and ip.frag == 0 and not (ip.flags & 1):
            if ip.len != len(bytes(ip)) - (len(bytes(ip)) - ip.len) or frame[UDP].len != ip.len - ip.ihl * 4:
                return False
            if frame[UDP].chksum != 0:
                u = IP(bytes(ip))
                del u[UDP].chksum
                if IP(bytes(u))[UDP].chksum != frame[UDP].chksum:
                    return False
    if IPv6 in frame and UDP in frame:
        ip6 = frame[IPv6]
        u = IPv6(bytes(ip6))
        del u[UDP].chksum
        if IPv6(bytes(u))[UDP].chksum != frame[UDP].chksum or ip6.plen != len(bytes(ip6.payload)):
            return False
    return True


def sip(frame):
    return bytes(frame[UDP].payload).decode(errors="replace") if UDP in frame else ""


def natted_register(i, sport=None):
    """Agent i's REGISTER as it leaves its NAT: private Via and Contact, public source 203.0.113.5:40000+i."""
    sport = 40000 + i if sport is None else sport
    msg = (f"REGISTER sip:sip.example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.{10 + i % 200}:5060;branch=z9hG4bK-r{i};rport\r\n"
           f"From: <sip:u{i}@sip.example.net>;tag=t{i}\r\nTo: <sip:u{i}@sip.example.net>\r\nCall-ID: reg-{i}\r\n"
           f"CSeq: 1 REGISTER\r\nContact: <sip:u{i}@192.168.1.{10 + i % 200}:5060>\r\nContent-Length: 0\r\n\r\n")
    return nat_frame(msg, sport)


def big_register(contacts, pad):
    vals = ", ".join(f"<sip:u{i}@192.168.1.10:5060;ob>" for i in range(contacts))
    msg = ("REGISTER sip:sip.example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-big;rport\r\n"
           f"Contact: {vals}\r\nX-Pad: {'p' * pad}\r\nContent-Length: 0\r\n\r\n")
    return nat_frame(msg, 40000)


# A command prefix that runs what follows with two NUMA nodes where this VM has one: EAL reads an
# lcore's socket from /sys/devices/system/node/node<N>/cpu<M>, which a private mount namespace
# replaces (cpu0 on node 0, cpu1 on node 1). Memory, pages and devices stay as they are.
_NODE = "/sys/devices/system/node"
TWO_NUMA_NODES = ["unshare", "-m", "sh", "-c",
                  f"mount -t tmpfs farend-test-numa {_NODE} && mkdir -p {_NODE}/node0/cpu0 {_NODE}/node1/cpu1 && "
                  'exec "$@"', "sh"]
