// Golden cases: message + observed source + options -> the exact bytes farend forwards.
// Messages are written with "\n" (sent as CRLF). "@CL@" stands for the length of the body that
// follows the empty line, in the input and in the expected output alike, so an output's
// Content-Length is checked against the body the case expects. Every case also runs its output
// through again, which must change nothing (idempotence).
#include "sip_helpers.hpp"

#include <farend/rewrite/processor.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace farend;
using farend::test::crlf;

namespace {

std::string fill_cl(std::string s) {
    const auto eoh = s.find("\r\n\r\n");
    const std::string len = eoh == std::string::npos ? "0" : std::to_string(s.size() - eoh - 4);
    for (std::size_t p; (p = s.find("@CL@")) != std::string::npos;) s.replace(p, 4, len);
    return s;
}

struct Case {
    const char* name;
    const char* in;
    const char* source;   // "IP:PORT" or "[v6]:PORT"
    const char* options;  // "tests=...;rewrite=...;mode=alias;ranges=..." or ""
    const char* out;      // expected bytes, or nullptr: forwarded unchanged
    rewrite::Outcome outcome;
};

nat::Source source_of(std::string_view s) {
    nat::Source src;
    std::string_view host, port;
    if (s.front() == '[') {
        const auto close = s.find(']');
        host = s.substr(1, close - 1);
        port = s.substr(close + 2);
    } else {
        const auto colon = s.rfind(':');
        host = s.substr(0, colon);
        port = s.substr(colon + 1);
    }
    src.ip = *IpAddr::parse(host);
    src.port = static_cast<uint16_t>(std::stoi(std::string(port)));
    return src;
}

rewrite::Options options_of(std::string_view s) {
    rewrite::Options o;
    while (!s.empty()) {
        const auto semi = s.find(';');
        const std::string_view item = s.substr(0, semi);
        s = semi == std::string_view::npos ? std::string_view{} : s.substr(semi + 1);
        const auto eq = item.find('=');
        const std::string_view k = item.substr(0, eq), v = item.substr(eq + 1);
        std::string err;
        if (k == "tests") o.detect.tests = *nat::parse_tests(v, &err);
        if (k == "rewrite") {
            const auto mode = o.rewrite.contact_mode;
            o.rewrite = *rewrite::parse_rewrites(v, &err);
            o.rewrite.contact_mode = mode;
        }
        if (k == "mode") o.rewrite.contact_mode = *rewrite::parse_contact_mode(v);
        if (k == "ranges") o.detect.private_ranges = *PrefixSet::parse(v, &err);
    }
    return o;
}

using O = rewrite::Outcome;

// clang-format off
const std::vector<Case> kCases = {
// ---------------------------------------------------------------- basics
{"register-natted",
 "REGISTER sip:example.com SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1;rport\nFrom: <sip:alice@example.com>;tag=1\nTo: <sip:alice@example.com>\nCall-ID: a@b\nCSeq: 1 REGISTER\nContact: <sip:alice@192.168.1.10:5060;transport=udp>;expires=3600\nContent-Length: 0\n\n",
 "203.0.113.5:40000", "",
 "REGISTER sip:example.com SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1;rport=40000;received=203.0.113.5\nFrom: <sip:alice@example.com>;tag=1\nTo: <sip:alice@example.com>\nCall-ID: a@b\nCSeq: 1 REGISTER\nContact: <sip:alice@203.0.113.5:40000;transport=udp>;expires=3600\nContent-Length: 0\n\n",
 O::rewritten},
{"register-public-not-natted",
 "REGISTER sip:example.com SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;branch=z9hG4bK1;rport\nContact: <sip:alice@203.0.113.5:40000>\nContent-Length: 0\n\n",
 "203.0.113.5:40000", "", nullptr, O::not_nated},
{"rport-absent-is-added",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1\nl: 0\n\n",
 "198.51.100.1:1024", "",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1;received=198.51.100.1;rport=1024\nl: 0\n\n",
 O::rewritten},
{"via-without-params",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2\nl: 0\n\n",
 "198.51.100.1:5060", "",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2;received=198.51.100.1;rport=5060\nl: 0\n\n",
 O::rewritten},
{"stale-received-and-rport-replaced",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2:5060;received=192.0.2.99;rport=7777;branch=z9hG4bK1\nl: 0\n\n",
 "198.51.100.1:1024", "",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2:5060;received=198.51.100.1;rport=1024;branch=z9hG4bK1\nl: 0\n\n",
 O::rewritten},
{"received-without-value-is-filled",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2:5060;received;rport;branch=z9hG4bK1\nl: 0\n\n",
 "198.51.100.1:1024", "",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2:5060;received=198.51.100.1;rport=1024;branch=z9hG4bK1\nl: 0\n\n",
 O::rewritten},
{"via-already-right-contact-fixed",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2:5060;received=198.51.100.1;rport=1024;branch=z9hG4bK1\nContact: <sip:u@10.0.0.2>\nl: 0\n\n",
 "198.51.100.1:1024", "",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2:5060;received=198.51.100.1;rport=1024;branch=z9hG4bK1\nContact: <sip:u@198.51.100.1:1024>\nl: 0\n\n",
 O::rewritten},
{"malformed-untouched",
 "INVITE  sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2\nl: 0\n\n",
 "198.51.100.1:1024", "", nullptr, O::malformed},
{"keepalive-untouched", "\n\n", "198.51.100.1:1024", "", nullptr, O::malformed},
// ---------------------------------------------------------------- header forms
{"compact-forms",
 "REGISTER sip:x SIP/2.0\nv: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\nm: <sip:a@192.168.1.10:5060>\nl: 0\n\n",
 "203.0.113.5:40000", "",
 "REGISTER sip:x SIP/2.0\nv: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1;received=203.0.113.5;rport=40000\nm: <sip:a@203.0.113.5:40000>\nl: 0\n\n",
 O::rewritten},
{"mixed-case-names",
 "REGISTER sip:x SIP/2.0\nvIA: SIP/2.0/UDP 192.168.1.10:5060;BRANCH=z9hG4bK1;RPort\ncOnTaCt: <sip:a@192.168.1.10:5060>\ncontent-LENGTH: 0\n\n",
 "203.0.113.5:40000", "",
 "REGISTER sip:x SIP/2.0\nvIA: SIP/2.0/UDP 192.168.1.10:5060;BRANCH=z9hG4bK1;RPort=40000;received=203.0.113.5\ncOnTaCt: <sip:a@203.0.113.5:40000>\ncontent-LENGTH: 0\n\n",
 O::rewritten},
{"folded-via",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP\n 10.0.0.2:5060\n ;branch=z9hG4bK1\nl: 0\n\n",
 "198.51.100.1:1024", "",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP\n 10.0.0.2:5060\n ;branch=z9hG4bK1;received=198.51.100.1;rport=1024\nl: 0\n\n",
 O::rewritten},
{"two-vias-in-one-line-only-top",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1, SIP/2.0/UDP 10.0.0.3:5060;branch=z9hG4bK0\nl: 0\n\n",
 "198.51.100.1:1024", "",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1;received=198.51.100.1;rport=1024, SIP/2.0/UDP 10.0.0.3:5060;branch=z9hG4bK0\nl: 0\n\n",
 O::rewritten},
{"second-via-header-untouched",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1\nVia: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bK0\nl: 0\n\n",
 "198.51.100.1:1024", "",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1;received=198.51.100.1;rport=1024\nVia: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bK0\nl: 0\n\n",
 O::rewritten},
// ---------------------------------------------------------------- Contact
{"several-contacts-in-one-header",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;branch=z9hG4bK1\nContact: <sip:a@192.168.1.10:5060>;q=0.7, <sip:b@192.168.1.10:5062>;q=0.3\nl: 0\n\n",
 "203.0.113.5:40000", "",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;branch=z9hG4bK1;rport=40000\nContact: <sip:a@203.0.113.5:40000>;q=0.7, <sip:b@203.0.113.5:40000>;q=0.3\nl: 0\n\n",
 O::rewritten},
{"several-contact-headers",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@203.0.113.5:40000>\nContact: <sip:b@10.1.1.1>\nl: 0\n\n",
 "203.0.113.5:40000", "",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@203.0.113.5:40000>\nContact: <sip:b@203.0.113.5:40000>\nl: 0\n\n",
 O::rewritten},
{"contact-star-kept",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1\nContact: *\nExpires: 0\nl: 0\n\n",
 "203.0.113.5:40000", "",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1;received=203.0.113.5;rport=40000\nContact: *\nExpires: 0\nl: 0\n\n",
 O::rewritten},
{"quoted-display-name-kept",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: \"Bob <b>, @home: 2\" <sip:bob:secret@192.168.1.10:5060;user=phone;ob>;+sip.instance=\"<urn:uuid:1>\";reg-id=1\nl: 0\n\n",
 "203.0.113.5:40000", "",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: \"Bob <b>, @home: 2\" <sip:bob:secret@203.0.113.5:40000;user=phone;ob>;+sip.instance=\"<urn:uuid:1>\";reg-id=1\nl: 0\n\n",
 O::rewritten},
{"addr-spec-contact",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: sip:a@192.168.1.10;expires=60\nl: 0\n\n",
 "203.0.113.5:40000", "",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: sip:a@203.0.113.5:40000;expires=60\nl: 0\n\n",
 O::rewritten},
{"sips-contact-default-port-5061",
 "REGISTER sips:x SIP/2.0\nVia: SIP/2.0/TLS 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sips:a@10.0.0.9>\nl: 0\n\n",
 "203.0.113.5:40000", "",
 "REGISTER sips:x SIP/2.0\nVia: SIP/2.0/TLS 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sips:a@203.0.113.5:40000>\nl: 0\n\n",
 O::rewritten},
{"contact-maddr-dropped",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@10.0.0.9:5060;maddr=10.0.0.9;transport=udp>\nl: 0\n\n",
 "203.0.113.5:40000", "",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@203.0.113.5:40000;transport=udp>\nl: 0\n\n",
 O::rewritten},
{"contact-uri-headers-kept",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@10.0.0.9:5060;lr?Subject=hi>\nl: 0\n\n",
 "203.0.113.5:40000", "",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@203.0.113.5:40000;lr?Subject=hi>\nl: 0\n\n",
 O::rewritten},
{"contact-hostname",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@phone.lan:5060>\nl: 0\n\n",
 "203.0.113.5:40000", "",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@203.0.113.5:40000>\nl: 0\n\n",
 O::rewritten},
{"contact-tel-untouched",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1\nContact: <tel:+15551234567>\nl: 0\n\n",
 "203.0.113.5:40000", "",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1;received=203.0.113.5;rport=40000\nContact: <tel:+15551234567>\nl: 0\n\n",
 O::rewritten},
{"contact-unparsed-left-alone",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1\nContact: <sip:a@192.168.1.10>;;;\nl: 0\n\n",
 "203.0.113.5:40000", "",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1;received=203.0.113.5;rport=40000\nContact: <sip:a@192.168.1.10>;;;\nl: 0\n\n",
 O::rewritten},
{"contact-equal-to-source-no-port",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1\nContact: <sip:a@203.0.113.5>\nl: 0\n\n",
 "203.0.113.5:5060", "",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1;received=203.0.113.5;rport=5060\nContact: <sip:a@203.0.113.5>\nl: 0\n\n",
 O::rewritten},
// ---------------------------------------------------------------- alias mode
{"alias-mode",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1;rport\nContact: <sip:alice@192.168.1.10:5060;transport=udp>;expires=3600\nl: 0\n\n",
 "203.0.113.5:40000", "mode=alias",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1;rport=40000;received=203.0.113.5\nContact: <sip:alice@192.168.1.10:5060;transport=udp;alias=203.0.113.5~40000~1>;expires=3600\nl: 0\n\n",
 O::rewritten},
{"alias-mode-stale-alias-replaced",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@192.168.1.10;alias=198.51.100.9~1111~1;ob>\nl: 0\n\n",
 "203.0.113.5:40000", "mode=alias",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@192.168.1.10;alias=203.0.113.5~40000~1;ob>\nl: 0\n\n",
 O::rewritten},
{"alias-mode-addr-spec-gets-brackets",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: sip:a@192.168.1.10;expires=60\nl: 0\n\n",
 "203.0.113.5:40000", "mode=alias",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@192.168.1.10;alias=203.0.113.5~40000~1>;expires=60\nl: 0\n\n",
 O::rewritten},
{"alias-mode-before-uri-headers",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@192.168.1.10?X=1>\nl: 0\n\n",
 "203.0.113.5:40000", "mode=alias",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@192.168.1.10;alias=203.0.113.5~40000~1?X=1>\nl: 0\n\n",
 O::rewritten},
{"alias-mode-ipv6",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP [2001:db8::5]:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@[fd00::10]:5060>\nl: 0\n\n",
 "[2001:db8::5]:40000", "mode=alias",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP [2001:db8::5]:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@[fd00::10]:5060;alias=[2001:db8::5]~40000~1>\nl: 0\n\n",
 O::rewritten},
// ---------------------------------------------------------------- address classes
{"cgnat-is-private",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@100.64.7.7:5060>\nl: 0\n\n",
 "203.0.113.5:40000", "tests=contact-private",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@203.0.113.5:40000>\nl: 0\n\n",
 O::rewritten},
{"172-32-is-public",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 172.32.0.1:5060;branch=z9hG4bK1\nContact: <sip:a@172.32.0.1:5060>\nl: 0\n\n",
 "172.32.0.1:5060", "", nullptr, O::not_nated},
{"172-31-is-private",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 172.31.0.1:5060;branch=z9hG4bK1\nContact: <sip:a@172.31.0.1:5060>\nl: 0\n\n",
 "172.31.0.1:5060", "tests=contact-private,via-private;rewrite=contact",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 172.31.0.1:5060;branch=z9hG4bK1\nContact: <sip:a@172.31.0.1:5060>\nl: 0\n\n",
 O::unchanged},
{"192-0-2-is-public",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\nContact: <sip:a@192.0.2.1:5060>\nl: 0\n\n",
 "192.0.2.1:5060", "tests=all", nullptr, O::not_nated},
{"192-0-0-is-private",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@192.0.0.9:5060>\nl: 0\n\n",
 "203.0.113.5:40000", "tests=contact-private",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@203.0.113.5:40000>\nl: 0\n\n",
 O::rewritten},
{"custom-private-ranges",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK1\nl: 0\n\n",
 "198.18.0.5:5060", "tests=via-private;ranges=198.18.0.0/15",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 198.18.0.5:5060;branch=z9hG4bK1;rport=5060\nl: 0\n\n",
 O::rewritten},
{"hostname-via-mismatches",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP pbx.customer.example:5060;branch=z9hG4bK1\nl: 0\n\n",
 "203.0.113.5:5060", "",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP pbx.customer.example:5060;branch=z9hG4bK1;received=203.0.113.5;rport=5060\nl: 0\n\n",
 O::rewritten},
{"via-port-only-mismatch",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK1\nl: 0\n\n",
 "203.0.113.5:40000", "",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK1;rport=40000\nl: 0\n\n",
 O::rewritten},
{"tls-via-default-5061-matches",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/TLS 203.0.113.5;branch=z9hG4bK1\nl: 0\n\n",
 "203.0.113.5:5061", "", nullptr, O::not_nated},
{"tls-via-default-5061-vs-5060",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/TLS 203.0.113.5;branch=z9hG4bK1\nl: 0\n\n",
 "203.0.113.5:5060", "",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/TLS 203.0.113.5;branch=z9hG4bK1;rport=5060\nl: 0\n\n",
 O::rewritten},
{"source-private-test",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.9.9.9:5060;branch=z9hG4bK1\nl: 0\n\n",
 "10.9.9.9:5060", "tests=source-private;rewrite=via",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 10.9.9.9:5060;branch=z9hG4bK1;rport=5060\nl: 0\n\n",
 O::rewritten},
{"contact-port-mismatch-test",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@203.0.113.5:5060>\nl: 0\n\n",
 "203.0.113.5:40000", "tests=contact-port-mismatch",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@203.0.113.5:40000>\nl: 0\n\n",
 O::rewritten},
{"contact-port-mismatch-off-by-default",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@203.0.113.5:5060>\nl: 0\n\n",
 "203.0.113.5:40000", "", nullptr, O::not_nated},
{"nat-tests-none",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1\nContact: <sip:a@192.168.1.10>\nl: 0\n\n",
 "203.0.113.5:40000", "tests=none", nullptr, O::not_nated},
{"rewrite-none",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1\nContact: <sip:a@192.168.1.10>\nl: 0\n\n",
 "203.0.113.5:40000", "rewrite=none", nullptr, O::unchanged},
{"rewrite-via-only",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1\nContact: <sip:a@192.168.1.10>\nl: 0\n\n",
 "203.0.113.5:40000", "rewrite=via",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1;received=203.0.113.5;rport=40000\nContact: <sip:a@192.168.1.10>\nl: 0\n\n",
 O::rewritten},
{"rewrite-contact-only",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1\nContact: <sip:a@192.168.1.10>\nl: 0\n\n",
 "203.0.113.5:40000", "rewrite=contact",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1\nContact: <sip:a@203.0.113.5:40000>\nl: 0\n\n",
 O::rewritten},
// ---------------------------------------------------------------- IPv6
{"ipv6-everywhere",
 "REGISTER sip:[2001:db8::10] SIP/2.0\nVia: SIP/2.0/UDP [fd00::10]:5060;branch=z9hG4bK1;rport\nContact: <sip:a@[fd00::10]:5060>\nl: 0\n\n",
 "[2001:db8::5]:40000", "",
 "REGISTER sip:[2001:db8::10] SIP/2.0\nVia: SIP/2.0/UDP [fd00::10]:5060;branch=z9hG4bK1;rport=40000;received=2001:db8::5\nContact: <sip:a@[2001:db8::5]:40000>\nl: 0\n\n",
 O::rewritten},
{"ipv6-binary-compare",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP [2001:DB8:0:0::5]:40000;branch=z9hG4bK1\nContact: <sip:a@[2001:0db8::0005]:40000>\nl: 0\n\n",
 "[2001:db8::5]:40000", "", nullptr, O::not_nated},
{"ipv6-link-local-contact",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP [2001:db8::5]:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@[fe80::1]>\nl: 0\n\n",
 "[2001:db8::5]:40000", "",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP [2001:db8::5]:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@[2001:db8::5]:40000>\nl: 0\n\n",
 O::rewritten},
{"ipv6-via-ipv4-source",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP [fd00::10];branch=z9hG4bK1\nl: 0\n\n",
 "203.0.113.5:5060", "",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP [fd00::10];branch=z9hG4bK1;received=203.0.113.5;rport=5060\nl: 0\n\n",
 O::rewritten},
{"ipv6-received-bracketed-stale",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP [fd00::10];received=[2001:db8::9];rport=1;branch=z9hG4bK1\nl: 0\n\n",
 "[2001:db8::5]:2", "",
 "OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP [fd00::10];received=2001:db8::5;rport=2;branch=z9hG4bK1\nl: 0\n\n",
 O::rewritten},
// ---------------------------------------------------------------- responses
{"response-200-from-natted-callee",
 "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1;received=198.51.100.7\nContact: <sip:bob@192.168.1.10:5060>\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=bob 1 1 IN IP4 192.168.1.10\ns=-\nc=IN IP4 192.168.1.10\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
 "203.0.113.5:40000", "",
 "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1;received=198.51.100.7\nContact: <sip:bob@203.0.113.5:40000>\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=bob 1 1 IN IP4 203.0.113.5\ns=-\nc=IN IP4 203.0.113.5\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
 O::rewritten},
// The SDP's addresses replaced by one of the same length: the body keeps its length, and so does
// the Content-Length (no edit of it planned).
{"sdp-same-length-content-length-kept",
 "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1;received=198.51.100.7\nContact: <sip:bob@192.168.1.10:5060>\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=bob 1 1 IN IP4 192.168.1.10\ns=-\nc=IN IP4 192.168.1.10\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
 "203.0.113.50:40000", "",
 "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1;received=198.51.100.7\nContact: <sip:bob@203.0.113.50:40000>\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=bob 1 1 IN IP4 203.0.113.50\ns=-\nc=IN IP4 203.0.113.50\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
 O::rewritten},
{"content-length-zero-padding-kept",
 "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1;received=198.51.100.7\nContact: <sip:bob@192.168.1.10:5060>\nContent-Type: application/sdp\nContent-Length: 00@CL@\n\nv=0\no=bob 1 1 IN IP4 192.168.1.10\ns=-\nc=IN IP4 192.168.1.10\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
 "203.0.113.5:40000", "",
 "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1;received=198.51.100.7\nContact: <sip:bob@203.0.113.5:40000>\nContent-Type: application/sdp\nContent-Length: 00@CL@\n\nv=0\no=bob 1 1 IN IP4 203.0.113.5\ns=-\nc=IN IP4 203.0.113.5\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
 O::rewritten},
// fuzz_rewrite found this (long run, 2026-11-24): padding wider than the edit's text buffer
// used to push the digits out, leaving "000...0" and a message that no longer parsed.
{"content-length-absurd-padding-dropped-not-the-digits",
 "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1;received=198.51.100.7\nContact: <sip:bob@192.168.1.10:5060>\nContent-Type: application/sdp\nContent-Length: 00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000@CL@\n\nv=0\no=bob 1 1 IN IP4 192.168.1.10\ns=-\nc=IN IP4 192.168.1.10\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
 "203.0.113.5:40000", "",
 "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1;received=198.51.100.7\nContact: <sip:bob@203.0.113.5:40000>\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=bob 1 1 IN IP4 203.0.113.5\ns=-\nc=IN IP4 203.0.113.5\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
 O::rewritten},
// fuzz_rewrite found this (long run, 2026-11-24): with maddr twice, the rewrite dropped one and
// a second pass dropped the other. A Contact with maddr or alias twice is ambiguous: left alone.
{"contact-with-maddr-twice-left-alone",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\nContact: <sip:a@192.168.1.10;maddr=10.0.0.1;maddr=10.0.0.2>\nContent-Length: 0\n\n",
 "203.0.113.5:40000", "",
 "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1;received=203.0.113.5;rport=40000\nContact: <sip:a@192.168.1.10;maddr=10.0.0.1;maddr=10.0.0.2>\nContent-Length: 0\n\n",
 O::rewritten},
{"response-public-not-natted",
 "SIP/2.0 180 Ringing\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\nContact: <sip:bob@203.0.113.5:40000>\nl: 0\n\n",
 "203.0.113.5:40000", "", nullptr, O::not_nated},
// A 3xx's Contacts are where to try instead (RFC 3261 21.3), a 485's the alternatives
// (21.4.23): other parties' addresses, not the sender's. No test reads them and no rewrite
// touches them, in either Contact mode; a redirect rewritten to the sender's public address would
// send the call back to the party that redirected it.
{"redirect-302-contacts-are-targets",
 "SIP/2.0 302 Moved Temporarily\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1\nContact: <sip:3000@192.168.1.77:5060>, <sip:+15551230000@192.168.1.1;user=phone>;q=0.5\nContent-Length: 0\n\n",
 "203.0.113.5:40000", "", nullptr, O::not_nated},
{"redirect-300-alias-mode-contacts-are-targets",
 "SIP/2.0 300 Multiple Choices\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1\nContact: <sip:bob@10.1.1.1>\nContact: <sip:bob@10.1.1.2>\nl: 0\n\n",
 "203.0.113.5:40000", "mode=alias;tests=all", nullptr, O::not_nated},
{"ambiguous-485-contacts-are-alternatives",
 "SIP/2.0 485 Ambiguous\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1\nContact: <sip:carol.a@192.168.1.20>, <sip:carol.b@192.168.1.21>\nContent-Length: 0\n\n",
 "203.0.113.5:40000", "", nullptr, O::not_nated},
{"redirect-with-private-sdp-rewrites-only-sdp",
 "SIP/2.0 302 Moved Temporarily\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1\nContact: <sip:3000@192.168.1.77:5060>\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=bob 1 1 IN IP4 192.168.1.10\ns=-\nc=IN IP4 192.168.1.10\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
 "203.0.113.5:40000", "tests=sdp-private",
 "SIP/2.0 302 Moved Temporarily\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1\nContact: <sip:3000@192.168.1.77:5060>\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=bob 1 1 IN IP4 203.0.113.5\ns=-\nc=IN IP4 203.0.113.5\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
 O::rewritten},
{"response-486-contact-is-the-senders",
 "SIP/2.0 486 Busy Here\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1\nContact: <sip:bob@192.168.1.10:5060>\nContent-Length: 0\n\n",
 "203.0.113.5:40000", "",
 "SIP/2.0 486 Busy Here\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1\nContact: <sip:bob@203.0.113.5:40000>\nContent-Length: 0\n\n",
 O::rewritten},
{"response-399-is-a-redirect",
 "SIP/2.0 399 Odd Redirect\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1\nContact: <sip:x@192.168.1.10>\nl: 0\n\n",
 "203.0.113.5:40000", "", nullptr, O::not_nated},
{"response-299-contact-is-the-senders",
 "SIP/2.0 299 Odd Success\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1\nContact: <sip:x@192.168.1.10>\nl: 0\n\n",
 "203.0.113.5:40000", "",
 "SIP/2.0 299 Odd Success\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1\nContact: <sip:x@203.0.113.5:40000>\nl: 0\n\n",
 O::rewritten},
{"response-400-contact-is-the-senders",
 "SIP/2.0 400 Bad Request\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1\nContact: <sip:x@192.168.1.10>\nl: 0\n\n",
 "203.0.113.5:40000", "",
 "SIP/2.0 400 Bad Request\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1\nContact: <sip:x@203.0.113.5:40000>\nl: 0\n\n",
 O::rewritten},
// ---------------------------------------------------------------- SDP
{"invite-sdp-all-addresses",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\nContact: <sip:a@192.168.1.10:5060>\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=alice 2890844526 2890844526 IN IP4 192.168.1.10\ns=-\nc=IN IP4 192.168.1.10\nt=0 0\nm=audio 49170 RTP/AVP 0\na=rtcp:49171 IN IP4 192.168.1.10\n",
 "203.0.113.5:40000", "",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1;received=203.0.113.5;rport=40000\nContact: <sip:a@203.0.113.5:40000>\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=alice 2890844526 2890844526 IN IP4 203.0.113.5\ns=-\nc=IN IP4 203.0.113.5\nt=0 0\nm=audio 49170 RTP/AVP 0\na=rtcp:49171 IN IP4 203.0.113.5\n",
 O::rewritten},
{"sdp-grows-the-message",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 IN IP4 10.0.0.1\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\n",
 "198.51.100.123:65000", "",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=198.51.100.123;rport=65000\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 IN IP4 198.51.100.123\nc=IN IP4 198.51.100.123\nm=audio 4000 RTP/AVP 0\n",
 O::rewritten},
{"sdp-grows-both-equal-content-lengths",  // RFC 3261 allows repeats that agree; each is rewritten
 "INVITE sip:b@x SIP/2.0\nl: @CL@\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\nX-A: 1\nContent-Type: application/sdp\nX-B: 2\nContent-Length: @CL@\nX-C: 3\n\nv=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\n",
 "198.51.100.123:65000", "",
 "INVITE sip:b@x SIP/2.0\nl: @CL@\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=198.51.100.123;rport=65000\nX-A: 1\nContent-Type: application/sdp\nX-B: 2\nContent-Length: @CL@\nX-C: 3\n\nv=0\nc=IN IP4 198.51.100.123\nm=audio 4000 RTP/AVP 0\n",
 O::rewritten},
{"sdp-shrinks-the-message",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 192.168.100.200:5060;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 IN IP4 192.168.100.200\nc=IN IP4 192.168.100.200\nm=audio 4000 RTP/AVP 0\n",
 "1.2.3.4:5", "",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 192.168.100.200:5060;branch=z9hG4bK1;received=1.2.3.4;rport=5\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 IN IP4 1.2.3.4\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 0\n",
 O::rewritten},
{"sdp-hold-kept-media-level-c",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@192.168.1.10>\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 2 IN IP4 192.168.1.10\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 4000 RTP/AVP 0\nm=video 4002 RTP/AVP 31\nc=IN IP4 192.168.1.10\n",
 "203.0.113.5:40000", "",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContact: <sip:a@203.0.113.5:40000>\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 2 IN IP4 203.0.113.5\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 4000 RTP/AVP 0\nm=video 4002 RTP/AVP 31\nc=IN IP4 203.0.113.5\n",
 O::rewritten},
{"sdp-rtcp-port-only-kept",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\na=rtcp:4001\n",
 "203.0.113.5:40000", "tests=sdp-private",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\nc=IN IP4 203.0.113.5\nm=audio 4000 RTP/AVP 0\na=rtcp:4001\n",
 O::rewritten},
{"sdp-family-changes",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 IN IP6 fd00::10\nc=IN IP6 fd00::10\nm=audio 4000 RTP/AVP 0\n",
 "203.0.113.5:40000", "tests=sdp-private",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 IN IP4 203.0.113.5\nc=IN IP4 203.0.113.5\nm=audio 4000 RTP/AVP 0\n",
 O::rewritten},
{"sdp-ipv6-source",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP [2001:db8::5]:40000;rport=40000;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 IN IP4 192.168.1.10\nc=IN IP4 192.168.1.10\nm=audio 4000 RTP/AVP 0\n",
 "[2001:db8::5]:40000", "tests=sdp-private",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP [2001:db8::5]:40000;rport=40000;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 IN IP6 2001:db8::5\nc=IN IP6 2001:db8::5\nm=audio 4000 RTP/AVP 0\n",
 O::rewritten},
{"sdp-source-mismatch-test",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\nc=IN IP4 198.51.100.50\nm=audio 4000 RTP/AVP 0\n",
 "203.0.113.5:40000", "tests=sdp-source-mismatch",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\nc=IN IP4 203.0.113.5\nm=audio 4000 RTP/AVP 0\n",
 O::rewritten},
{"sdp-hold-only-does-not-fire",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:40000;rport=40000;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\nc=IN IP4 0.0.0.0\nm=audio 4000 RTP/AVP 0\n",
 "203.0.113.5:40000", "tests=sdp-source-mismatch,sdp-private", nullptr, O::not_nated},
{"sdp-multicast-kept",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 IN IP4 10.0.0.1\nc=IN IP4 224.2.1.1/127\nm=audio 4000 RTP/AVP 0\n",
 "203.0.113.5:5060", "",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=203.0.113.5;rport=5060\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 IN IP4 203.0.113.5\nc=IN IP4 224.2.1.1/127\nm=audio 4000 RTP/AVP 0\n",
 O::rewritten},
{"sdp-hostname-in-origin",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 IN IP4 host.lan\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\n",
 "203.0.113.5:5060", "",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=203.0.113.5;rport=5060\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 IN IP4 203.0.113.5\nc=IN IP4 203.0.113.5\nm=audio 4000 RTP/AVP 0\n",
 O::rewritten},
{"sdp-addrtype-in-lower-case-kept",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 in ip4 10.0.0.1\nc=IN Ip4 10.0.0.1\nm=audio 4000 RTP/AVP 0\n",
 "203.0.113.5:5060", "",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=203.0.113.5;rport=5060\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 in ip4 203.0.113.5\nc=IN Ip4 203.0.113.5\nm=audio 4000 RTP/AVP 0\n",
 O::rewritten},
{"sdp-hostname-of-the-other-family-gets-ours",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 IN ip6 host.lan\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\n",
 "203.0.113.5:5060", "",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=203.0.113.5;rport=5060\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 IN IP4 203.0.113.5\nc=IN IP4 203.0.113.5\nm=audio 4000 RTP/AVP 0\n",
 O::rewritten},
{"sdp-addrtype-of-another-length-gets-ours",  // Content-Length counts the addrtype's shrinking too
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 IN IPV4 10.0.0.1\nc=IN IPV4 10.0.0.1\nm=audio 4000 RTP/AVP 0\n",
 "203.0.113.5:5060", "",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=203.0.113.5;rport=5060\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\no=- 1 1 IN IP4 203.0.113.5\nc=IN IP4 203.0.113.5\nm=audio 4000 RTP/AVP 0\n",
 O::rewritten},
{"sdp-rewrite-off",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\nc=IN IP4 10.0.0.1\n",
 "203.0.113.5:5060", "rewrite=via,contact",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=203.0.113.5;rport=5060\nContent-Type: application/sdp\nContent-Length: @CL@\n\nv=0\nc=IN IP4 10.0.0.1\n",
 O::rewritten},
// ---------------------------------------------------------------- Content-Length
{"content-length-missing-stays-missing",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\nContent-Type: application/sdp\n\nv=0\nc=IN IP4 10.0.0.1\n",
 "203.0.113.55:5060", "",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=203.0.113.55;rport=5060\nContent-Type: application/sdp\n\nv=0\nc=IN IP4 203.0.113.55\n",
 O::rewritten},
{"content-length-spaced",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length :   24  \n\nv=0\nc=IN IP4 10.0.0.1\n",
 "203.0.113.5:5060", "tests=sdp-private",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK1;rport=5060\nContent-Type: application/sdp\nContent-Length :   27  \n\nv=0\nc=IN IP4 203.0.113.5\n",
 O::rewritten},
{"content-length-leading-zeros-kept",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK1\nc: application/sdp\nl: 0024\n\nv=0\nc=IN IP4 10.0.0.1\n",
 "203.0.113.5:5060", "tests=sdp-private",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK1;rport=5060\nc: application/sdp\nl: 0027\n\nv=0\nc=IN IP4 203.0.113.5\n",
 O::rewritten},
{"content-length-grows-a-digit",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK1\nc: application/sdp\nl: 98\n\nv=0\nc=IN IP4 10.0.0.1\na=x:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
 "203.0.113.5:5060", "tests=sdp-private",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK1;rport=5060\nc: application/sdp\nl: 101\n\nv=0\nc=IN IP4 203.0.113.5\na=x:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
 O::rewritten},
{"trailing-bytes-after-body-kept",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK1\nc: application/sdp\nl: 24\n\nv=0\nc=IN IP4 10.0.0.1\nJUNK",
 "203.0.113.5:5060", "tests=sdp-private",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK1;rport=5060\nc: application/sdp\nl: 27\n\nv=0\nc=IN IP4 203.0.113.5\nJUNK",
 O::rewritten},
// ---------------------------------------------------------------- multipart
{"multipart-sdp-and-binary",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\nContent-Type: multipart/mixed;boundary=b1\nContent-Length: @CL@\n\n--b1\nContent-Type: application/sdp\n\nv=0\nc=IN IP4 192.168.1.10\n--b1\nContent-Type: application/octet-stream\n\n\x01\x02\r\x7f\xff c=IN IP4 10.0.0.1\n--b1--\n",
 "203.0.113.5:40000", "",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1;received=203.0.113.5;rport=40000\nContent-Type: multipart/mixed;boundary=b1\nContent-Length: @CL@\n\n--b1\nContent-Type: application/sdp\n\nv=0\nc=IN IP4 203.0.113.5\n--b1\nContent-Type: application/octet-stream\n\n\x01\x02\r\x7f\xff c=IN IP4 10.0.0.1\n--b1--\n",
 O::rewritten},
{"gzip-body-untouched",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Encoding: gzip\nContent-Length: @CL@\n\nc=IN IP4 192.168.1.10\n",
 "203.0.113.5:40000", "",
 "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1;received=203.0.113.5;rport=40000\nContent-Type: application/sdp\nContent-Encoding: gzip\nContent-Length: @CL@\n\nc=IN IP4 192.168.1.10\n",
 O::rewritten},
};
// clang-format on

class Golden : public ::testing::TestWithParam<Case> {};

std::string run(rewrite::Processor& p, const std::string& in, const nat::Source& src, rewrite::Result& r) {
    std::string buf = in;
    buf.resize(in.size() + 1024);
    r = p.process(buf.data(), static_cast<uint32_t>(in.size()), static_cast<uint32_t>(buf.size()), src);
    buf.resize(r.size);
    return buf;
}

}  // namespace

