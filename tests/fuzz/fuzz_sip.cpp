// libFuzzer target: scanner + index + every parser, with invariants:
//  - every span any parser returns lies inside the input;
//  - a complete message accounts for every byte (headers + body + trailing);
//  - every SIMD kernel gives exactly the scalar kernel's parse;
//  - an index that keeps only some headers (the rewrite path's set) describes the message as one
//    that keeps them all.
// Build and run: scripts/fuzz [SECONDS]
#include "sip_helpers.hpp"
#include "walk.hpp"

#include <farend/rewrite/processor.hpp>  // kRewriteHeaders only: a constant, nothing to link
#include <farend/sip/dump.hpp>
#include <farend/sip/message.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

using namespace farend;

namespace {

struct Parsers {
    std::vector<std::unique_ptr<sip::MessageParser>> all;  // scalar first
    sip::MessageParser some;                                // keeps only the rewrite path's headers
    Parsers() {
        for (const simd::Kernel* k : simd::supported()) all.push_back(std::make_unique<sip::MessageParser>(*k));
    }
};

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Parsers parsers;
    const std::string_view buf(reinterpret_cast<const char*>(data), size);
    const sip::MessageIndex& ref = parsers.all[0]->parse(buf);
    (void)test::walk_all(buf, parsers.all[0]->mask_view(), ref);
    const size_t n = buf.size();
    if (ref.start.line.end() > n) die("start line out of bounds");
    for (uint16_t i = 0; i < ref.header_count; ++i) {
        const auto& h = ref.headers[i];
        if (h.name.end() > n || h.value.end() > n || h.line_end > n || h.line_off() >= h.line_end)
            die("header span out of bounds");
    }
    if (ref.complete() && size_t{ref.body_off} + ref.body_len + ref.trailing != n) die("bytes unaccounted for");
    const std::string ref_kept = test::describe_kept(ref, rewrite::kRewriteHeaders);
    const sip::MessageIndex& some = parsers.some.parse(buf, rewrite::kRewriteHeaders);
    if (test::describe_kept(some, rewrite::kRewriteHeaders) != ref_kept || some.line_count != ref.header_count)
        die("index keeping some headers disagrees with one keeping all");
    const std::string want = sip::dump(buf, parsers.all[0]->mask_view(), ref);
    for (size_t k = 1; k < parsers.all.size(); ++k) {
        const auto& idx = parsers.all[k]->parse(buf);
        if (sip::dump(buf, parsers.all[k]->mask_view(), idx) != want) die("SIMD kernel disagrees with scalar");
    }
    return 0;
}
