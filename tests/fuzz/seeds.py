#!/usr/bin/env python3
"""Seeds for the fuzz targets from real captures and made frames (scripts/fuzz runs it).

seeds.py frames OUT_DIR SAMPLE_PCAP [CAPTURES_DIR]: fuzz_frame's raw-mode seeds (byte 0: the
options, then the frame; see fuzz_frame.cpp):
  - every frame of the bundled sample capture, in both directions;
  - frames of the real captures in SHARED/corpus/pcap, one of each shape (link, VLAN tags, IP
    version, protocol, fragment bits, SIP port or not, length in 128-byte steps) up to 4 KiB,
    in both directions; Linux cooked and raw-IP captures given an Ethernet header, as the
    dataplane would receive them;
  - frames made here for the paths no capture holds: IPv6 extension headers (hop-by-hop,
    destination options, routing, fragment), IPv4 options, first and later fragments of both
    versions, QinQ, VLAN with IPv6, a UDP checksum of 0, each carrying a NATed REGISTER or
    INVITE+SDP (so that the rewrite runs behind them), and a few near misses (lengths that do not
    add up, a truncated extension header).

seeds.py payloads SIP_DIR REWRITE_DIR CAPTURES_DIR: the SIP messages the captures carry over UDP
(ports 5060/5061; one of each start-line kind and 200-byte size step a capture), as they are for
fuzz_sip and behind fuzz_rewrite's option bytes (all tests and default rewrites from source 0;
alias mode), as scripts/fuzz puts the RFC messages.

Each prints how many seeds it wrote of each kind."""
import glob
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))

from farendtools import as_ethernet, natted_messages  # noqa: E402
from scapy.all import (IP, UDP, Dot1AD, Dot1Q, Ether, IPOption_RR, IPv6, IPv6ExtHdrDestOpt,  # noqa: E402
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw, rdpcap)

MAX_LEN = 4095  # scripts/fuzz runs with -max_len=4096: the option byte and the frame
MAC_A, MAC_B = "02:00:00:00:01:0a", "02:00:00:00:02:0a"


def shape(p, frame):
    """What makes two frames of a capture alike to the pipeline's frame reader."""
    ip = p[IP] if p.haslayer(IP) else (p[IPv6] if p.haslayer(IPv6) else None)
    udp = p[UDP] if p.haslayer(UDP) else None
    sip = bool(udp) and (5060 in (udp.sport, udp.dport) or 5061 in (udp.sport, udp.dport))
    return (frame[12:14], p.haslayer(Dot1Q), type(ip).__name__, getattr(ip, "proto", getattr(ip, "nh", None)),
            getattr(ip, "flags", None) and int(ip.flags), getattr(ip, "frag", 0) != 0, p.haslayer(IPv6ExtHdrFragment),
            sip, len(frame) // 128)


def write(out, name, opt, frame, counts, kind):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([opt]) + frame)
    counts[kind] = counts.get(kind, 0) + 1