TEST_P(Golden, ExactBytes) {
    const Case& c = GetParam();
    const std::string in = fill_cl(crlf(c.in));
    const nat::Source src = source_of(c.source);
    rewrite::Processor proc(options_of(c.options));
    rewrite::Result r;
    const std::string out = run(proc, in, src, r);
    EXPECT_EQ(static_cast<int>(r.outcome), static_cast<int>(c.outcome)) << "tests fired: " << nat::tests_to_string(r.verdict.fired);
    if (c.out) {
        EXPECT_EQ(out, fill_cl(crlf(c.out)));
    } else if (c.outcome != rewrite::Outcome::rewritten) {
        EXPECT_EQ(out, in) << "must be forwarded byte-identical";
    }
    // Idempotence: the output through again changes nothing.
    rewrite::Result r2;
    const std::string again = run(proc, out, src, r2);
    EXPECT_EQ(again, out) << "second pass changed the message";
    EXPECT_NE(static_cast<int>(r2.outcome), static_cast<int>(rewrite::Outcome::rewritten));
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::ValuesIn(kCases), [](const auto& param_info) {
    std::string n = param_info.param.name;
    for (char& ch : n)
        if (ch == '-') ch = '_';
    return n;
});

TEST(Golden, AtLeastSixtyCases) { EXPECT_GE(kCases.size(), 60u); }

