#!/usr/bin/python3
"""Small scripted SIP endpoints for the end-to-end tests (alongside sipsak, the real client).

  sipagent.py callee PORT SECONDS [ADDR] [hangup] [rtp|rtp-answer]   answer one INVITE with 200 OK
                                      + SDP (c=ADDR, default 192.168.1.10, m=audio 16000), then 200 the
                                      BYE; with "hangup" send the BYE itself after the ACK. With "rtp",
                                      a second of RTP both ways after the ACK (to the offer's c= and m=,
                                      counting what arrives on 16000; "rtp-answer" starts 100 ms late:
                                      the side with no NAT lets the NATed side open the way, as a NAT
                                      lets answers in only). Prints what it got as JSON lines.
  sipagent.py caller TARGET_URI PROXY_IP PORT [LOCAL_ADDR] [wait-bye] [big] [rtp|rtp-answer]   call TARGET
                                      through the proxy: INVITE (m=audio 16002), read the 200 OK, ACK,
                                      then BYE along its Record-Route (or, with "wait-bye", wait for
                                      the far end's BYE and answer it); with "big", an SDP offer of
                                      ~3,000 bytes (many codecs), so the INVITE leaves in IP fragments;
                                      with "rtp", a second of RTP both ways after the ACK (to the
                                      answer's c= and m=, counting what arrives on 16002; "rtp-answer"
                                      as the callee's). Prints JSON.
"""
import json
import re
import socket
import sys
import time


def headers(msg):
    head = msg.split("\r\n\r\n", 1)[0].split("\r\n")
    out = {}
    for line in head[1:]:
        k, _, v = line.partition(":")
        out.setdefault(k.strip().lower(), []).append(v.strip())
    return head[0], out


def response(h, code, body, contact):
    resp = f"SIP/2.0 {code} OK\r\n"
    for v in h.get("via", []) + h.get("v", []):
        resp += f"Via: {v}\r\n"
    for k in ("record-route", "from", "call-id", "cseq"):
        for v in h.get(k, []):
            resp += f"{k.title()}: {v}\r\n"
    to = (h.get("to") or h.get("t"))[0]
    resp += f"To: {to}{'' if 'tag=' in to else ';tag=callee1'}\r\n"
    resp += f"Contact: <{contact}>\r\n"
    if body:
        resp += "Content-Type: application/sdp\r\n"
    return resp + f"Content-Length: {len(body)}\r\n\r\n{body}"


RTP_SECONDS = 1.0
RTP_INTERVAL = 0.02  # a packet each 20 ms, as G.711 sends: 50 a second


def sdp_media(msg):
    """The (address, port) an SDP offers for audio, or None."""
    c = re.search(r"c=IN IP4 (\S+)", msg)
    m = re.search(r"m=audio (\d+) ", msg)
    return (c.group(1), int(m.group(1))) if c and m else None


def rtp_both_ways(sock, peer, delay=0.0):
    """RTP to peer for RTP_SECONDS (starting after delay), counting what arrives on sock meanwhile
    and for a moment after. Returns (sent, got)."""
    sock.setblocking(False)
    t0 = time.time()
    send_at, stop = t0 + delay, t0 + delay + RTP_SECONDS
    sent = got = 0
    while time.time() < stop + 0.3:
        now = time.time()
        if send_at <= now < stop:
            # RTP header: version 2, PCMU (0), sequence, timestamp, SSRC; 160 bytes of silence
            sock.sendto(bytes([0x80, 0]) + sent.to_bytes(2, "big") + (sent * 160).to_bytes(4, "big")
                        + b"\x12\x34\x56\x78" + b"\xff" * 160, peer)
            sent += 1
            send_at += RTP_INTERVAL
        try:
            while True:
                data, _ = sock.recvfrom(2048)
                got += data[:1] == b"\x80"
        except BlockingIOError:
            pass
        time.sleep(0.002)
    return sent, got


def callee(port, seconds, addr="192.168.1.10", hangup=False, rtp=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.5)
    end = time.time() + seconds
    me = f"{addr}:{port}"
    invite_h = None
    media = None
    if rtp:
        media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        media.bind(("0.0.0.0", 16000))  # before the answer: the caller may send first
    while time.time() < end:
        try:
            data, peer = s.recvfrom(65535)
        except socket.timeout:
            continue
        msg = data.decode(errors="replace")
        first, h = headers(msg)
        print(json.dumps({"got": first, "from": f"{peer[0]}:{peer[1]}"}), flush=True)
        method = first.split(" ", 1)[0]
        if method in ("INVITE", "BYE", "OPTIONS"):
            body = ""
            if method == "INVITE":
                invite_h = h
                offer = sdp_media(msg)
                body = (f"v=0\r\no=bob 1 1 IN IP4 {addr}\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\n"
                        "m=audio 16000 RTP/AVP 0\r\n")
            user = re.match(r"\S+ sips?:([^@;>]+)@", first)
            s.sendto(response(h, 200, body, f"sip:{user.group(1) if user else 'callee'}@{me}").encode(), peer)
            if method == "BYE":
                return
        elif method == "ACK" and media is not None and offer is not None and invite_h is not None:
            sent, got = rtp_both_ways(media, offer, delay=0.1 if rtp == "rtp-answer" else 0.0)
            print(json.dumps({"rtp_sent": sent, "rtp_got": got}), flush=True)
            media = None
        if method == "ACK" and hangup and invite_h is not None:
            # In-dialog BYE from this side: to the caller's Contact, along the Record-Route.
            contact = re.search(r"<([^>]+)>", invite_h["contact"][0]).group(1)
            routes = [r.strip() for v in invite_h.get("record-route", []) for r in v.split(",")]
            frm = (invite_h.get("to") or invite_h.get("t"))[0] + ";tag=callee1"
            bye = (f"BYE {contact} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-callee-bye;rport\r\n"
                   f"Max-Forwards: 70\r\n" + "".join(f"Route: {r}\r\n" for r in routes) +
                   f"From: {frm}\r\nTo: {invite_h['from'][0]}\r\nCall-ID: {invite_h['call-id'][0]}\r\n"
                   f"CSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n")
            s.sendto(bye.encode(), peer)
        elif first.startswith("SIP/2.0 ") and "BYE" in h.get("cseq", [""])[0]:
            return