def made_frames():
    """(name, frame) for the paths the captures do not reach, each with a NATed SIP payload."""
    register, invite = (m.encode() for m in natted_messages(3, ("REGISTER", "INVITE")))
    v4 = dict(src="203.0.113.5", dst="198.51.100.10")
    v6 = dict(src="2001:db8::5", dst="2001:db8::10")
    eth = Ether(src=MAC_A, dst=MAC_B)
    udp = UDP(sport=40000, dport=5060)
    out = []
    for tag, msg in (("register", register), ("invite", invite)):
        out += [
            (f"v6-hbh-dst-{tag}", eth / IPv6(**v6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / udp / Raw(msg)),
            (f"v6-routing-{tag}", eth / IPv6(**v6) / IPv6ExtHdrRouting(addresses=["2001:db8::20"], segleft=0) / udp / Raw(msg)),
            (f"v6-atomic-fragment-{tag}", eth / IPv6(**v6) / IPv6ExtHdrFragment(offset=0, m=0, id=7) / udp / Raw(msg)),
            (f"v4-options-{tag}", eth / IP(options=[IPOption_RR()], **v4) / udp / Raw(msg)),
            (f"qinq-{tag}", Ether(src=MAC_A, dst=MAC_B, type=0x88a8) / Dot1AD(vlan=10) / Dot1Q(vlan=20) / IP(**v4) / udp / Raw(msg)),
            (f"vlan-v6-{tag}", eth / Dot1Q(vlan=30) / IPv6(**v6) / udp / Raw(msg)),
        ]
        zero = eth / IP(**v4) / udp / Raw(msg)
        zero = Ether(bytes(zero))
        zero[UDP].chksum = 0
        out.append((f"v4-udp-checksum-0-{tag}", zero))
    # Fragments: a datagram cut in two, each piece on its own (the pipeline passes them on; the
    # dataplane's reassembly is not in the fuzzed code): the UDP datagrams with their checksums
    # (over each version's pseudo-header), then cut; IPv6 pieces also behind a hop-by-hop header
    # (which rte_ip_frag does not read: the pipeline counts them).
    whole4 = bytes(IP(**v4) / udp / Raw(invite))[20:]
    whole6 = bytes(IPv6(**v6) / udp / Raw(invite))[40:]
    cut = 256
    out += [
        ("v4-first-fragment", eth / IP(flags="MF", frag=0, proto=17, id=9, **v4) / Raw(whole4[:cut])),
        ("v4-later-fragment", eth / IP(frag=cut // 8, proto=17, id=9, **v4) / Raw(whole4[cut:])),
        ("v6-first-fragment", eth / IPv6(**v6) / IPv6ExtHdrFragment(offset=0, m=1, id=9, nh=17) / Raw(whole6[:cut])),
        ("v6-later-fragment", eth / IPv6(**v6) / IPv6ExtHdrFragment(offset=cut // 8, m=0, id=9, nh=17) / Raw(whole6[cut:])),
        ("v6-hbh-first-fragment",
         eth / IPv6(**v6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrFragment(offset=0, m=1, id=10, nh=17) / Raw(whole6[:cut])),
    ]
    # Near misses: lengths that do not add up, an extension header cut short.
    good = bytes(eth / IP(**v4) / udp / Raw(register))
    short_ip = bytearray(good)
    short_ip[16:18] = (len(good) - 14 - 10).to_bytes(2, "big")  # IP total length 10 short
    long_udp = bytearray(good)
    long_udp[38:40] = (len(good) - 34 + 6).to_bytes(2, "big")  # UDP length 6 past the datagram
    hbh = bytes(eth / IPv6(**v6) / IPv6ExtHdrHopByHop() / udp / Raw(register))
    out += [("v4-ip-length-short", bytes(short_ip)), ("v4-udp-length-long", bytes(long_udp)),
            ("v6-hbh-cut", hbh[:14 + 40 + 4])]
    return [(n, f if isinstance(f, bytes) else bytes(f)) for n, f in out]


def read_captures(captures):
    """(name, frames) of every capture in the folder, loudly skipping one scapy cannot read."""
    paths = sorted(glob.glob(os.path.join(captures, "*.pcap*")))
    if not paths:
        sys.exit(f"seeds: no captures in {captures}")
    for path in paths:
        try:
            frames = rdpcap(path)
        except Exception as e:  # a capture scapy cannot read costs its seeds, not the run
            print(f"seeds: WARNING: could not read {path} ({e}); its frames are not seeds", file=sys.stderr)
            continue
        yield os.path.basename(path), frames


def frames(out, sample, captures):
    os.makedirs(out, exist_ok=True)
    counts = {}
    for n, p in enumerate(rdpcap(sample)):
        for d in (0, 1):
            write(out, f"pcap-{n}-{d}", d, bytes(p), counts, "bundled sample")
    for base, capture in read_captures(captures) if captures else ():
        seen = set()
        for n, p in enumerate(capture):
            frame = as_ethernet(p)
            if frame is None or len(frame) > MAX_LEN:
                continue
            key = shape(p, frame)
            if key in seen:
                continue
            seen.add(key)
            for d in (0, 1):
                write(out, f"{base}-{n}-{d}", d, frame, counts, "captures")
    for name, frame in made_frames():
        for d in (0, 1):
            write(out, f"made-{name}-{d}", d, frame, counts, "made here")
    print("seeds: fuzz_frame: " + ", ".join(f"{v} from {k}" for k, v in counts.items()))


def payloads(sip_dir, rewrite_dir, captures):
    os.makedirs(sip_dir, exist_ok=True)
    os.makedirs(rewrite_dir, exist_ok=True)
    written = 0
    for base, capture in read_captures(captures):
        seen = set()
        for n, p in enumerate(capture):
            if UDP not in p or not {5060, 5061} & {p[UDP].sport, p[UDP].dport}:
                continue
            msg = bytes(p[UDP].payload)
            if len(msg) < 16 or len(msg) > MAX_LEN - 3:
                continue
            first = msg.split(b"\r\n", 1)[0]
            key = (first[:12] if first.startswith(b"SIP/") else first.split(b" ", 1)[0], len(msg) // 200)
            if key in seen:
                continue
            seen.add(key)
            with open(os.path.join(sip_dir, f"{base}-{n}"), "wb") as f:
                f.write(msg)
            for tag, opts in (("a", b"\xff\x01\x00"), ("b", b"\x0f\x02\x02")):
                with open(os.path.join(rewrite_dir, f"{base}-{n}-{tag}"), "wb") as f:
                    f.write(opts + msg)
            written += 1
    print(f"seeds: fuzz_sip and fuzz_rewrite: {written} SIP messages from the captures")


def main():
    args = sys.argv[1:]
    if args[:1] == ["frames"] and len(args) in (3, 4):
        frames(args[1], args[2], args[3] if len(args) == 4 else None)
    elif args[:1] == ["payloads"] and len(args) == 4:
        payloads(args[1], args[2], args[3])
    else:
        sys.exit("usage: seeds.py frames OUT_DIR SAMPLE_PCAP [CAPTURES_DIR] | seeds.py payloads SIP_DIR REWRITE_DIR CAPTURES_DIR")


if __name__ == "__main__":
    main()