// MessageParts holds kMaxContacts Contact values. A message with more (in one header, or over
// several) has values farend did not read: it rewrites none of them rather than some, and says so
// (Summary::contacts_skipped, counted as contacts_skipped). Exactly kMaxContacts, with nothing
// but white space after the last, are all read and all rewritten.
namespace {

std::string register_with_contacts(const std::vector<std::string>& headers) {
    std::string m = "REGISTER sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\n";
    for (const std::string& h : headers) m += "Contact: " + h + "\n";
    m += "Content-Length: 0\n\n";
    return crlf(m);
}

std::string contact_list(std::size_t from, std::size_t to, const char* host) {
    std::string s;
    for (std::size_t i = from; i < to; ++i) {
        if (!s.empty()) s += ", ";
        s += "<sip:u" + std::to_string(i) + "@" + host + ">";
    }
    return s;
}

// The Via's received and rport, as every case here adds them.
std::string with_via_params(std::string m) {
    return m.insert(m.find("\r\nContact"), ";received=203.0.113.5;rport=40000");
}

struct ContactsRun {
    std::string out;
    rewrite::Result r;
};

ContactsRun run_contacts(const std::vector<std::string>& headers) {
    rewrite::Processor proc(rewrite::Options{});
    ContactsRun c;
    c.out = run(proc, register_with_contacts(headers), source_of("203.0.113.5:40000"), c.r);
    return c;
}

constexpr std::size_t kMax = sip::MessageParts::kMaxContacts;

}  // namespace

