// picohttpparser's test: every prefix of every corpus message is placed so that its last byte
// is the last byte before a PROT_NONE page, then scanned and parsed with every SIMD kernel.
// Any read past the end of the message faults and fails the test.
#include "corpus.hpp"
#include "sip_helpers.hpp"
#include "walk.hpp"

#include <farend/base/bytes.hpp>
#include <farend/net/checksum.hpp>
#include <farend/sip/message.hpp>
#include <farend/sip/sdp.hpp>

#include <gtest/gtest.h>

#include <random>
#include <vector>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

using namespace farend;

namespace {

class GuardedBuffer {
public:
    explicit GuardedBuffer(size_t capacity) {
        page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
        data_pages_ = (capacity + page_ - 1) / page_;
        size_ = (data_pages_ + 1) * page_;
        void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
        base_ = static_cast<char*>(p);
        if (mprotect(base_ + data_pages_ * page_, page_, PROT_NONE) != 0) throw std::runtime_error("mprotect failed");
    }
    ~GuardedBuffer() { munmap(base_, size_); }
    GuardedBuffer(const GuardedBuffer&) = delete;
    GuardedBuffer& operator=(const GuardedBuffer&) = delete;

    // Copies bytes so that they end right at the guard page.
    std::string_view place(std::string_view bytes) {
        char* end = base_ + data_pages_ * page_;
        char* start = end - bytes.size();
        std::memcpy(start, bytes.data(), bytes.size());
        return {start, bytes.size()};
    }

private:
    char* base_ = nullptr;
    size_t page_ = 0, data_pages_ = 0, size_ = 0;
};

void run_prefixes(const std::vector<test::Sample>& samples, size_t max_prefixes_per_sample) {
    GuardedBuffer guard(sip::kMaxMessage + 1);
    for (const simd::Kernel* k : simd::supported()) {
        sip::MessageParser parser(*k);
        uint64_t sum = 0, runs = 0;
        for (const auto& s : samples) {
            const size_t n = s.bytes.size();
            const size_t step = n > max_prefixes_per_sample ? n / max_prefixes_per_sample : 1;
            for (size_t len = n;; len = len > step ? len - step : 0) {
                const std::string_view placed = guard.place(std::string_view(s.bytes).substr(0, len));
                // Every other parse sums the datagram in the scan's pass (the UDP checksum's share).
                uint64_t words = 0;
                const auto& idx = parser.parse(placed, sip::kAllHeaders, runs % 2 ? &words : nullptr);
                if (runs % 2) {
                    ASSERT_EQ(net::fold(words), net::ones_sum(reinterpret_cast<const uint8_t*>(placed.data()), len))
                        << k->name << " len " << len;
                }
                sum += test::walk_all(placed, parser.mask_view(), idx);
                ++runs;
                if (len == 0) break;
            }
        }
        std::printf("  %-7s %llu parses, checksum %llu\n", k->name, static_cast<unsigned long long>(runs),
                    static_cast<unsigned long long>(sum));
    }
}

// Everything an index says, as text: two indexes of one datagram compare equal when these do.
// describe_kept() of every header, and what it leaves out because an index keeping fewer headers
// differs there: the counts, the start line's parsed fields, the first/last tables as stored.
std::string index_text(const sip::MessageIndex& x) {
    std::string t = test::describe_kept(x, sip::kAllHeaders);
    const auto put = [&t](uint64_t v) { t += std::to_string(v) + ' '; };
    put(x.kept), put(x.header_count), put(x.start.is_request), put(static_cast<uint64_t>(x.start.method_id));
    put(x.start.reason.off), put(x.start.reason.len), put(static_cast<uint64_t>(x.content_length.header + 1));
    for (std::size_t id = 0; id < sip::kHeaderIdCount; ++id) {
        put(static_cast<uint64_t>(x.first[id] + 1));
        if (x.first[id] >= 0) put(static_cast<uint64_t>(x.last[id]));
    }
    return t;
}

// The header index with kPaddedSlack readable bytes past the datagram's end (the dataplane's
// buffers) loads every line's first 16 bytes without testing its place: what lies there, a colon
// and a known name's letters too, must change nothing. Every prefix of the samples is indexed at
// the guard page without slack, then followed by each of several paddings with slack, keeping
// every header and only the rewriter's few; the two indexes must say the same.
void run_padded(const std::vector<test::Sample>& samples, size_t max_prefixes_per_sample) {
    GuardedBuffer guard(sip::kMaxMessage + 1);
    const std::string pads[] = {
        std::string(16, ':'), "Via: x\r\nVia:1.2:", "ia: SIP/2.0/UDP ", "Content-Length:0",
        std::string(16, '\0'), "\r\n\r\n:\r\n:\r\n:\r\n:\r\n", "v:m:l:c:i:f:t:::",
    };
    const sip::HeaderSet keeps[] = {sip::kAllHeaders,
                                    sip::header_set({sip::HeaderId::via, sip::HeaderId::contact,
                                                     sip::HeaderId::content_type})};
    sip::MessageParser parser;
    std::string padded;
    uint64_t runs = 0;
    for (const auto& s : samples) {
        const size_t n = s.bytes.size();
        const size_t step = n > max_prefixes_per_sample ? n / max_prefixes_per_sample : 1;
        for (size_t len = n;; len = len > step ? len - step : 0) {
            const std::string_view bytes = std::string_view(s.bytes).substr(0, len);
            for (const sip::HeaderSet keep : keeps) {
                const std::string want = index_text(parser.parse(guard.place(bytes), keep));
                for (const std::string& pad : pads) {
                    ASSERT_EQ(pad.size(), sip::kPaddedSlack);
                    padded.assign(bytes);
                    padded += pad;
                    ASSERT_EQ(index_text(parser.parse(std::string_view(padded).substr(0, len), keep, nullptr,
                                                      sip::kPaddedSlack)),
                              want)
                        << s.name << " len " << len << " pad " << &pad - pads;
                    ++runs;
                }
            }
            if (len == 0) break;
        }
    }
    std::printf("  %llu padded parses\n", static_cast<unsigned long long>(runs));
    EXPECT_GT(runs, 0u);
}

}  // namespace

