#include <farend/nat/detect.hpp>

namespace farend::nat {

namespace {

struct TestInfo {
    std::string_view name, description;
};
constexpr TestInfo kTests[] = {
#define FAREND_X(id, name, desc) {name, desc},
    FAREND_NAT_TESTS(FAREND_X)
#undef FAREND_X
};

bool has_host(const sip::Contact& c) noexcept {
    return c.valid && !c.star && (c.uri.scheme_id == sip::Scheme::sip || c.uri.scheme_id == sip::Scheme::sips) &&
           c.uri.host.kind != sip::HostKind::none;
}

}  // namespace

std::string_view test_name(Test t) noexcept { return kTests[static_cast<std::size_t>(t)].name; }
std::string_view test_description(Test t) noexcept { return kTests[static_cast<std::size_t>(t)].description; }

std::optional<TestMask> parse_tests(std::string_view list, std::string* error) {
    TestMask m = 0;
    bool any = false;
    const bool ok = for_each_item(list, [&](std::string_view item) {
        any = true;
        if (item == "all") {
            m = kAllTests;
            return true;
        }
        if (item == "none") return true;  // alone it means no test; with others it adds nothing
        for (std::size_t t = 0; t < kTestCount; ++t)
            if (kTests[t].name == item) {
                m = static_cast<TestMask>(m | bit(static_cast<Test>(t)));
                return true;
            }
        if (error) {
            error->assign("unknown NAT test '").append(item).append("' (known: ");
            for (std::size_t t = 0; t < kTestCount; ++t) error->append(kTests[t].name).append(", ");
            error->append("all, none)");
        }
        return false;
    });
    if (!ok) return std::nullopt;
    if (!any) {
        if (error) *error = "empty list of NAT tests (use 'none' to turn them all off)";
        return std::nullopt;
    }
    return m;
}

std::string tests_to_string(TestMask m) {
    std::string out;
    for (std::size_t t = 0; t < kTestCount; ++t)
        if (m & bit(static_cast<Test>(t))) {
            if (!out.empty()) out += ',';
            out += kTests[t].name;
        }
    return out.empty() ? "none" : out;
}

namespace {

// The SDP tests on one table of addresses: the tests that fired.
TestMask test_sdp(const sip::Sdp& sdp, const Source& src, const PrefixSet& priv, bool want_private,
                  bool want_mismatch) noexcept {
    TestMask fired = 0;
    for (uint8_t a = 0; a < sdp.addr_count; ++a) {
        const sip::SdpAddress& ad = sdp.addrs[a];
        if (ad.kind != sip::SdpAddrKind::connection) continue;
        // 0.0.0.0 / :: put a stream on hold (RFC 3264 8.4): no address to test.
        if (ad.ip.is_unspecified()) continue;
        if (want_private && ad.ip.valid() && priv.contains(ad.ip)) fired |= bit(Test::sdp_private);
        if (want_mismatch && (!ad.ip.valid() || ad.ip != src.ip)) fired |= bit(Test::sdp_source_mismatch);
    }
    return fired;
}

// An SDP with more addresses than its table holds (first.truncated): the rest of its body read on,
// a table at a time. Rare, so off the usual path, with a table of its own on the stack.
[[gnu::noinline, gnu::cold]] TestMask test_sdp_rest(std::string_view buf, sip::MaskView mv, Slice body, const sip::Sdp& first,
                                                     const Source& src, const PrefixSet& priv, bool want_private,
                                                     bool want_mismatch) noexcept {
    TestMask fired = 0;
    sip::each_sdp_rest(buf, mv, body, first,
                       [&](const sip::Sdp& rest) { fired |= test_sdp(rest, src, priv, want_private, want_mismatch); });
    return fired;
}

}  // namespace

Verdict detect(std::string_view buf, sip::MaskView mv, const sip::MessageIndex& index, const sip::MessageParts& parts,
               const Source& src, const DetectConfig& cfg) noexcept {
    Verdict v;
    const TestMask on = cfg.tests;
    auto fire = [&](Test t) { v.fired = static_cast<TestMask>(v.fired | bit(t)); };
    auto enabled = [&](Test t) { return (on & bit(t)) != 0; };
    const auto& priv = cfg.private_ranges;

    if (enabled(Test::source_private) && priv.contains(src.ip)) fire(Test::source_private);

    // Via tests: requests only (a response's top Via names the requester, not the sender).
    if (index.start.is_request && parts.has_top_via) {
        const sip::Via& via = parts.top_via;
        const bool literal = via.sent_by.kind == sip::HostKind::ipv4 || via.sent_by.kind == sip::HostKind::ipv6;
        if (enabled(Test::via_private) && literal && priv.contains(via.sent_by.ip)) fire(Test::via_private);
        if (enabled(Test::via_source_mismatch) &&
            (!literal || via.sent_by.ip != src.ip || via.effective_port(buf) != src.port))
            fire(Test::via_source_mismatch);
    }

    for (uint8_t i = 0; i < parts.contact_count; ++i) {
        const sip::Contact& c = parts.contacts[i];
        if (!has_host(c)) continue;
        const auto& h = c.uri.host;
        const bool literal = h.kind == sip::HostKind::ipv4 || h.kind == sip::HostKind::ipv6;
        if (enabled(Test::contact_private) && literal && priv.contains(h.ip)) fire(Test::contact_private);
        if (enabled(Test::contact_source_mismatch) && (!literal || h.ip != src.ip)) fire(Test::contact_source_mismatch);
        if (enabled(Test::contact_port_mismatch) && c.uri.effective_port() != src.port) fire(Test::contact_port_mismatch);
    }

    if (on & kSdpTests) {
        const bool want_private = enabled(Test::sdp_private), want_mismatch = enabled(Test::sdp_source_mismatch);
        for (uint8_t b = 0; b < parts.sdp_bodies.count; ++b) {
            const sip::Sdp& sdp = parts.sdp[b];
            v.fired = static_cast<TestMask>(v.fired | test_sdp(sdp, src, priv, want_private, want_mismatch));
            if (sdp.truncated) [[unlikely]]
                v.fired = static_cast<TestMask>(v.fired | test_sdp_rest(buf, mv, parts.sdp_bodies.bodies[b], sdp, src, priv,
                                                                        want_private, want_mismatch));
        }
    }
    return v;
}

}  // namespace farend::nat
