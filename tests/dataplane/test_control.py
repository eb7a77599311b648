#!/usr/bin/python3
"""build/farend's control side: telemetry over the DPDK socket, the alias reverse path, NAT
keepalives, rules (files, reloads on SIGHUP, /farend/rules).

Run from the repository root: /usr/bin/python3 -m unittest -v tests/dataplane/test_control.py
(needs root for DPDK's runtime directory, python3-scapy, a built build/farend)."""
import json
import re
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from scapy.all import IP, UDP, Ether, IPv6, Raw, defragment, fragment, rdpcap, wrpcap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# setUpModule and tearDownModule: the module's scratch directory, removed when its tests end
from dataplane_common import (FAREND, SAMPLE, checksums_ok, natted_register, run_both_ways, run_pcap, setUpModule,
                              sip, tearDownModule)  # noqa: E402,F401
from farendtools import telemetry  # noqa: E402


class Telemetry(unittest.TestCase):
    def test_commands_over_the_socket(self):
        prefix = f"fe-tel-{os.getpid()}"
        tmp = tempfile.mkdtemp()
        stats = os.path.join(tmp, "stats.json")
        proc = subprocess.Popen([FAREND, "--no-huge", "--no-pci", "-m", "512", "--file-prefix", prefix, "-l", "0",
                                 f"--vdev=net_pcap0,rx_pcap={SAMPLE},tx_pcap={tmp}/a.pcap,infinite_rx=1",
                                 f"--vdev=net_pcap1,tx_pcap={tmp}/c.pcap", "--", "--stats-json", stats,
                                 "--keepalive-interval", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            def query(cmd):
                return telemetry(prefix, cmd, tries=50)
            first = query("/farend/stats")
            time.sleep(0.5)
            second = query("/farend/stats")
            for key in ["rx_packets", "tx_packets", "sip_messages", "nat_detected", "rewritten", "passed_unmodified",
                        "malformed", "dropped", "nat_contact_private", "malformed_bad_start_line"]:
                self.assertIn(key, second)
            self.assertGreater(second["rx_packets"], first["rx_packets"])
            self.assertGreater(second["rewritten"], first["rewritten"])
            lcore = query("/farend/lcore_stats,0")
            self.assertIn("rx_packets", lcore)
            time.sleep(1.2)  # every NATed flow has had its first keepalive (1 s interval)
            flows = query("/farend/flows")
            self.assertEqual(flows["count"], 4)  # the phone (untagged and VLAN 100), the public PBX, the IPv6 phone
            fields = dict(kv.split("=", 1) for kv in flows["flow_0"])
            self.assertIn(fields["public"], ("203.0.113.5:40000", "198.51.100.77:5060", "[2001:db8::5]:40002"))
            phone = [dict(kv.split("=", 1) for kv in v) for k, v in flows.items() if k.startswith("flow_")]
            natted = [f for f in phone if f["public"] == "203.0.113.5:40000" and f["vlan"] == "0"][0]
            # Each source as its key has it: address, port, VLAN, family.
            self.assertEqual(sorted((f["public"], f["vlan"]) for f in phone),
                             [("198.51.100.77:5060", "0"), ("203.0.113.5:40000", "0"), ("203.0.113.5:40000", "100"),
                              ("[2001:db8::5]:40002", "0")])
            self.assertEqual(natted["private"], "192.168.1.10")
            self.assertEqual(natted["peer"], "198.51.100.10:5060")
            self.assertIn("via-private", natted["nat_tests"])
            self.assertGreater(int(natted["packets"]), 0)
            self.assertLess(int(natted["last_seen_s_ago"]), 5)
            self.assertLess(int(natted["last_register_s_ago"]), 5)
            self.assertGreaterEqual(int(natted["keepalives"]), 1)
            self.assertLessEqual(int(natted["last_ping_s_ago"]), 1)
            self.assertEqual(natted["last_answer_s_ago"], "never")
            res = query("/farend/resources")
            self.assertEqual(res["port0_driver"], "net_pcap")
            self.assertGreater(res["port0_rx_packets"], 0)
            self.assertEqual((res["port0_rx_missed"], res["port0_rx_nombuf"], res["port1_tx_errors"]), (0, 0, 0))
            # net_pcap does no checksum work: farend verifies and fills them in (TapPorts: a port that does).
            self.assertEqual((res["port0_rx_checksum_offload"], res["port1_tx_checksum_offload"]), (0, 0))
            self.assertEqual(res["pool_farend_mbufs_size"], 5248 + 8192)  # rings and bursts, fragments waiting
            self.assertLessEqual(res["pool_farend_mbufs_in_use"], res["pool_farend_mbufs_size"])
            self.assertEqual((res["flows"], res["flow_capacity"]), (4, 65536))
            config = query("/farend/config")
            self.assertEqual(config["nat_tests"], "contact-private,via-source-mismatch,via-private,contact-source-mismatch")
            self.assertEqual(config["port_pair"], "0:1")
            self.assertEqual(config["worker_lcores"], "0")
        finally:
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, out)
        self.assertIn("final counters", out)
        with open(stats) as f:
            totals = json.load(f)["totals"]
        self.assertGreater(totals["rewritten"], 0)
        # frames out = frames in + keepalives sent - drops - answers to keepalives consumed
        self.assertEqual(totals["rx_packets"] + totals["keepalives_sent"],
                         totals["tx_packets"] + totals["dropped"] + totals["keepalive_answers"])
        self.assertGreater(totals["keepalives_sent"], 0)


class AliasReversePath(unittest.TestCase):
    """--contact-mode alias both ways: the REGISTER's Contact gains the alias on the way in; the
    switch's INVITE to that Contact is re-targeted to the public address, the alias taken out of
    the Request-URI, L2 kept; an alias never seen from the access side is left alone."""

    SW, SW_MAC, ACC_MAC = "198.51.100.10", "02:00:00:00:00:0c", "02:00:00:00:00:0a"

    def frames(self):
        reg = (Ether(src=self.ACC_MAC, dst=self.SW_MAC) / IP(src="203.0.113.5", dst=self.SW, id=7) /
               UDP(sport=40000, dport=5060) /
               Raw(b"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKr1\r\n"
                   b"From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\nCall-ID: r1\r\n"
                   b"CSeq: 1 REGISTER\r\nContact: <sip:alice@192.168.1.10:5060>\r\nContent-Length: 0\r\n\r\n"))

        def invite(alias, call):
            body = b"v=0\r\no=- 1 1 IN IP4 198.51.100.20\r\ns=-\r\nc=IN IP4 198.51.100.20\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
            return (Ether(src=self.SW_MAC, dst=self.ACC_MAC) / IP(src=self.SW, dst="192.168.1.10", id=9, ttl=63) /
                    UDP(sport=5060, dport=5060) /
                    Raw(b"INVITE sip:alice@192.168.1.10:5060" + alias + b" SIP/2.0\r\n"
                        b"Via: SIP/2.0/UDP 198.51.100.10;branch=z9hG4bK" + call + b"\r\nCall-ID: " + call + b"\r\n"
                        b"CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: " +
                        str(len(body)).encode() + b"\r\n\r\n" + body))
        good = invite(b";alias=203.0.113.5~40000~1", b"c1")
        forged = invite(b";alias=203.0.113.99~40000~1", b"c2")
        arp = Ether(src=self.SW_MAC, dst="ff:ff:ff:ff:ff:ff", type=0x0806) / Raw(b"\x00" * 28)
        return reg, good, forged, arp

    @staticmethod
    def retargeted(frame):
        """The frame farend should send for the switch's frame, built independently: the same L2
        and IP fields, the alias's destination, the parameter gone, lengths and checksums
        recomputed by scapy."""
        want = frame.copy()
        want[IP].dst = "203.0.113.5"
        want[UDP].dport = 40000
        want[Raw].load = bytes(frame[Raw]).replace(b";alias=203.0.113.5~40000~1", b"")
        del want[IP].len, want[IP].chksum, want[UDP].len, want[UDP].chksum
        return Ether(bytes(want))

    def test_alias_out_and_back(self):
        reg, good, forged, arp = self.frames()
        core_out, back, stats = run_both_ways([reg], [good, forged, arp], "--contact-mode", "alias")
        self.assertEqual(len(core_out), 1)
        self.assertIn(b"\r\nContact: <sip:alice@192.168.1.10:5060;alias=203.0.113.5~40000~1>\r\n", bytes(core_out[0][Raw]))
        self.assertEqual(len(back), 3, "nothing lost on the way back")
        self.assertEqual(bytes(back[0]), bytes(self.retargeted(good)))
        self.assertTrue(bytes(back[0][Raw]).startswith(b"INVITE sip:alice@192.168.1.10:5060 SIP/2.0\r\n"))
        self.assertEqual(bytes(back[1]), bytes(forged), "a forged alias is left alone")
        self.assertEqual(bytes(back[2]), bytes(arp))
        self.assertEqual((stats["alias_retargeted"], stats["alias_unknown"], stats["alias_bad"]), (1, 1, 0))
        self.assertEqual((stats["rx_packets"], stats["tx_packets"], stats["dropped"]), (4, 4, 0))

    def test_fragmented_invite_reassembled_and_retargeted(self):
        # An INVITE over the MTU (a big SDP offer, a long Via and Record-Route stack: common over
        # UDP) reaches the core port in IP fragments. Its alias is in the first piece, but every
        # piece's destination and the UDP checksum over the whole datagram change: farend puts
        # the pieces together, re-targets the datagram and cuts it again at --mtu.
        reg, good, _, _ = self.frames()
        body = bytes(good[Raw]).split(b"\r\n\r\n", 1)[1]
        big_body = body + b"".join(b"a=fmtp:%d mode-set=0,2,4,7;octet-align=1;max-red=0;padding-%04d\r\n" % (96 + i % 30, i)
                                   for i in range(50))
        head = bytes(good[Raw]).split(b"\r\n\r\n", 1)[0].replace(b"Content-Length: %d" % len(body),
                                                                   b"Content-Length: %d" % len(big_body))
        invite = good.copy()
        invite[Raw].load = head + b"\r\n\r\n" + big_body
        del invite[IP].len, invite[IP].chksum, invite[UDP].len, invite[UDP].chksum
        invite = Ether(bytes(invite))
        self.assertGreater(len(invite[IP]), 3000)
        pieces = [Ether(src=self.SW_MAC, dst=self.ACC_MAC) / f for f in fragment(invite[IP], fragsize=1400)]
        self.assertEqual(len(pieces), 3)
        _, back, stats = run_both_ways([reg], pieces, "--contact-mode", "alias")
        for f in back:
            self.assertLessEqual(len(f[IP]), 1500)
            self.assertEqual((f[IP].dst, f.src, f.dst), ("203.0.113.5", self.SW_MAC, self.ACC_MAC))
        whole = defragment(back)
        self.assertEqual(len(whole), 1, "the pieces make one datagram")
        want = self.retargeted(invite)
        got = Ether(bytes(Ether(src=self.SW_MAC, dst=self.ACC_MAC) / whole[0][IP]))
        self.assertEqual(bytes(got[UDP]), bytes(want[UDP]), "re-targeted, the UDP checksum over the whole datagram")
        self.assertEqual((stats["fragments"], stats["reassembled"], stats["alias_retargeted"], stats["refragmented"]),
                         (3, 1, 1, 1))
        self.assertEqual((stats["dropped"], stats["fragments_passed"]), (0, 0))
        # A datagram whose last piece never comes: its pieces go on to the access port as they
        # came (at exit here; after 2 s in service), none lost.
        _, back, stats = run_both_ways([reg], pieces[:2], "--contact-mode", "alias")
        self.assertEqual([bytes(f) for f in back], [bytes(f) for f in pieces[:2]])
        self.assertEqual((stats["fragments"], stats["fragments_passed"], stats["dropped"]), (2, 2, 0))
        # In rewrite mode nothing reads the switch's side: its pieces go on as they came.
        _, back, stats = run_both_ways([reg], pieces)
        self.assertEqual([bytes(f) for f in back], [bytes(f) for f in pieces])
        self.assertEqual((stats["fragments"], stats["reassembled"], stats["alias_retargeted"]), (0, 0, 0))

    def test_rewrite_mode_never_retargets(self):
        reg, good, _, _ = self.frames()
        _, back, stats = run_both_ways([reg], [good])
        self.assertEqual([bytes(f) for f in back], [bytes(good)])
        self.assertEqual(stats["alias_retargeted"], 0)


class Keepalives(unittest.TestCase):
    """--keepalive-interval: pings from the switch's address and SIP port to each NATed flow's
    public address, out of the access port with the flow's MACs swapped; answers to OPTIONS pings
    consumed; flows that stop answering dropped; pings of many flows spread over the interval."""

    SW, SW_MAC, ACC_MAC = "198.51.100.10", "02:00:00:00:00:0c", "02:00:00:00:00:0a"

    def register(self, port, private=True):
        host = "192.168.1.10" if private else "203.0.113.5"
        via_port = 5060 if private else port
        return (Ether(src=self.ACC_MAC, dst=self.SW_MAC) / IP(src="203.0.113.5", dst=self.SW) / UDP(sport=port, dport=5060) /
                Raw(f"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP {host}:{via_port};branch=z9hG4bK{port}\r\n"
                    f"From: <sip:u{port}@example.com>;tag=1\r\nTo: <sip:u{port}@example.com>\r\nCall-ID: r{port}\r\n"
                    f"CSeq: 1 REGISTER\r\nContact: <sip:u{port}@{host}:{via_port}>\r\nContent-Length: 0\r\n\r\n".encode()))

    def answer(self, port):
        return (Ether(src=self.ACC_MAC, dst=self.SW_MAC) / IP(src="203.0.113.5", dst=self.SW) / UDP(sport=port, dport=5060) /
                Raw(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bK-farend-ka-00000000\r\n"
                    b"From: <sip:farend@198.51.100.10:5060>;tag=farend-ka\r\nTo: <sip:203.0.113.5:40001>;tag=a\r\n"
                    b"Call-ID: farend-ka-00000000@198.51.100.10\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))

    def run_ka(self, frames, *opts):
        tmp = tempfile.mkdtemp()
        acc_in, acc_out = os.path.join(tmp, "a.pcap"), os.path.join(tmp, "a-out.pcap")
        wrpcap(acc_in, frames)
        core_out, stats, _ = run_pcap(acc_in, "--access-out", acc_out, *opts)
        return core_out, rdpcap(acc_out), stats

    def test_options_pings_answers_and_timeouts(self):
        frames = [self.register(40001), self.register(40002), self.register(40003), self.register(40004, private=False),
                  self.answer(40001)]
        core_out, pings, stats = self.run_ka(frames, "--keepalive-interval", "1", "--exit-when-idle", "5.5")
        self.assertEqual(len(core_out), 4, "the answer is consumed, the REGISTERs go on")
        self.assertEqual((stats["keepalive_answers"], stats["dropped"]), (1, 0))
        # Three pings to each NATed flow, none to the public agent; then 3 unanswered in a row
        # drop each flow (the answer at the start came before any ping).
        self.assertEqual(stats["keepalives_sent"], 9)
        self.assertEqual(stats["keepalive_timeouts"], 3)
        self.assertEqual(len(pings), 9)
        by_port = {}
        for p in pings:
            self.assertEqual((p.src, p.dst), (self.SW_MAC, self.ACC_MAC), "MACs swapped")
            self.assertEqual((p[IP].src, p[IP].dst, p[UDP].sport), (self.SW, "203.0.113.5", 5060))
            self.assertTrue(checksums_ok(p))
            text = sip(p)
            self.assertTrue(text.startswith(f"OPTIONS sip:203.0.113.5:{p[UDP].dport} SIP/2.0\r\n"), text)
            self.assertIn(";branch=z9hG4bK-farend-ka-", text)
            by_port.setdefault(p[UDP].dport, []).append(float(p.time))
        self.assertEqual(sorted(by_port), [40001, 40002, 40003])
        for port, times in by_port.items():
            gaps = [b - a for a, b in zip(times, times[1:])]
            for g in gaps:
                self.assertAlmostEqual(g, 1.0, delta=0.15, msg=f"flow {port}: pings {times}")

    def test_crlf_and_null4(self):
        for method, payload in (("crlf", b"\r\n\r\n"), ("null4", b"\x00" * 4)):
            _, pings, stats = self.run_ka([self.register(40001)], "--keepalive-interval", "1", "--keepalive-method", method,
                                          "--exit-when-idle", "2.5")
            self.assertGreaterEqual(len(pings), 2, method)
            self.assertEqual(stats["keepalives_sent"], len(pings))
            self.assertEqual(stats["keepalive_timeouts"], 0, "no answers expected, so none missed")
            for p in pings:
                self.assertEqual(bytes(p[UDP].payload), payload)
                self.assertTrue(checksums_ok(p))

    def test_pings_of_many_flows_spread_over_the_interval(self):
        n = 200
        _, pings, stats = self.run_ka([self.register(41000 + i) for i in range(n)], "--keepalive-interval", "2",
                                      "--keepalive-method", "crlf", "--exit-when-idle", "2.8")
        first = {}
        for p in pings:
            first.setdefault(p[UDP].dport, float(p.time))
        self.assertEqual(len(first), n, "every flow pinged within one interval")
        t0 = min(first.values())
        bins = [0] * 10
        for t in first.values():
            bins[min(9, int((t - t0) / 0.2))] += 1
        self.assertLessEqual(max(bins), 50, f"pings bunched: {bins}")
        self.assertGreaterEqual(sum(1 for b in bins if b), 9, f"pings bunched: {bins}")


class Rules(unittest.TestCase):
    """Rules by source prefix and by domain, on the real dataplane: exact bytes out for each action,
    precedence, counters; a reload under traffic (SIGHUP) with nothing lost; a bad reload keeps
    the old rules."""

    SW = "198.51.100.10"

    def msg(self, src, sport, ruri_host, contact_host, via_host=None, v6=False):
        via_host = via_host or contact_host
        text = (f"REGISTER sip:{ruri_host} SIP/2.0\r\nVia: SIP/2.0/UDP {via_host}:5060;branch=z9hG4bK{sport}\r\n"
                f"From: <sip:u@{ruri_host}>;tag=1\r\nTo: <sip:u@{ruri_host}>\r\nCall-ID: c{sport}\r\nCSeq: 1 REGISTER\r\n"
                f"Contact: <sip:u@{contact_host}:5060>\r\nContent-Length: 0\r\n\r\n").encode()
        ip = IPv6(src=src, dst="2001:db8::10") if v6 else IP(src=src, dst=self.SW)
        return Ether(src="02:00:00:00:00:0a", dst="02:00:00:00:00:0c") / ip / UDP(sport=sport, dport=5060) / Raw(text)

    RULES = ["name=drop-net source=192.0.2.0/24 action=drop",
             "name=trusted source=203.0.113.0/24 action=never",
             "name=acme-pbx source=203.0.113.0/24 domain=*.acme.example action=force nat-tests=none",
             "name=alias-v6 source=2001:db8:5::/48 contact-mode=alias",
             "name=acme domain=acme.example action=force nat-tests=none"]

    def test_actions_and_precedence_exact_bytes(self):
        frames = [
            self.msg("192.0.2.7", 40001, "example.com", "192.168.1.10"),            # dropped
            self.msg("203.0.113.7", 40002, "example.com", "192.168.1.10"),          # never: untouched although NATed
            self.msg("203.0.113.8", 5060, "pbx.acme.example", "203.0.113.8"),       # prefix+domain: forced (rport)
            self.msg("198.51.100.50", 5070, "acme.example", "198.51.100.50"),       # domain only: forced
            self.msg("2001:db8:5::9", 40003, "example.com", "[fd00::10]", v6=True),  # alias mode from the rule
            self.msg("198.51.100.60", 40004, "example.com", "192.168.1.10"),        # no rule: global settings
        ]
        path = tempfile.mktemp(suffix=".pcap")
        wrpcap(path, frames)
        opts = []
        for r in self.RULES:
            opts += ["--rule", r]
        out, stats, _ = run_pcap(path, *opts)
        self.assertEqual(len(out), 5, "only the dropped one is missing")
        self.assertEqual(bytes(out[0]), bytes(frames[1]), "never: byte-identical")
        for o in out:
            self.assertTrue(checksums_ok(o))
        self.assertEqual(sip(out[1]), bytes(frames[2][Raw]).decode().replace(
            "branch=z9hG4bK5060", "branch=z9hG4bK5060;rport=5060").replace(
            "Contact: <sip:u@203.0.113.8:5060>", "Contact: <sip:u@203.0.113.8:5060>"))
        self.assertIn("Via: SIP/2.0/UDP 198.51.100.50:5060;branch=z9hG4bK5070;rport=5070\r\n", sip(out[2]))
        self.assertIn("Contact: <sip:u@198.51.100.50:5070>\r\n", sip(out[2]))
        self.assertIn("Contact: <sip:u@[fd00::10]:5060;alias=[2001:db8:5::9]~40003~1>\r\n", sip(out[3]))
        self.assertIn("Contact: <sip:u@198.51.100.60:40004>\r\n", sip(out[4]))
        self.assertEqual((stats["rule_matched"], stats["drop_rule"], stats["rule_never"], stats["rule_forced"]), (5, 1, 1, 2))
        self.assertEqual((stats["rx_packets"], stats["tx_packets"], stats["dropped"]), (6, 5, 1))

    def test_rules_from_the_config_file_and_bad_rules(self):
        tmp = tempfile.mkdtemp()
        conf = os.path.join(tmp, "farend.conf")
        with open(conf, "w") as f:
            f.write("rule = name=trusted source=203.0.113.0/24 action=never\n")
        _, stats, _ = run_pcap(SAMPLE, "--config", conf)
        _, plain, _ = run_pcap(SAMPLE)
        self.assertGreater(stats["rule_never"], 0)
        self.assertLess(stats["rewritten"], plain["rewritten"], "the trusted network's NATed messages are left alone")
        for bad, word in (("source=203.0.113.0/24", "sets nothing"), ("domain=a..b action=drop", "domain 'a..b'"),
                          ("source=10.0.0.0/8 action=sometimes", "action 'sometimes'")):
            _, _, p = run_pcap(SAMPLE, "--rule", bad, expect_rc=2)
            self.assertIn("--rule", p.stderr)
            self.assertIn(word, p.stderr)

    def test_reload_under_traffic_loses_nothing(self):
        prefix = f"fe-rules-{os.getpid()}"
        tmp = tempfile.mkdtemp()
        conf, stats = os.path.join(tmp, "farend.conf"), os.path.join(tmp, "stats.json")
        def write_rules(rules):
            with open(conf + ".new", "w") as f:
                f.write("".join(f"rule = {r}\n" for r in rules))
            os.replace(conf + ".new", conf)
        write_rules(["name=gen0 source=203.0.113.0/24 action=never"])
        proc = subprocess.Popen([FAREND, "--no-huge", "--no-pci", "-m", "512", "--file-prefix", prefix, "-l", "0",
                                 f"--vdev=net_pcap0,rx_pcap={SAMPLE},infinite_rx=1", "--vdev=net_null1,no-rx=1",
                                 "--", "--config", conf, "--stats-json", stats],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        def rules(cmd="/farend/rules"):
            return telemetry(prefix, cmd, tries=50)
        try:
            r = rules()
            self.assertEqual(r["count"], 1)
            self.assertIn("name=gen0", r["rule_0"])
            for gen in range(1, 11):  # ten reloads while the traffic runs at full speed
                write_rules([f"name=gen{gen} source=203.0.113.0/24 action={'force' if gen % 2 else 'never'}",
                             f"name=extra{gen} domain=*.gen{gen}.example action=drop"])
                proc.send_signal(signal.SIGHUP)
                for _ in range(100):
                    r = rules()
                    if r["reloads"] == gen:
                        break
                    time.sleep(0.05)
                self.assertEqual(r["reloads"], gen)
                self.assertIn(f"name=gen{gen}", r["rule_0"])
            time.sleep(0.3)
            r = rules()
            self.assertGreater(int(r["rule_0"][1].split("=")[1]), 0, "the last rules are in use")
            page = rules("/farend/rules,1")  # from the second rule on
            self.assertEqual((page["count"], "rule_0" in page), (2, False))
            self.assertIn("name=extra10", page["rule_1"])
            # A bad file: the reload is refused, the rules in force stay.
            with open(conf, "w") as f:
                f.write("rule = source=203.0.113.0/24 action=perhaps\n")
            proc.send_signal(signal.SIGHUP)
            for _ in range(100):
                r = rules()
                if r["reload_errors"]:
                    break
                time.sleep(0.05)
            self.assertEqual(r["reload_errors"], 1)
            self.assertIn("action 'perhaps'", r["last_reload_error"])
            self.assertEqual((r["reloads"], r["count"]), (10, 2))
        finally:
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, out)
        self.assertIn("rules reloaded", out)
        self.assertIn("rules NOT reloaded", out)
        with open(stats) as f:
            t = json.load(f)["totals"]
        self.assertGreater(t["rx_packets"], 100000)
        self.assertEqual(t["rx_packets"], t["tx_packets"] + t["dropped"], "nothing lost across the reloads")
        self.assertEqual(t["dropped"], 0)
        self.assertGreater(t["rule_never"], 0, "never generations left the phone alone")
        self.assertGreater(t["rewritten"], t["rx_packets"] // 100, "force generations rewrote it")



class Watchdog(unittest.TestCase):
    """Liveness: farend tells systemd it is ready once its workers run, feeds systemd's watchdog
    while every worker comes round its poll loop, and stops feeding it while one does not (so that
    systemd restarts a stuck farend: configs/farend.service has WatchdogSec). Here systemd is a
    datagram socket of the test's (NOTIFY_SOCKET, WATCHDOG_USEC as systemd sets them), and the
    worker is stuck for real: its port reads a FIFO (net_pcap), and a read of an empty FIFO
    blocks inside the driver, as a driver call that hangs would. A rule reload (SIGHUP) on the way
    is told to systemd (RELOADING=1, then READY=1 again). The test's writer sends a burst
    of frames every 100 ms, pauses 3 s, then goes on."""

    def test_a_stuck_worker_is_said_and_starves_the_watchdog(self):
        import socket
        import threading
        from farendtools import pcap_header, pcap_record
        tmp = tempfile.mkdtemp()
        fifo, out, stats = (os.path.join(tmp, n) for n in ("in.pcap", "out.pcap", "stats.json"))
        os.mkfifo(fifo)
        notify = os.path.join(tmp, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(notify)
        sock.settimeout(0.2)
        self.addCleanup(sock.close)
        frames = [bytes(natted_register(i)) for i in range(32)]
        bursts = 15  # before the pause, and again after it: 32 frames each, 100 ms apart

        def writer():
            with open(fifo, "wb") as f:  # opens once farend's port has opened its end
                f.write(pcap_header())
                for k in range(2 * bursts):
                    if k == bursts:
                        time.sleep(3.0)  # the worker waits in the driver's read, its loop stopped
                    for fr in frames:
                        f.write(pcap_record(fr))
                    f.flush()
                    time.sleep(0.1)
        wt = threading.Thread(target=writer, daemon=True)
        wt.start()
        env = dict(os.environ, NOTIFY_SOCKET=notify, WATCHDOG_USEC="1000000")  # fed every 0.5 s
        env.pop("WATCHDOG_PID", None)
        proc = subprocess.Popen([FAREND, "--no-huge", "--no-pci", "-m", "512", "--file-prefix", f"fe-wd-{os.getpid()}",
                                 "-l", "0", f"--vdev=net_pcap0,rx_pcap={fifo}", f"--vdev=net_pcap1,tx_pcap={out}", "--",
                                 "--exit-when-idle", "1", "--stats-json", stats],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        got = []  # (seconds since start, notification)
        start = time.monotonic()
        hup = None  # when the rules were reloaded (SIGHUP), once farend said it was ready
        while proc.poll() is None and time.monotonic() - start < 60:
            try:
                got.append((time.monotonic() - start, sock.recv(4096).decode()))
            except socket.timeout:
                pass
            if hup is None and got and got[0][1].startswith("READY=1"):
                hup = len(got)
                proc.send_signal(signal.SIGHUP)
        while True:  # what came before the exit
            try:
                got.append((time.monotonic() - start, sock.recv(4096).decode()))
            except socket.timeout:
                break
        out, err = proc.communicate(timeout=30)
        wt.join(timeout=10)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("  worker stalls 1 (a worker did not come round its poll loop for a second: see above)\n", out)
        texts = [t for _, t in got]
        self.assertEqual(texts[0], "READY=1\nSTATUS=forwarding: 2 port(s), 1 worker lcore(s)", texts)
        self.assertEqual(texts[-1], "STOPPING=1", texts)
        # systemctl status: the totals every 5 s (the run lasts ~8 s)
        status = [t for t in texts[1:] if t.startswith("STATUS=")]
        self.assertGreaterEqual(len(status), 1, texts)
        self.assertRegex(status[0], r"^STATUS=forwarding: 2 port\(s\), 1 worker lcore\(s\); \d+ frames in, \d+ SIP, "
                                    r"\d+ rewritten, 0 dropped, [01] worker stall\(s\)$")
        # The reload: systemd is told the unit reloads, then that it is ready again.
        reload = [t for t in texts[hup:] if t.startswith(("RELOADING=", "READY="))]
        self.assertEqual(reload, ["RELOADING=1\nSTATUS=reloading the rules", "READY=1\nSTATUS=rules reloaded: 0 rule(s)"])
        self.assertIn("farend: rules reloaded: 0 rule(s)\n", err)
        pings = [t for t, text in got if text == "WATCHDOG=1"]
        self.assertGreaterEqual(len(pings), 4, got)
        # Fed every ~0.5 s while the worker runs; not for the ~2 s it is stuck past the first second.
        gaps = sorted(b - a for a, b in zip(pings, pings[1:]))
        self.assertGreaterEqual(gaps[-1], 2.0, got)
        self.assertLess(gaps[-2], 1.0, got)
        stuck = re.findall(r"farend: warning: worker lcore 0 has not come round its loop for (\d+\.\d) s", err)
        self.assertEqual(len(stuck), 1, err)
        self.assertTrue(1.0 <= float(stuck[0]) < 1.5, err)
        again = re.findall(r"farend: worker lcore 0 runs again after (\d+\.\d) s", err)
        self.assertEqual(len(again), 1, err)
        self.assertTrue(2.0 <= float(again[0]) < 5.0, err)
        with open(stats) as f:
            report = json.load(f)
        self.assertEqual(report["resources"]["worker_stalls"], 1)
        self.assertEqual((report["totals"]["rx_packets"], report["totals"]["tx_packets"]), (2 * bursts * 32, 2 * bursts * 32))


if __name__ == "__main__":
    unittest.main(verbosity=2)