TEST(GoldenContacts, AllOfTheMostThatFitAreRewritten) {
    // One header of kMax values, then white space at the line's end (trimmed from the value), or
    // empty list elements (tolerated, as they are before the last value).
    for (const std::string tail : {"", " ", ",", " , ,"}) {
        const ContactsRun c = run_contacts({contact_list(0, kMax, "192.168.1.10:5060") + tail});
        EXPECT_EQ(static_cast<int>(c.r.outcome), static_cast<int>(rewrite::Outcome::rewritten));
        EXPECT_FALSE(c.r.summary.contacts_skipped);
        EXPECT_EQ(c.r.summary.contacts, kMax);
        EXPECT_EQ(c.out, with_via_params(register_with_contacts({contact_list(0, kMax, "203.0.113.5:40000") + tail})));
    }
}

TEST(GoldenContacts, OneMoreInTheHeaderLeavesThemAll) {
    const ContactsRun c = run_contacts({contact_list(0, kMax + 1, "192.168.1.10:5060")});
    EXPECT_EQ(static_cast<int>(c.r.outcome), static_cast<int>(rewrite::Outcome::rewritten));  // the Via still
    EXPECT_TRUE(c.r.summary.contacts_skipped);
    EXPECT_EQ(c.r.summary.contacts, 0);
    EXPECT_EQ(c.r.summary.via_params, 2);
    EXPECT_EQ(c.out, with_via_params(register_with_contacts({contact_list(0, kMax + 1, "192.168.1.10:5060")})));
}

