#!/usr/bin/python3
"""Writes the bundled sample captures (farend's own, no third-party material):

nat-sample.pcap  a desk phone at 192.168.1.10 behind a NAT that shows it as 203.0.113.5:40000,
                 talking to a switch at 198.51.100.10:5060: REGISTER, INVITE with SDP, ACK, BYE,
                 an OPTIONS keepalive response path, plus frames that are not SIP (ARP, ICMP,
                 DNS over UDP, TCP to 5060), one with a VLAN tag, one IPv6 phone, one malformed
                 SIP datagram, one message from an agent that is not behind NAT.

Run: /usr/bin/python3 tests/pcap/make-samples.py tests/pcap   (needs python3-scapy)
"""
import sys

from scapy.all import ARP, DNS, DNSQR, ICMP, IP, IPv6, TCP, UDP, Dot1Q, Ether, Raw, wrpcap

PHONE_MAC = "02:00:00:00:01:0a"
SWITCH_MAC = "02:00:00:00:02:0a"
NAT_IP, NAT_PORT = "203.0.113.5", 40000
SWITCH_IP = "198.51.100.10"


def crlf(s):
    return s.replace("\n", "\r\n").encode()


def sip(head, body=""):
    b = crlf(body)
    return crlf(head) + b"Content-Length: " + str(len(b)).encode() + b"\r\n\r\n" + b


SDP = """v=0
o=alice 2890844526 2890844526 IN IP4 192.168.1.10
s=-
c=IN IP4 192.168.1.10
t=0 0
m=audio 49170 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtcp:49171 IN IP4 192.168.1.10
"""

REGISTER = sip("""REGISTER sip:sip.example.net SIP/2.0
Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-reg-1;rport
Max-Forwards: 70
Contact: <sip:2001@192.168.1.10:5060;transport=udp>;expires=3600
To: <sip:2001@sip.example.net>
From: <sip:2001@sip.example.net>;tag=7c3a9e21
Call-ID: reg-1@192.168.1.10
CSeq: 1 REGISTER
User-Agent: sample-phone/1.0
""")

INVITE = sip("""INVITE sip:15551234567@sip.example.net SIP/2.0
Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-inv-1;rport
Max-Forwards: 70
Contact: "Alice" <sip:2001@192.168.1.10:5060>
To: <sip:15551234567@sip.example.net>
From: "Alice" <sip:2001@sip.example.net>;tag=5d8e0b13
Call-ID: call-1@192.168.1.10
CSeq: 1 INVITE
Content-Type: application/sdp
""", SDP)

ACK = sip("""ACK sip:15551234567@198.51.100.10:5060 SIP/2.0
Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-ack-1;rport
Max-Forwards: 70
To: <sip:15551234567@sip.example.net>;tag=as6f1e2d3c
From: "Alice" <sip:2001@sip.example.net>;tag=5d8e0b13
Call-ID: call-1@192.168.1.10
CSeq: 1 ACK
""")

BYE = sip("""BYE sip:15551234567@198.51.100.10:5060 SIP/2.0
Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-bye-1;rport
Max-Forwards: 70
To: <sip:15551234567@sip.example.net>;tag=as6f1e2d3c
From: "Alice" <sip:2001@sip.example.net>;tag=5d8e0b13
Call-ID: call-1@192.168.1.10
CSeq: 2 BYE
""")

OK_FROM_SWITCH = sip("""SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-reg-1;rport=40000;received=203.0.113.5
Contact: <sip:2001@192.168.1.10:5060;transport=udp>;expires=3600
To: <sip:2001@sip.example.net>;tag=srv1
From: <sip:2001@sip.example.net>;tag=7c3a9e21
Call-ID: reg-1@192.168.1.10
CSeq: 1 REGISTER
""")

PUBLIC_AGENT = sip("""OPTIONS sip:sip.example.net SIP/2.0
Via: SIP/2.0/UDP 198.51.100.77:5060;branch=z9hG4bK-pub-1
Max-Forwards: 70
Contact: <sip:pbx@198.51.100.77:5060>
To: <sip:sip.example.net>
From: <sip:pbx@198.51.100.77>;tag=1
Call-ID: pub-1@198.51.100.77
CSeq: 1 OPTIONS
""")

IPV6_REGISTER = sip("""REGISTER sip:sip.example.net SIP/2.0
Via: SIP/2.0/UDP [fd00::10]:5060;branch=z9hG4bK-v6-1;rport
Max-Forwards: 70
Contact: <sip:2002@[fd00::10]:5060>
To: <sip:2002@sip.example.net>
From: <sip:2002@sip.example.net>;tag=v6
Call-ID: v6-1@fd00::10
CSeq: 1 REGISTER
""")

MALFORMED = b"INVITE  sip:broken SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10\r\n\r\n"


def access(payload, src=NAT_IP, sport=NAT_PORT, dst=SWITCH_IP, dport=5060, vlan=None):
    l2 = Ether(src=PHONE_MAC, dst=SWITCH_MAC)
    if vlan is not None:
        l2 = l2 / Dot1Q(vlan=vlan)
    return l2 / IP(src=src, dst=dst, id=1) / UDP(sport=sport, dport=dport) / Raw(payload)


def main(outdir):
    frames = [
        Ether(src=PHONE_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc=NAT_IP, pdst=SWITCH_IP),
        access(REGISTER),
        access(INVITE),
        access(ACK),
        access(BYE, vlan=100),
        Ether(src=PHONE_MAC, dst=SWITCH_MAC) / IP(src=NAT_IP, dst=SWITCH_IP) / ICMP(),
        Ether(src=PHONE_MAC, dst=SWITCH_MAC) / IP(src=NAT_IP, dst=SWITCH_IP) / UDP(sport=5353, dport=53)
        / DNS(rd=1, qd=DNSQR(qname="sip.example.net")),
        Ether(src=PHONE_MAC, dst=SWITCH_MAC) / IP(src=NAT_IP, dst=SWITCH_IP) / TCP(sport=40001, dport=5060, flags="S"),
        access(PUBLIC_AGENT, src="198.51.100.77", sport=5060),
        Ether(src=PHONE_MAC, dst=SWITCH_MAC) / IPv6(src="2001:db8::5", dst="2001:db8::10")
        / UDP(sport=40002, dport=5060) / Raw(IPV6_REGISTER),
        access(MALFORMED),
    ]
    wrpcap(f"{outdir}/nat-sample.pcap", frames)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