// find_byte and same_bytes at every size up to 80 bytes ending at the guard page, every range
// inside, against a byte loop: their 16-byte loads and 8-byte words must stay inside the buffer.
TEST(GuardPage, ByteHelpers) {
    GuardedBuffer guard(4096);
    for (uint32_t size = 0; size <= 80; ++size) {
        std::string bytes(size, 'x');
        for (uint32_t i = 0; i < size; i += 7) bytes[i] = '@';
        const std::string_view b = guard.place(bytes);
        for (uint32_t from = 0; from <= size; ++from)
            for (uint32_t to = from; to <= size; ++to) {
                uint32_t want = to;
                for (uint32_t i = from; i < to; ++i)
                    if (b[i] == '@') {
                        want = i;
                        break;
                    }
                ASSERT_EQ(find_byte(b.data(), size, from, to, '@'), want) << size << " " << from << " " << to;
                ASSERT_EQ((find_any<'@'>(b.data(), size, from, to)), want) << size << " " << from << " " << to;
                ASSERT_EQ((find_any<';', '@', '>'>(b.data(), size, from, to)), want) << size << " " << from << " " << to;
            }
        for (uint32_t n = 0; n <= size; ++n) {
            ASSERT_TRUE(same_bytes(b.data() + size - n, bytes.data() + size - n, n));
            if (n) {
                std::string other = bytes.substr(size - n);
                other[n / 2] ^= 1;  // one byte differs, anywhere
                ASSERT_FALSE(same_bytes(b.data() + size - n, other.data(), n)) << n;
            }
        }
    }
}

// space_bits at every offset of buffers of 1-150 bytes ending at the guard page, for 1 to 64 bytes
// asked, against a byte loop: its 32- or 64-byte window (the buffer's last 64 bytes near the end,
// a copy under 64) must stay inside the buffer and give the spaces and the tabs, bit i for p + i.
TEST(GuardPage, WhiteSpaceBits) {
    GuardedBuffer guard(4096);
    std::mt19937 rng(40);
    const std::string alphabet = " \t\r\nx\x01\x80\xa0\x89";  // the tab's and the space's low nibbles, high bits
    for (uint32_t size = 1; size <= 150; ++size) {
        std::string bytes(size, 'x');
        for (char& c : bytes) c = alphabet[rng() % alphabet.size()];
        const std::string_view b = guard.place(bytes);
        for (uint32_t p = 0; p < size; ++p) {
            uint64_t want_spaces = 0, want_tabs = 0;
            for (uint32_t i = 0; i < 64 && p + i < size; ++i) {
                if (bytes[p + i] == ' ') want_spaces |= uint64_t{1} << i;
                if (bytes[p + i] == '\t') want_tabs |= uint64_t{1} << i;
            }
            for (const uint32_t n : {1u, 20u, 32u, 33u, 64u}) {
                const uint64_t low = n == 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;  // the bits asked for
                uint64_t tabs = ~uint64_t{0};
                ASSERT_EQ(space_bits(b.data(), size, p, n, tabs) & low, want_spaces & low) << size << " " << p << " " << n;
                ASSERT_EQ(tabs & low, want_tabs & low) << size << " " << p << " " << n;
            }
        }
    }
}