TEST(GoldenContacts, OneMoreInAnotherHeaderLeavesThemAll) {
    // kMax values in a first header fill the parts; the next header has no room at all.
    const std::vector<std::string> headers{contact_list(0, kMax, "192.168.1.10:5060"),
                                           contact_list(kMax, kMax + 1, "192.168.1.10:5060")};
    const ContactsRun c = run_contacts(headers);
    EXPECT_TRUE(c.r.summary.contacts_skipped);
    EXPECT_EQ(c.r.summary.contacts, 0);
    EXPECT_EQ(c.out, with_via_params(register_with_contacts(headers)));
}

TEST(GoldenContacts, UnparsedContactLeavesThemAll) {
    // One value that does not parse (LWS inside the brackets, RFC 4475 3.1.2.14): the others stay
    // too, and the summary says why nothing of the header changed.
    const ContactsRun c = run_contacts({"<sip:a@192.168.1.10:5060>, <sip:b@192.168.1.10 :5060>"});
    EXPECT_TRUE(c.r.summary.contacts_skipped);
    EXPECT_EQ(c.r.summary.contacts, 0);
    EXPECT_EQ(c.out, with_via_params(register_with_contacts({"<sip:a@192.168.1.10:5060>, <sip:b@192.168.1.10 :5060>"})));
}

