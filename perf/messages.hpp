// Typical messages of a NATed phone (private addresses in Via, Contact and SDP), as a carrier's
// access edge sees them. Sizes are those of real desk phones and softphones.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace farend::perf {

inline std::string crlf(const char* s) {
    std::string out;
    for (const char* p = s; *p; ++p) {
        if (*p == '\n') out += '\r';
        out += *p;
    }
    return out;
}

inline std::string with_body(const char* head, const char* body) {
    std::string b = crlf(body);
    std::string h = crlf(head);
    h += "Content-Length: " + std::to_string(b.size()) + "\r\n\r\n";
    return h + b;
}

inline const char* kSdp =
    "v=0\n"
    "o=alice 2890844526 2890844526 IN IP4 192.168.1.10\n"
    "s=-\n"
    "c=IN IP4 192.168.1.10\n"
    "t=0 0\n"
    "m=audio 49170 RTP/AVP 0 8 101\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:8 PCMA/8000\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-16\n"
    "a=rtcp:49171 IN IP4 192.168.1.10\n"
    "a=ptime:20\n"
    "a=sendrecv\n";

inline std::vector<std::pair<std::string, std::string>> messages() {
    std::vector<std::pair<std::string, std::string>> m;
    m.emplace_back("REGISTER", with_body(
        "REGISTER sip:sip.example.net SIP/2.0\n"
        "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-524287-1---9a7c2e6f1b3d4a58;rport\n"
        "Max-Forwards: 70\n"
        "Contact: <sip:2001@192.168.1.10:5060;rinstance=4f9a2c7d1e8b3a60;transport=UDP>\n"
        "To: <sip:2001@sip.example.net>\n"
        "From: <sip:2001@sip.example.net>;tag=7c3a9e21\n"
        "Call-ID: NzQ5YjU2ZjM0ZGE0NzE4MzFhMjA0ZmQ3NzU4ZjM2Nzc\n"
        "CSeq: 2 REGISTER\n"
        "Expires: 3600\n"
        "Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\n"
        "User-Agent: Z 5.6.1 v2.10.19.9\n"
        "Allow-Events: presence, kpml, talk\n", ""));
    m.emplace_back("INVITE+SDP", with_body(
        "INVITE sip:15551234567@sip.example.net SIP/2.0\n"
        "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-524287-1---0d7e1f5a6b2c3d49;rport\n"
        "Max-Forwards: 70\n"
        "Contact: <sip:2001@192.168.1.10:5060;transport=UDP>\n"
        "To: <sip:15551234567@sip.example.net>\n"
        "From: \"Alice\" <sip:2001@sip.example.net>;tag=5d8e0b13\n"
        "Call-ID: YzA1ZmE2ODk0NmU3NDc1ZTg0ZDA3ZjBhNjE4YjM0OWE\n"
        "CSeq: 1 INVITE\n"
        "Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\n"
        "Content-Type: application/sdp\n"
        "Supported: replaces, norefersub, extended-refer, timer, X-cisco-serviceuri\n"
        "User-Agent: Z 5.6.1 v2.10.19.9\n"
        "Allow-Events: presence, kpml, talk\n", kSdp));
    m.emplace_back("200+SDP", with_body(
        "SIP/2.0 200 OK\n"
        "Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK3c1f.6b0e7a42000000000000000000000000.0\n"
        "Via: SIP/2.0/UDP 198.51.100.7:5060;received=198.51.100.7;branch=z9hG4bK-d8754z-7a6e2b\n"
        "Record-Route: <sip:203.0.113.10;lr;ftag=a1b2c3d4>\n"
        "Contact: <sip:2001@192.168.1.10:5060;transport=UDP>\n"
        "To: <sip:2001@sip.example.net>;tag=9f2b6c11\n"
        "From: <sip:15557654321@sip.example.net>;tag=a1b2c3d4\n"
        "Call-ID: 4a9e1c7b2d5f4e8a9b0c1d2e3f405162@198.51.100.7\n"
        "CSeq: 102 INVITE\n"
        "Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\n"
        "Content-Type: application/sdp\n"
        "Supported: replaces\n"
        "User-Agent: Z 5.6.1 v2.10.19.9\n", kSdp));
    m.emplace_back("ACK", with_body(
        "ACK sip:15551234567@203.0.113.10:5060 SIP/2.0\n"
        "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-524287-1---5e9f0a1b2c3d4e5f;rport\n"
        "Max-Forwards: 70\n"
        "Route: <sip:203.0.113.10;lr;ftag=5d8e0b13>\n"
        "Contact: <sip:2001@192.168.1.10:5060;transport=UDP>\n"
        "To: <sip:15551234567@sip.example.net>;tag=as6f1e2d3c\n"
        "From: \"Alice\" <sip:2001@sip.example.net>;tag=5d8e0b13\n"
        "Call-ID: YzA1ZmE2ODk0NmU3NDc1ZTg0ZDA3ZjBhNjE4YjM0OWE\n"
        "CSeq: 1 ACK\n"
        "User-Agent: Z 5.6.1 v2.10.19.9\n", ""));
    m.emplace_back("BYE", with_body(
        "BYE sip:15551234567@203.0.113.10:5060 SIP/2.0\n"
        "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-524287-1---1a2b3c4d5e6f7081;rport\n"
        "Max-Forwards: 70\n"
        "Route: <sip:203.0.113.10;lr;ftag=5d8e0b13>\n"
        "Contact: <sip:2001@192.168.1.10:5060;transport=UDP>\n"
        "To: <sip:15551234567@sip.example.net>;tag=as6f1e2d3c\n"
        "From: \"Alice\" <sip:2001@sip.example.net>;tag=5d8e0b13\n"
        "Call-ID: YzA1ZmE2ODk0NmU3NDc1ZTg0ZDA3ZjBhNjE4YjM0OWE\n"
        "CSeq: 2 BYE\n"
        "User-Agent: Z 5.6.1 v2.10.19.9\n", ""));
    m.emplace_back("OPTIONS", with_body(
        "OPTIONS sip:sip.example.net SIP/2.0\n"
        "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-524287-1---7f6e5d4c3b2a1908;rport\n"
        "Max-Forwards: 70\n"
        "Contact: <sip:2001@192.168.1.10:5060>\n"
        "To: <sip:sip.example.net>\n"
        "From: <sip:2001@sip.example.net>;tag=0e1f2a3b\n"
        "Call-ID: b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8\n"
        "CSeq: 1 OPTIONS\n"
        "Accept: application/sdp\n"
        "User-Agent: Z 5.6.1 v2.10.19.9\n", ""));
    return m;
}

}  // namespace farend::perf