def caller(target, proxy, port, local_addr=None, wait_bye=False, big=False, rtp=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.settimeout(3)
    local = f"{local_addr or proxy}:{port}"
    call_id = f"e2e-{int(time.time() * 1000)}@{local_addr or proxy}"
    def send(text):
        s.sendto(text.encode(), (proxy, 5060))
    host = local_addr or proxy
    sdp = f"v=0\r\no=caller 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\nm=audio 16002 RTP/AVP 0\r\n"
    if big:
        sdp += "".join(f"a=fmtp:{96 + i % 30} mode-set=0,2,4,7;octet-align=1;max-red=0;x-pad={i:04d}\r\n" for i in range(50))
    invite = (f"INVITE {target} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-e2e-1;rport\r\n"
              f"Max-Forwards: 70\r\nFrom: <sip:caller@{host}>;tag=caller1\r\nTo: <{target}>\r\n"
              f"Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@{local}>\r\n"
              f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}")
    send(invite)
    result = {"responses": []}
    final = None
    end = time.time() + 10
    while time.time() < end and final is None:
        try:
            data, _ = s.recvfrom(65535)
        except socket.timeout:
            break
        msg = data.decode(errors="replace")
        first, h = headers(msg)
        code = int(first.split(" ")[1])
        result["responses"].append(code)
        if code >= 200:
            final, final_h, final_msg = code, h, msg
    if final != 200:
        if final is not None:  # ACK a failure hop by hop
            send(invite.replace("INVITE " + target, "ACK " + target, 1).replace("CSeq: 1 INVITE", "CSeq: 1 ACK"))
        print(json.dumps(result), flush=True)
        return
    result["sdp_c"] = re.findall(r"c=IN IP4 (\S+)", final_msg)
    contact = re.search(r"<([^>]+)>", final_h["contact"][0]).group(1)
    result["contact"] = contact
    routes = [r for v in reversed(final_h.get("record-route", [])) for r in v.split(",")]
    to = final_h["to"][0]
    route_hdr = "".join(f"Route: {r.strip()}\r\n" for r in routes)
    def in_dialog(method, cseq, branch):
        return (f"{method} {contact} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch};rport\r\nMax-Forwards: 70\r\n"
                f"{route_hdr}From: <sip:caller@{host}>;tag=caller1\r\nTo: {to}\r\nCall-ID: {call_id}\r\n"
                f"CSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n")
    send(in_dialog("ACK", 1, "z9hG4bK-e2e-ack"))
    answer = sdp_media(final_msg)
    if rtp and answer is not None:
        media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        media.bind(("0.0.0.0", 16002))
        result["rtp_sent"], result["rtp_got"] = rtp_both_ways(media, answer, 0.1 if rtp == "rtp-answer" else 0.0)
    if wait_bye:
        # The far end hangs up: its BYE must reach this agent; answer it.
        result["far_bye"] = False
        end = time.time() + 8
        while time.time() < end:
            try:
                data, peer = s.recvfrom(65535)
            except socket.timeout:
                continue
            first, h = headers(data.decode(errors="replace"))
            if first.startswith("BYE "):
                result["far_bye"] = True
                s.sendto(response(h, 200, "", f"sip:caller@{local}").encode(), peer)
                break
        print(json.dumps(result), flush=True)
        return
    time.sleep(0.5)
    send(in_dialog("BYE", 2, "z9hG4bK-e2e-bye"))
    try:
        data, _ = s.recvfrom(65535)
        result["bye"] = int(data.decode(errors="replace").split(" ")[1])
    except socket.timeout:
        result["bye"] = None
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "callee":
        flags = ("hangup", "rtp", "rtp-answer")
        rest = [a for a in sys.argv[4:] if a not in flags]
        callee(int(sys.argv[2]), float(sys.argv[3]), *rest[:1], hangup="hangup" in sys.argv[4:],
               rtp=next((a for a in sys.argv[4:] if a.startswith("rtp")), None))
    else:
        rest = [a for a in sys.argv[5:] if a not in ("wait-bye", "big", "rtp", "rtp-answer")]
        caller(sys.argv[2], sys.argv[3], int(sys.argv[4]), *rest[:1], wait_bye="wait-bye" in sys.argv[5:],
               big="big" in sys.argv[5:], rtp=next((a for a in sys.argv[5:] if a.startswith("rtp")), None))