// SDP: every address or none. An SDP with more addresses than sip::Sdp's table holds is read on
// and every address rewritten. Bodies farend could not read whole (more than SdpBodies holds, a
// multipart body that did not split or nests too deep, an encoded body) are left as they came,
// with Content-Length, while the Via and Contact are still rewritten; Summary::sdp_skipped says
// so (counted as sdp_skipped).
namespace {

constexpr const char* kSdpHead =
    "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\nContact: <sip:a@192.168.1.10:5060>\n";

// An INVITE with this Content-Type and body (CRLF line ends), Content-Length filled in.
std::string invite_with(const std::string& type, const std::string& body) {
    return crlf(std::string(kSdpHead) + "Content-Type: " + type + "\nContent-Length: " + std::to_string(crlf(body).size()) +
                "\n\n" + body);
}

// An SDP body with `addresses` addresses: o=, then c= lines (a media section every second one).
std::string sdp_with(std::size_t addresses, const char* ip = "192.168.1.10") {
    std::string s = std::string("v=0\no=a 1 1 IN IP4 ") + ip + "\ns=-\nt=0 0\n";
    for (std::size_t i = 1; i < addresses; ++i) {
        if (i % 2 == 1) s += "m=audio " + std::to_string(40000 + 2 * i) + " RTP/AVP 0\n";
        s += std::string("c=IN IP4 ") + ip + "\n";
    }
    return s;
}

std::string multipart_of(const std::vector<std::string>& sdps, bool closed = true) {
    std::string s;
    for (const std::string& sdp : sdps) s += "--b1\nContent-Type: application/sdp\n\n" + sdp;
    return s + (closed ? "--b1--\n" : "");
}

struct SdpRun {
    std::string in, out;
    rewrite::Result r;
};

SdpRun run_sdp(const std::string& in) {
    rewrite::Processor proc(rewrite::Options{});
    SdpRun c;
    c.in = in;
    c.out = run(proc, in, source_of("203.0.113.5:40000"), c.r);
    return c;
}

// What a run that leaves the SDP alone gives: the Via's parameters and the Contact's host:port,
// nothing past the headers.
std::string headers_only_rewritten(std::string m) {
    m.insert(m.find("\r\nContact"), ";received=203.0.113.5;rport=40000");
    const std::string from = "<sip:a@192.168.1.10:5060>";
    return m.replace(m.find(from), from.size(), "<sip:a@203.0.113.5:40000>");
}

void expect_skipped(const SdpRun& c, const std::string& what) {
    EXPECT_EQ(static_cast<int>(c.r.outcome), static_cast<int>(rewrite::Outcome::rewritten)) << what;
    EXPECT_TRUE(c.r.summary.sdp_skipped) << what;
    EXPECT_EQ(c.r.summary.sdp_addresses, 0) << what;
    EXPECT_EQ(c.r.summary.content_lengths, 0) << what;
    EXPECT_EQ(c.out, headers_only_rewritten(c.in)) << what;
}

}  // namespace

