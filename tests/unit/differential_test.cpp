// Every SIMD kernel must produce the same parse as the scalar one: on the whole corpus and on
// random mutations of it (byte flips, inserted structural bytes, cuts, duplicated spans).
#include "corpus.hpp"

#include <farend/sip/dump.hpp>
#include <farend/sip/message.hpp>

#include <gtest/gtest.h>

#include <random>

using namespace farend;

namespace {

std::string mutate(std::string s, std::mt19937_64& rng) {
    static const std::string structural = "\r\n:,;<>\" \t[]@=/?\\%0.";
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits && !s.empty(); ++e) {
        const size_t at = rng() % s.size();
        switch (rng() % 5) {
            case 0: s[at] = static_cast<char>(rng()); break;
            case 1: s.insert(s.begin() + static_cast<long>(at), structural[rng() % structural.size()]); break;
            case 2: s.erase(at, 1 + rng() % 8); break;
            case 3: s.resize(at); break;
            case 4: {
                const size_t len = std::min<size_t>(1 + rng() % 40, s.size() - at);
                s.insert(rng() % s.size(), s.substr(at, len));
                break;
            }
        }
    }
    return s;
}

}  // namespace

TEST(Differential, KernelsAgreeOnCorpusAndMutations) {
    const auto samples = test::everything();
    const simd::Kernel& scalar = *simd::kernel(simd::Backend::scalar);
    sip::MessageParser ref(scalar);
    std::vector<std::unique_ptr<sip::MessageParser>> others;
    for (const simd::Kernel* k : simd::supported())
        if (k->backend != simd::Backend::scalar) others.push_back(std::make_unique<sip::MessageParser>(*k));
    if (others.empty()) GTEST_SKIP() << "SKIPPED: this CPU has no SIMD kernel (no AVX2): nothing to compare";
    std::mt19937_64 rng(20261124);
    size_t compared = 0;
    for (const auto& s : samples) {
        for (int round = 0; round < 40; ++round) {
            const std::string msg = round == 0 ? s.bytes : mutate(s.bytes, rng);
            const auto& ref_idx = ref.parse(msg);
            const std::string want = sip::dump(msg, ref.mask_view(), ref_idx);
            for (auto& p : others) {
                const auto& idx = p->parse(msg);
                ASSERT_EQ(sip::dump(msg, p->mask_view(), idx), want) << s.name << " round " << round << " kernel " << p->kernel().name;
                ++compared;
            }
        }
    }
    std::printf("  %zu parses compared against scalar\n", compared);
}

// MessageParser scans the value classes (',' ';' '<' '>' '"' CR) only for the blocks a parser asks
// for (MaskView::ensure). Every parse that reads them must come out as it does over a full scan
// of the datagram: one parser for every message in turn, so that a block a reader forgot to ask
// for would still hold the masks of an earlier message.
TEST(Differential, LazyValueMasksParseAsAFullScan) {
    const auto samples = test::everything();
    std::mt19937_64 rng(20261202);
    size_t compared = 0;
    for (const simd::Kernel* k : simd::supported()) {
        sip::MessageParser lazy(*k);
        for (const auto& s : samples) {
            for (int round = 0; round < 10; ++round) {
                const std::string msg = round == 0 ? s.bytes : mutate(s.bytes, rng);
                std::vector<simd::BlockMasks> full(simd::blocks_for(msg.size()) + 1);
                simd::scan_scalar(reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), full.data());
                const sip::MaskView full_view{full.data(), static_cast<uint32_t>(msg.size())};
                const auto& idx = lazy.parse(msg);
                const std::string got = sip::dump(msg, lazy.mask_view(), idx);
                ASSERT_EQ(got, sip::dump(msg, full_view, idx)) << s.name << " round " << round << " kernel " << k->name;
                ++compared;
            }
        }
    }
    std::printf("  %zu lazy parses compared against full scans\n", compared);
}
