// libFuzzer target: detect + plan + apply on arbitrary messages, with invariants:
//  - no crash, no out-of-bounds access (ASan), no undefined behaviour (UBSan);
//  - a message that is not rewritten comes out byte-identical;
//  - a rewritten message re-parses, its Content-Length (when it has one) equals its body;
//  - the output equals the input with exactly the planned edits applied: no byte outside an
//    edited span changes;
//  - a second pass over the output changes nothing;
//  - the hosts a domain rule reads: to_if()/from_if() answer only with the very host to()/from()
//    give, and from_repeats_to() only when From's host is To's.
// The first 3 input bytes choose the options and the source address; the rest is the message.
#include <farend/rewrite/message_hosts.hpp>
#include <farend/rewrite/processor.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace farend;

namespace {

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

std::string reference_apply(std::string_view in, const rewrite::EditPlan& plan) {
    // The plan's edits in the order apply() takes them, which must be by offset (at one offset,
    // the order of insertion: the unit tests hold add() to that).
    std::string out;
    uint32_t p = 0;
    for (std::size_t i = 0; i < plan.size(); ++i) {
        const rewrite::Edit& e = plan.edit(i);
        if (e.off < p) die("the plan's edits are not in order or overlap");
        out.append(in.substr(p, e.off - p));
        out.append(rewrite::EditPlan::text(e));
        p = e.off + e.len;
    }
    out.append(in.substr(p));
    return out;
}

// The short cuts of MessageHosts against its full reads (rule_set.cpp asks them in this order).
void check_hosts(std::string_view msg) {
    static sip::MessageParser parser;
    const sip::MessageIndex& idx = parser.parse(msg);
    if (!idx.complete()) return;
    const rewrite::MessageHosts hosts(msg, parser.mask_view(), idx);
    const std::string_view ruri = hosts.request_uri(), to = hosts.to(), from = hosts.from();
    const auto same = [](std::string_view a, std::string_view b) { return a.data() == b.data() && a.size() == b.size(); };
    for (std::string_view h : {ruri, to, from})
        if (!h.empty() && (h.data() < msg.data() || h.data() + h.size() > msg.data() + msg.size()))
            die("a host outside the message");
    if (const std::string_view t = hosts.to_if(ruri); !t.empty() && !same(t, to)) die("to_if() answered other than to()");
    if (const std::string_view f = hosts.from_if(to); !f.empty() && !same(f, from))
        die("from_if() answered other than from()");
    if (hosts.from_repeats_to(to) && from != to) die("from_repeats_to() for another host");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 3) return 0;
    static const nat::Source sources[] = {
        {*IpAddr::parse("203.0.113.5"), 40000}, {*IpAddr::parse("192.168.1.10"), 5060},
        {*IpAddr::parse("2001:db8::5"), 5062},  {*IpAddr::parse("1.2.3.4"), 1},
    };
    rewrite::Options opt;
    opt.detect.tests = static_cast<nat::TestMask>(data[0] | ((data[1] & 1) << 8)) & nat::kAllTests;
    opt.rewrite.contact_mode = (data[1] & 2) ? rewrite::ContactMode::alias : rewrite::ContactMode::rewrite;
    opt.rewrite.via = !(data[1] & 4);
    opt.rewrite.contact = !(data[1] & 8);
    opt.rewrite.sdp = !(data[1] & 16);
    const nat::Source& src = sources[data[2] % 4];
    rewrite::Processor proc(opt);  // options come from the input, so one per input

    const std::string_view in(reinterpret_cast<const char*>(data + 3), size - 3);
    check_hosts(in);
    std::string buf(in);
    buf.resize(in.size() + 4096);
    const auto r = proc.process(buf.data(), static_cast<uint32_t>(in.size()), static_cast<uint32_t>(buf.size()), src);
    buf.resize(r.size);
    if (r.outcome != rewrite::Outcome::rewritten) {
        if (buf != in) die("a message that was not rewritten changed");
        return 0;
    }
    if (buf != reference_apply(in, proc.plan())) die("output is not the input with the planned edits");
    sip::MessageParser check;
    const auto& idx = check.parse(buf);
    if (!idx.complete()) die("rewritten message does not parse");
    if (idx.content_length.status == sip::ContentLength::Status::ok && idx.content_length.value != idx.body_len)
        die("Content-Length differs from the body");
    std::string again = buf;
    again.resize(buf.size() + 4096);
    const auto r2 = proc.process(again.data(), static_cast<uint32_t>(buf.size()), static_cast<uint32_t>(again.size()), src);
    again.resize(r2.size);
    if (again != buf) die("second pass changed the message");
    return 0;
}