TEST(GoldenSdp, EveryAddressIsRewrittenHoweverMany) {
    // The table's size, one more, twice and a half over (three tables' reads), and one address a
    // table's worth past the last one kept, alone in its table.
    const std::size_t t = sip::Sdp::kMaxAddrs;
    for (const std::size_t n : {t, t + 1, 2 * t + t / 2, 2 * t + 1, 300ul}) {
        const SdpRun c = run_sdp(invite_with("application/sdp", sdp_with(n)));
        EXPECT_FALSE(c.r.summary.sdp_skipped) << n;
        EXPECT_EQ(c.r.summary.sdp_addresses, n);
        EXPECT_EQ(c.out, headers_only_rewritten(invite_with("application/sdp", sdp_with(n, "203.0.113.5")))) << n;
    }
    // In multipart parts, each read on from its own table, not past its part.
    const std::string type = "multipart/mixed;boundary=b1";
    const SdpRun c = run_sdp(invite_with(type, multipart_of({sdp_with(t + 5), sdp_with(3), sdp_with(2 * t)})));
    EXPECT_EQ(c.r.summary.sdp_addresses, t + 5 + 3 + 2 * t);
    EXPECT_EQ(c.out, headers_only_rewritten(invite_with(
                         type, multipart_of({sdp_with(t + 5, "203.0.113.5"), sdp_with(3, "203.0.113.5"), sdp_with(2 * t, "203.0.113.5")}))));
}

