// libFuzzer target: scanner + index + every parser, with invariants:
//  - every span any parser returns lies inside the input;
//  - a complete message accounts for every byte (headers + body + trailing);
//  - every SIMD kernel gives exactly the scalar kernel's parse;
//  - an index that keeps only some headers (the rewrite path's set) describes the message as one
//    that keeps them all;
//  - the Via and Contact parsers' fast paths for the usual values read every value as their
//    general paths do (the Contacts with and without the top Via's host:port known);
//  - an index of the message with readable bytes past its end (the padded header walk) is the
//    same as one without.
// Build and run: scripts/fuzz [SECONDS]
#include "fields.hpp"
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

// Each Via and Contact header of idx read by parse_via_values / parse_contact_values (their fast
// paths first) and by their general paths: every field the same.
void fast_paths_agree(std::string_view buf, sip::MaskView mv, const sip::MessageIndex& idx) {
    using namespace sip;
    HostPort top;  // the top Via's sent-by, as extract_parts() passes it to the Contacts
    bool have_top = false;
    for (uint16_t i = 0; i < idx.header_count; ++i) {
        const Header& h = idx.headers[i];
        if (h.id == HeaderId::via) {
            Via a[8], b[8];
            const size_t na = parse_via_values(buf, mv, h.value, a, 8);
            if (na != detail::parse_via_values_general(buf, h.value, b, 8)) die("Via's fast path read a count of its own");
            for (size_t k = 0; k < na; ++k)
                if (test::all_fields(a[k]) != test::all_fields(b[k])) die("Via's fast path read a field of its own");
            if (!have_top && na > 0 && a[0].valid) top = a[0].sent_by, have_top = true;
        } else if (h.id == HeaderId::contact) {
            const HostPort* const known_top = have_top ? &top : nullptr;
            for (const HostPort* known : {static_cast<const HostPort*>(nullptr), known_top}) {
                Contact a[8], b[8];
                const size_t na = parse_contact_values(buf, mv, h.value, a, 8, known);
                if (na != detail::parse_contact_values_general(buf, mv, h.value, b, 8, known))
                    die("Contact's fast path read a count of its own");
                for (size_t k = 0; k < na; ++k)
                    if (test::all_fields(a[k]) != test::all_fields(b[k])) die("Contact's fast path read a field of its own");
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Parsers parsers;
    const std::string_view buf(reinterpret_cast<const char*>(data), size);
    const sip::MessageIndex& ref = parsers.all[0]->parse(buf);
    (void)test::walk_all(buf, parsers.all[0]->mask_view(), ref);
    fast_paths_agree(buf, parsers.all[0]->mask_view(), ref);
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
    // The same message with kPaddedSlack readable bytes past its end, as the dataplane's buffers
    // have (the header walk then loads every line's first 16 bytes untested), holding the
    // message's own first bytes (names and colons): indexed as without them.
    static std::vector<char> padded;
    padded.assign(buf.begin(), buf.end());
    for (size_t i = 0; i < sip::kPaddedSlack; ++i) padded.push_back(i < n ? buf[i] : ':');
    const std::string_view pbuf(padded.data(), n);
    sip::MessageParser& best = *parsers.all.back();
    if (sip::dump(pbuf, best.mask_view(), best.parse(pbuf, sip::kAllHeaders, nullptr, sip::kPaddedSlack)) != want)
        die("padded index disagrees with unpadded");
    const sip::MessageIndex& psome = parsers.some.parse(pbuf, rewrite::kRewriteHeaders, nullptr, sip::kPaddedSlack);
    if (test::describe_kept(psome, rewrite::kRewriteHeaders) != ref_kept || psome.line_count != ref.header_count)
        die("padded index keeping some headers disagrees with one keeping all");
    return 0;
}
