// Where the time of a message goes, stage by stage, in TSC cycles: farend's processing of the SIP
// in a capture (every UDP datagram of it, as the dataplane reads it: with the UDP checksum's
// payload share summed by the scan) run to the end of each stage in turn -- the copy into a work
// buffer, + the parser's scan and sum alone, then the whole parse (the scan again, + the header
// index), + the top Via and the Contacts, + the NAT tests, + the SDP, + the edit plan, + its
// application -- each over the whole capture; then the dataplane's worker on the whole frames
// (pipeline::Worker::process_burst, after a run that only copies them), which adds what surrounds
// the SIP path in farend: the frame's classification and checksum checks, the counters, the flow's
// observation, the lengths and checksums after the rewrite. The ten runs one after the other in a
// round (every other round backwards) and the rounds many times over. A stage's cost is the
// median over the rounds of its run less the run before it in the same round, so a change of this
// VM's speed (several percent from minute to minute, and bursts within a second) moves both sides
// of each difference alike; what the instruction counts of perf/callgrind-dataplane do not show
// (stalls, mispredicted branches, the cost of a cache miss) is in these figures.
//
// Usage: stage_costs CAPTURE.pcap [ROUNDS]      (perf/stage-costs makes the NATed mix and runs it)
#include <farend/net/frame.hpp>
#include <farend/rewrite/edit_plan.hpp>
#include <farend/rewrite/processor.hpp>
#include <farend/rewrite/rewrite.hpp>
#include <farend/nat/detect.hpp>
#include <farend/pipeline/worker.hpp>
#include <farend/simd/scan.hpp>
#include <farend/sip/message.hpp>
#include <farend/sip/parts.hpp>

#include <pcap/pcap.h>
#include <x86intrin.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace farend;

namespace {

struct Message {
    nat::Source source;
    std::string bytes;  // the UDP payload
    std::string frame;  // the whole frame, for the worker's runs
};

std::vector<Message> read_capture(const char* path) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline(path, err);
    if (!p) {
        std::fprintf(stderr, "stage_costs: %s\n", err);
        std::exit(1);
    }
    std::vector<Message> out;
    pcap_pkthdr* h;
    const u_char* data;
    while (pcap_next_ex(p, &h, &data) == 1) {
        net::FrameView v;
        if (net::parse_frame(data, h->caplen, v) != net::FrameStatus::udp) continue;
        out.push_back({nat::Source{v.src, v.src_port},
                       std::string(reinterpret_cast<const char*>(data + v.payload_off()), v.payload_len()),
                       std::string(reinterpret_cast<const char*>(data), h->caplen)});
    }
    pcap_close(p);
    return out;
}

constexpr std::array<const char*, 10> kStages = {
    "copy into the buffers", "scan and sum", "parse: the index", "top Via and Contacts", "NAT tests",
    "SDP",                   "edit plan",    "apply the plan",   "copy the frames",      "the worker's bursts",
};
// The SIP path's stages are runs 0-7 (each the one before it and more); runs 8 and 9 are the
// dataplane's worker (pipeline::Worker::process_burst, as farend calls it) on the whole frames.
constexpr std::size_t kSipRuns = 8, kFrameCopy = 8, kWorker = 9;