// copy_bytes and move_bytes at every size up to 100 bytes: the source ends at the guard page (no
// read past it), the destination sits between canary bytes (no write outside [d, d + n)), and
// every byte lands.
TEST(GuardPage, CopyAndMoveBytes) {
    GuardedBuffer guard(4096);
    for (uint32_t n = 0; n <= 100; ++n) {
        std::string bytes(n, '\0');
        for (uint32_t i = 0; i < n; ++i) bytes[i] = static_cast<char>('A' + i % 26);
        const std::string_view src = guard.place(bytes);
        for (const auto copy : {&copy_bytes, &move_bytes}) {
            for (uint32_t at = 0; at < 16; ++at) {
                std::string dst(at + n + 32, '#');
                copy(dst.data() + at, src.data(), n);
                ASSERT_EQ(dst.substr(0, at), std::string(at, '#')) << n << " at " << at;
                ASSERT_EQ(dst.substr(at, n), bytes) << n << " at " << at;
                ASSERT_EQ(dst.substr(at + n), std::string(32, '#')) << n << " at " << at;
            }
        }
    }
}

// move_bytes gives memmove's result where source and destination overlap by any amount, either
// way, at every size up to 100 bytes.
TEST(GuardPage, MoveBytesOverlapping) {
    for (uint32_t n = 0; n <= 100; ++n) {
        for (int shift = -40; shift <= 40; ++shift) {
            std::string want(n + 96, '.');
            for (std::size_t i = 0; i < want.size(); ++i) want[i] = static_cast<char>('a' + i % 23);
            std::string got = want;
            std::memmove(want.data() + 48 + shift, want.data() + 48, n);
            move_bytes(got.data() + 48 + shift, got.data() + 48, n);
            ASSERT_EQ(got, want) << n << " moved by " << shift;
        }
    }
}

// An SDP body read to the datagram's last byte, whatever that byte ends: every prefix of bodies
// with empty lines (CR LF, bare LF), lines of one byte and a last line without a line end, each
// placed at the guard page, as a body of its own and after a header of its own (the body's first
// line not at the buffer's start). parse_sdp reads each line's type and '=' by one 16-bit load: an
// empty line whose LF is the last byte must not be read past it.
TEST(GuardPage, SdpToItsLastByte) {
    GuardedBuffer guard(4096);
    const std::string bodies[] = {
        "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\n\r\nc=IN IP4 10.0.0.1\n\nm=audio 4000 RTP/AVP 0\r\na=rtcp:4001\r\n\n",
        "c\nc=\n\n\r\nm\r\na\nc=IN IP4 10.0.0.2\r\n\r\n\n",
    };
    size_t parses = 0, addresses = 0;
    // The heads put the body at every offset in a 64-byte block, so that a line (an empty one
    // too) starts at a block's first byte, where the line walk takes the next block's LF word
    // (fuzz_sip found an empty line there, its LF the datagram's last byte, read past).
    std::vector<std::string> heads{""};
    for (size_t pad = 0; pad < 64; ++pad) heads.push_back("Content-Length: 0" + std::string(pad, ' ') + "\r\n\r\n");
    for (const std::string& body : bodies) {
        for (size_t len = 0; len <= body.size(); ++len) {
            for (const std::string& head : heads) {
                const std::string bytes = head + body.substr(0, len);
                const std::string_view placed = guard.place(bytes);
                sip::Sdp out;
                sip::parse_sdp(placed, Slice{static_cast<uint32_t>(head.size()), static_cast<uint32_t>(len)}, out);
                addresses += out.addr_count;
                ++parses;
            }
        }
    }
    EXPECT_GT(addresses, 6000u) << "the bodies' addresses were read";
    std::printf("  %zu parses, %zu addresses\n", parses, addresses);
}

TEST(GuardPage, EveryPrefixOfRfcMessages) {
    auto s = test::rfc4475();
    auto b = test::rfc5118();
    s.insert(s.end(), b.begin(), b.end());
    run_prefixes(s, SIZE_MAX);
}

TEST(GuardPage, EveryPrefixOfKamailioMessages) { run_prefixes(test::kamailio_messages(), SIZE_MAX); }

TEST(GuardPage, PaddedIndexOfEveryPrefixIsTheUnpaddedOne) {
    auto s = test::rfc4475();
    const auto b = test::rfc5118();
    const auto k = test::kamailio_messages();
    s.insert(s.end(), b.begin(), b.end());
    s.insert(s.end(), k.begin(), k.end());
    run_padded(s, SIZE_MAX);
    run_padded(test::pcap_sip_payloads(), 16);
}

TEST(GuardPage, PrefixesOfCapturedMessages) {
    // ~1000 captured payloads: every prefix of each would be ~1M parses per kernel, so take
    // 64 evenly spaced prefixes of each (always including the whole message and the empty one).
    run_prefixes(test::pcap_sip_payloads(), 64);
}