TEST(GoldenSdp, MoreMediaLinesThanHeldStillRewriteEveryAddress) {
    // 20 m= lines (more than sip::Sdp keeps) with one c= each: 21 addresses, all read.
    static_assert(20 > sip::Sdp::kMaxMedia && 21 <= sip::Sdp::kMaxAddrs);
    std::string body = "v=0\no=a 1 1 IN IP4 192.168.1.10\ns=-\nt=0 0\n";
    for (int i = 0; i < 20; ++i) body += "m=audio " + std::to_string(40000 + 2 * i) + " RTP/AVP 0\nc=IN IP4 192.168.1.10\n";
    const SdpRun c = run_sdp(invite_with("application/sdp", body));
    EXPECT_FALSE(c.r.summary.sdp_skipped);
    EXPECT_EQ(c.r.summary.sdp_addresses, 21);
    std::string want = body;
    for (std::size_t p; (p = want.find("192.168.1.10")) != std::string::npos;) want.replace(p, 12, "203.0.113.5");
    EXPECT_EQ(c.out, headers_only_rewritten(invite_with("application/sdp", want)));
}

TEST(GoldenSdp, MultipartBodiesAllOrNone) {
    const std::string type = "multipart/mixed;boundary=b1";
    const std::size_t most = sip::SdpBodies::kMax;
    const std::vector<std::string> fit(most, sdp_with(2));
    const SdpRun c = run_sdp(invite_with(type, multipart_of(fit)));
    EXPECT_FALSE(c.r.summary.sdp_skipped);
    EXPECT_EQ(c.r.summary.sdp_addresses, 2 * most);
    EXPECT_EQ(c.out, headers_only_rewritten(invite_with(type, multipart_of(std::vector<std::string>(most, sdp_with(2, "203.0.113.5"))))));

    expect_skipped(run_sdp(invite_with(type, multipart_of(std::vector<std::string>(most + 1, sdp_with(2))))), "9 SDP bodies");
    // No close delimiter: the last part is not a part, and may be the SDP that matters.
    expect_skipped(run_sdp(invite_with(type, multipart_of({sdp_with(2), sdp_with(2)}, false))), "no close delimiter");
    // Multiparts in one another: farend follows three (the SDP inside the third is rewritten),
    // not four.
    for (const int levels : {3, 4}) {
        std::string body = "--b0\nContent-Type: application/sdp\n\n" + sdp_with(2) + "--b0--\n";
        for (int k = 1; k < levels; ++k)
            body = "--b" + std::to_string(k) + "\nContent-Type: multipart/mixed;boundary=b" + std::to_string(k - 1) + "\n\n" +
                   body + "--b" + std::to_string(k) + "--\n";
        const std::string nested_type = "multipart/mixed;boundary=b" + std::to_string(levels - 1);
        const SdpRun n = run_sdp(invite_with(nested_type, body));
        if (levels == 4) {
            expect_skipped(n, "four multiparts deep");
        } else {
            EXPECT_FALSE(n.r.summary.sdp_skipped);
            std::string want = body;
            for (std::size_t p; (p = want.find("192.168.1.10")) != std::string::npos;) want.replace(p, 12, "203.0.113.5");
            EXPECT_EQ(n.out, headers_only_rewritten(invite_with(nested_type, want)));
        }
    }
}

TEST(GoldenSdp, EncodedBodyIsLeftAloneAndSaidSo) {
    expect_skipped(run_sdp(crlf(std::string(kSdpHead) + "Content-Type: application/sdp\nContent-Encoding: gzip\nContent-Length: " +
                                std::to_string(crlf(sdp_with(2)).size()) + "\n\n" + sdp_with(2))),
                   "gzip");
}
