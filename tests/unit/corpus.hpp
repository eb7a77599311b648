// Test material: the messages in tests/corpus and ../shared/corpus, and the UDP SIP payloads of
// the captures in ../shared/corpus/pcap.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace farend::test {

struct Sample {
    std::string name;  // "rfc4475/wsinv.dat", "pcap/sngrep_aaa.pcap#12"
    std::string bytes;
    // captures only: where the datagram came from and went to
    std::string src_ip, dst_ip;
    uint16_t src_port = 0, dst_port = 0;
};

std::string tests_dir();   // $FAREND_TESTS (tests/ of the source tree)
std::string shared_dir();  // $FAREND_SHARED (../shared)
std::string read_file(const std::string& path);

std::vector<Sample> rfc4475();
std::vector<Sample> rfc5118();           // wire form (CRLF)
std::vector<Sample> kamailio_messages(); // ../shared/corpus/kamailio-test-sip/*.sip
std::vector<Sample> pcap_sip_payloads(); // UDP payloads to or from port 5060-5061, or starting like SIP
// All of the above.
std::vector<Sample> everything();

}  // namespace farend::test