// One burst through the worker. Not inlined: callgrind can count it alone
// (--toggle-collect='*worker_burst*').
[[gnu::noinline]] void worker_burst(pipeline::Worker& w, pipeline::Frame* frames, pipeline::Action* actions, std::size_t n) {
    w.process_burst(frames, actions, static_cast<uint16_t>(n), pipeline::Direction::access_to_core);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0) {
        std::fprintf(stderr, "usage: stage_costs CAPTURE.pcap [ROUNDS]\n");
        return argc < 2 ? 1 : 0;
    }
    const std::vector<Message> msgs = read_capture(argv[1]);
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 201;
    if (msgs.empty() || rounds < 1) {
        std::fprintf(stderr, "stage_costs: %s\n", msgs.empty() ? "no UDP datagram in the capture" : "ROUNDS must be >= 1");
        return 1;
    }
    const rewrite::Options options;
    sip::MessageParser parser;
    // The scan alone, as parse() runs it first (the index's share is parse less this).
    const simd::Kernel& kernel = simd::active();
    const std::unique_ptr<simd::BlockMasks[]> masks(new simd::BlockMasks[simd::blocks_for(sip::kMaxMessage)]);
    auto parts = std::make_unique<sip::MessageParts>();
    auto plan = std::make_unique<rewrite::EditPlan>();
    // Bursts of 32, as the dataplane receives them: the burst's messages are copied into their
    // buffers (as the driver copies frames into mbufs), then processed one by one. Processing each
    // message just after its own copy made the scan's 64-byte loads wait for the copy's stores
    // (a load that spans stores still in flight is not forwarded): twice the scan's time.
    constexpr std::size_t kBurst = 32;
    std::size_t longest = 0;
    for (const Message& m : msgs) longest = std::max(longest, m.bytes.size());
    const std::size_t slot = (longest + 4096 + 63) / 64 * 64;  // room for what the rewrite adds
    std::vector<char> bufs(slot * kBurst);
    // The worker's runs: frames into buffers of the same room, a burst at a time.
    pipeline::Config config;
    pipeline::Worker worker(config);
    std::array<pipeline::Frame, kBurst> frames;
    std::array<pipeline::Action, kBurst> actions;
    const std::size_t frame_slot = slot + 128;
    std::vector<uint8_t> fbufs(frame_slot * kBurst);
    std::array<std::vector<double>, kStages.size()> cycles;
    uint64_t sink = 0, rewritten = 0;
    for (int r = 0; r < rounds; ++r) {
        for (std::size_t k = 0; k < kStages.size(); ++k) {
            // Every other round backwards: a drift within a round then counts for and against a
            // stage alike.
            const std::size_t stage = r % 2 ? kStages.size() - 1 - k : k;
            const uint64_t t0 = __rdtsc();
            for (std::size_t first = 0; first < msgs.size(); first += kBurst) {
                const std::size_t count = std::min(kBurst, msgs.size() - first);
                if (stage >= kFrameCopy) {
                    for (std::size_t i = 0; i < count; ++i) {
                        const std::string& fr = msgs[first + i].frame;
                        std::memcpy(&fbufs[i * frame_slot], fr.data(), fr.size());
                        frames[i] = pipeline::Frame{};
                        frames[i].data = &fbufs[i * frame_slot];
                        frames[i].len = static_cast<uint32_t>(fr.size());
                        frames[i].capacity = static_cast<uint32_t>(frame_slot);
                    }
                    if (stage == kFrameCopy) {
                        sink += fbufs[frames[count - 1].len / 2];
                        continue;
                    }
                    worker_burst(worker, frames.data(), actions.data(), count);
                    continue;
                }
                for (std::size_t i = 0; i < count; ++i)
                    std::memcpy(&bufs[i * slot], msgs[first + i].bytes.data(), msgs[first + i].bytes.size());
                for (std::size_t i = 0; i < count; ++i) {
                    const Message& m = msgs[first + i];
                    char* b = &bufs[i * slot];
                    if (stage == 0) {
                        sink += static_cast<unsigned char>(b[m.bytes.size() / 2]);
                        continue;
                    }
                    if (stage == 1) {
                        sink += kernel.scan_summed(reinterpret_cast<const uint8_t*>(b), m.bytes.size(), masks.get());
                        continue;
                    }
                    const std::string_view msg(b, m.bytes.size());
                    uint64_t sum = 0;
                    const sip::MessageIndex& idx = parser.parse(msg, rewrite::kRewriteHeaders, &sum);
                    sink += sum;
                    if (stage == 2 || !idx.complete()) continue;
                    sip::extract_parts(msg, parser.mask_view(), idx, false, *parts);
                    if (stage == 3) continue;
                    const nat::Verdict verdict = nat::detect(msg, parser.mask_view(), idx, *parts, m.source, options.detect);
                    sink += verdict.fired;
                    if (stage == 4 || !verdict.nated()) continue;
                    sip::extract_sdp(msg, parser.mask_view(), idx, *parts);
                    if (stage == 5) continue;
                    plan->clear();
                    rewrite::Summary summary;
                    rewrite::plan_rewrites(msg, parser.mask_view(), idx, *parts, m.source, options.rewrite, *plan, summary);
                    if (stage == 6) continue;
                    const rewrite::ApplyResult a =
                        plan->apply(b, static_cast<uint32_t>(m.bytes.size()), static_cast<uint32_t>(slot));
                    rewritten += a.status == rewrite::ApplyStatus::ok && !plan->empty();
                }
            }
            cycles[stage].push_back(static_cast<double>(__rdtsc() - t0) / static_cast<double>(msgs.size()));
        }
    }
    const auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    std::printf("stage_costs: %zu messages (%s), %d rounds of the %zu runs in turn, kernel %s; TSC cycles a message, median of the rounds\n",
                msgs.size(), argv[1], rounds, kStages.size(), simd::active().name);
    // The median over the rounds of a figure each round gives on its own (f of the round).
    const auto per_round = [&](auto f) {
        std::vector<double> d(cycles[0].size());
        for (std::size_t r = 0; r < d.size(); ++r) d[r] = f(r);
        return median(d);
    };
    // A stage's cost: the median over the rounds of its run less the run before it in the same
    // round (paired, so a round the VM ran slow counts once, in both).
    const auto paired = [&](std::size_t a, std::size_t b) {
        return per_round([&](std::size_t r) { return cycles[a][r] - cycles[b][r]; });
    };
    const double total = paired(kSipRuns - 1, 0);
    for (std::size_t s = 0; s < kSipRuns; ++s) {
        if (s == 0) {
            std::printf("  %-28s %7.1f   (not farend's: the benchmark's own)\n", kStages[s], median(cycles[0]));
            continue;
        }
        const double cost = paired(s, s - 1);
        std::printf("  %-28s %7.1f   %5.1f %%\n", kStages[s], cost, 100.0 * cost / total);
    }
    std::printf("  %-28s %7.1f   (median of the rounds' own totals); rewritten %.1f %% of the messages (%u)\n",
                "farend's SIP path, in all", total,
                100.0 * static_cast<double>(rewritten) / (static_cast<double>(msgs.size()) * rounds),
                static_cast<unsigned>(sink & 1));
    // The worker on the whole frames, as the dataplane calls it: the SIP path and what surrounds
    // it there (the frame's classification and checksum checks, the counters, the flow's
    // observation, lengths and checksums after the rewrite). Paired with the SIP path's own
    // total within each round.
    const double around = per_round([&](std::size_t r) {
        return (cycles[kWorker][r] - cycles[kFrameCopy][r]) - (cycles[kSipRuns - 1][r] - cycles[0][r]);
    });
    const double whole = paired(kWorker, kFrameCopy);
    std::printf("  %-28s %7.1f   (pipeline::Worker::process_burst on the frames, bursts of %zu); rewritten %.1f %% of the frames\n",
                "the worker, in all", whole, kBurst,
                100.0 * static_cast<double>(worker.counters().get(pipeline::Counter::rewritten)) /
                    (static_cast<double>(msgs.size()) * rounds));
    std::printf("  %-28s %7.1f   %5.1f %% of the worker's (paired within the rounds)\n", "worker around the SIP path",
                around, 100.0 * around / whole);
    return 0;
}
