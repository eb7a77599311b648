#include <farend/rewrite/policy.hpp>
#include <farend/rewrite/rewrite.hpp>

#include <farend/base/bytes.hpp>

#include <charconv>
#include <cstring>

namespace farend::rewrite {

namespace {

// A small text builder on the stack.
struct TextBuilder {
    char buf[160];
    std::size_t n = 0;

    TextBuilder& add(std::string_view s) noexcept {
        const std::size_t k = std::min(s.size(), sizeof buf - n);
        copy_bytes(buf + n, s.data(), k);
        n += k;
        return *this;
    }
    TextBuilder& add(char c) noexcept {
        if (n < sizeof buf) buf[n++] = c;
        return *this;
    }
    TextBuilder& add_num(uint64_t v, std::size_t min_width = 0) noexcept {
        char tmp[24];
        const auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
        // At most 20 digits; said so that GCC (at the LTO link) sees no copy longer than tmp.
        const std::size_t len = std::min<std::size_t>(static_cast<std::size_t>(r.ptr - tmp), 20);
        if (min_width > sizeof buf - n) min_width = 0;  // padding that does not fit goes, never a digit
        for (std::size_t i = len; i < min_width; ++i) add('0');
        return add(std::string_view(tmp, len));
    }
    [[nodiscard]] std::string_view view() const noexcept { return {buf, n}; }
};

using PlanText = EditPlan::Text;

// The source as text, formatted once per message into the plan's scratch, where the edits point
// to it (no text is copied into the plan and then again into the message). Each text an edit
// needs is one run of it:
//   [0, c)    "=PORT;received=IP"    with [c, d) ";rport=PORT" after it: every Via append of
//             ;received and ;rport, "=PORT" and "=IP" for parameters without a value, IP and PORT;
//   [hp, ...) "HOST:PORT"            a Contact's new host and port (IPv6 in brackets, RFC 3261 25.1);
//   [al, ...) ";alias=HOST~PORT~1"   Kamailio's add_contact_alias form, written only in alias mode.
class SourceText {
public:
    // Where the runs start in the scratch: each leaves room for the longest text (an IPv6 address
    // is at most 45 bytes; IpAddr::format may write kMaxText; put_port writes 8).
    static constexpr uint32_t kHostPort = 96, kAlias = 160, kDigits = 240;
    static_assert(1 + 8 + 10 + IpAddr::kMaxText + 7 + 8 <= kHostPort);
    static_assert(kHostPort + 1 + IpAddr::kMaxText + 2 + 8 <= kAlias);
    static_assert(kAlias + 7 + 1 + IpAddr::kMaxText + 2 + 8 + 8 <= kDigits);
    static_assert(kDigits + 8 <= EditPlan::kScratch);

    SourceText(const nat::Source& src, EditPlan& plan) noexcept : plan_(plan) {
        char* const b = plan.scratch();
        b[0] = '=';
        port_len_ = static_cast<uint32_t>(put_port(b + 1, src.port));
        uint32_t i = 1 + port_len_;
        std::memcpy(b + i, ";received=", 10);
        received_ = i;
        i += 10;
        ip_len_ = static_cast<uint32_t>(src.ip.format(b + i));
        i += ip_len_;
        std::memcpy(b + i, ";rport=", 7);
        rport_ = i;
        const uint64_t port = load_u64(b + 1);  // the 8 bytes put_port wrote
        std::memcpy(b + i + 7, &port, 8);
        // host:port
        char* h = b + kHostPort;
        const bool v6 = src.ip.is_v6();
        if (v6) *h++ = '[';
        copy_bytes(h, b + received_ + 10, ip_len_);
        h += ip_len_;
        if (v6) *h++ = ']';
        host_len_ = ip_len_ + (v6 ? 2u : 0u);
        *h = ':';
        std::memcpy(h + 1, &port, 8);
    }

    [[nodiscard]] PlanText ip() const noexcept { return plan_.scratch_text(received_ + 10, ip_len_); }
    [[nodiscard]] PlanText port() const noexcept { return plan_.scratch_text(1, port_len_); }
    [[nodiscard]] PlanText eq_port() const noexcept { return plan_.scratch_text(0, 1 + port_len_); }
    [[nodiscard]] PlanText eq_ip() const noexcept { return plan_.scratch_text(received_ + 9, 1 + ip_len_); }
    [[nodiscard]] PlanText host_port() const noexcept { return plan_.scratch_text(kHostPort, host_len_ + 1 + port_len_); }
    // The Via's appended parameters, in this order, as one run: "=PORT" (to an empty ;rport that
    // ends the via-parm), ";received=IP", ";rport=PORT". Any of them may be left out, but "=PORT"
    // and ";rport=PORT" never come together (the first is for a Via that has ;rport).
    [[nodiscard]] PlanText via_append(bool eq_port, bool received, bool rport) const noexcept {
        // None of them: an empty text.
        if (!eq_port && !received && !rport) return plan_.scratch_text(0, 0);
        const uint32_t from = eq_port ? 0 : received ? received_ : rport_;
        const uint32_t to = rport ? rport_ + 7 + port_len_ : received ? rport_ : received_;
        return plan_.scratch_text(from, to - from);
    }
    // ";alias=HOST~PORT~1", written on the first call.
    [[nodiscard]] PlanText alias() noexcept {
        if (!alias_len_) {
            char* const b = plan_.scratch();
            char* a = b + kAlias;
            std::memcpy(a, ";alias=", 7);
            copy_bytes(a + 7, b + kHostPort, host_len_);
            a += 7 + host_len_;
            *a++ = '~';
            const uint64_t port = load_u64(b + 1);
            std::memcpy(a, &port, 8);
            a += port_len_;
            std::memcpy(a, "~1", 2);
            alias_len_ = 7 + host_len_ + 1 + port_len_ + 2;
        }
        return plan_.scratch_text(kAlias, alias_len_);
    }
    // A Content-Length's new value of at most 65535 (a datagram's bytes), unpadded, in its run.
    [[nodiscard]] static PlanText digits(EditPlan& plan, uint16_t value) noexcept {
        const std::size_t n = put_port(plan.scratch() + kDigits, value);
        return plan.scratch_text(kDigits, static_cast<uint32_t>(n));
    }

private:
    EditPlan& plan_;
    uint32_t port_len_ = 0, ip_len_ = 0, host_len_ = 0, received_ = 0, rport_ = 0, alias_len_ = 0;
};

bool is_multicast(const IpAddr& ip) noexcept {
    return (ip.is_v4() && (ip.bytes()[0] & 0xf0) == 0xe0) || (ip.is_v6() && ip.bytes()[0] == 0xff);
}

void plan_via(std::string_view buf, const sip::Via& v, const nat::Source& src, const SourceText& st, EditPlan& plan,
              Summary& sum) noexcept {
    // The parameters added at the end of the via-parm are one edit, one run of the source's text
    // (SourceText::via_append). An empty ";rport" that ends the via-parm, as it usually does, has
    // its "=port" there too, first (one edit planned and applied fewer: ~32 instructions a Via).
    const bool rport_last = v.rport.present && !v.rport.has_value && v.rport.whole.end() == v.value.end();
    if (rport_last) ++sum.via_params;
    const bool host_is_source = (v.sent_by.kind == sip::HostKind::ipv4 || v.sent_by.kind == sip::HostKind::ipv6) &&
                                v.sent_by.ip == src.ip;
    // RFC 3261 18.2.1: received when sent-by is not the source address; a stale one is corrected.
    bool append_received = false;
    if (v.received.present) {
        const auto have = v.received.has_value ? IpAddr::parse(text(buf, v.received.value)) : std::nullopt;
        if (!have || *have != src.ip) {
            if (v.received.has_value)
                plan.replace_ref(v.received.value, st.ip());
            else
                plan.insert_ref(v.received.whole.end(), st.eq_ip());
            ++sum.via_params;
        }
    } else if (!host_is_source) {
        append_received = true;
        ++sum.via_params;
    }
    // RFC 3581 4: rport carries the source port; fill an empty one, correct a stale one.
    const bool append_rport = !v.rport.present;
    if (append_rport) {
        ++sum.via_params;
    } else if (!v.rport.has_value) {
        if (!rport_last) {
            plan.insert_ref(v.rport.whole.end(), st.eq_port());
            ++sum.via_params;
        }
    } else if (text(buf, v.rport.value) != st.port().view()) {
        plan.replace_ref(v.rport.value, st.port());
        ++sum.via_params;
    }
    if (const PlanText append = st.via_append(rport_last, append_received, append_rport); append.size() != 0)
        plan.insert_ref(v.value.end(), append);
}

void plan_contact(std::string_view buf, const sip::Contact& c, const nat::Source& src, SourceText& st,
                  ContactMode mode, EditPlan& plan, Summary& sum) noexcept {
    const sip::Uri& u = c.uri;
    if (mode == ContactMode::rewrite) {
        // The source address in place of host[:port]; maddr would override it, so it goes.
        const uint16_t have_port = u.effective_port();
        const bool literal = u.host.kind == sip::HostKind::ipv4 || u.host.kind == sip::HostKind::ipv6;
        bool changed = false;
        if (!(literal && u.host.bracketed == u.host.ip.is_v6() && u.host.ip == src.ip && have_port == src.port)) {
            plan.replace_ref(u.host.whole(), st.host_port());
            changed = true;
        }
        if (u.maddr.present) {
            plan.erase(u.maddr.whole);
            changed = true;
        }
        if (changed) ++sum.contacts;
        return;
    }
    // alias mode (Kamailio's add_contact_alias format): ;alias=ip~port~1 (1 = UDP)
    const PlanText alias = st.alias();
    if (u.alias.present) {
        if (text(buf, u.alias.whole) == alias.view()) return;
        plan.replace_ref(u.alias.whole, alias);
    } else {
        const uint32_t at = u.params.len ? u.params.end() : (u.headers.len ? u.headers.off : u.whole.end());
        if (!c.name_addr) plan.insert_ref(u.whole.off, "<");  // a URI parameter needs the URI in <>
        plan.insert_ref(at, alias);
        if (!c.name_addr) plan.insert_ref(u.whole.end(), ">");
    }
    ++sum.contacts;
}

// Returns by how many bytes its edits grow the body (negative: shrink), for Content-Length. Out of
// line: 6 instructions a packet fewer than inlined into the worker (perf/RESULTS.md, forty-first).
[[gnu::noinline]] int64_t plan_sdp(std::string_view buf, const sip::Sdp& sdp, const nat::Source& src, const SourceText& st, EditPlan& plan,
                 Summary& sum) noexcept {
    const PlanText ip = st.ip();
    int64_t growth = 0;
    const bool v6 = src.ip.is_v6();
    const PlanText family = v6 ? PlanText("IP6") : PlanText("IP4");
    for (uint8_t a = 0; a < sdp.addr_count; ++a) {
        const sip::SdpAddress& ad = sdp.addrs[a];
        // 0.0.0.0 means hold (RFC 3264 8.4) and multicast is nobody's NAT: both are kept.
        if (ad.ip.is_unspecified() || is_multicast(ad.ip)) continue;
        if (ad.ip.valid() && ad.ip == src.ip) continue;
        // An address is a literal only of the family its addrtype names (IP4 or IP6, any case).
        const std::string_view type = text(buf, ad.addrtype);
        const bool same_family = ad.ip.valid() ? ad.ip.is_v6() == v6 : v6 ? iequals_lit(type, "IP6") : iequals_lit(type, "IP4");
        if (!same_family) {
            plan.replace_ref(ad.addrtype, family);
            growth += static_cast<int64_t>(family.size()) - ad.addrtype.len;
        }
        plan.replace_ref(ad.addr, ip);
        growth += static_cast<int64_t>(ip.size()) - ad.addr.len;
        ++sum.sdp_addresses;
    }
    return growth;
}

// delta: by how much the body's edits (the SDP's: the only ones planned past the headers) grow it,
// summed by plan_sdp() as it plans them (walking the plan's edits back from the last for it cost
// ~25 instructions a message, ~55 with SDP). (Planning Content-Length before
// the SDP's edits, so that add() need not move its edit past theirs, measured worse: the SDP's
// edits then had to be decided in one pass and planned in another.)
void plan_content_length(std::string_view buf, const sip::MessageIndex& index, int64_t delta, EditPlan& plan,
                         Summary& sum) noexcept {
    const auto& cl = index.content_length;
    if (cl.status != sip::ContentLength::Status::ok) return;  // absent stays absent
    if (delta == 0) return;
    const uint64_t value = static_cast<uint64_t>(int64_t{cl.value} + delta);
    for (const sip::Header* hp = index.find(sip::HeaderId::content_length); hp; hp = index.next(*hp)) {
        const sip::Header& h = *hp;
        // Keep the writer's zero padding when the new value fits in it.
        const std::size_t width = text(buf, h.value).front() == '0' ? h.value.len : 0;
        if (width == 0 && value <= 0xffff) {
            // The usual value, unpadded and at most 65535 (a datagram's bytes): put_port()'s
            // decimal text, one store and no loop (std::to_chars took ~40 instructions).
            plan.replace_ref(h.value, SourceText::digits(plan, static_cast<uint16_t>(value)));
        } else {
            TextBuilder t;
            plan.replace(h.value, t.add_num(value, width).view());  // copied: t ends here
        }
        ++sum.content_lengths;
    }
}

}  // namespace

std::optional<Config> parse_rewrites(std::string_view list, std::string* error) {
    Config c;
    c.via = c.contact = c.sdp = false;
    bool any = false;
    const bool ok = for_each_item(list, [&](std::string_view item) {
        any = true;
        if (item == "via")
            c.via = true;
        else if (item == "contact")
            c.contact = true;
        else if (item == "sdp")
            c.sdp = true;
        else if (item != "none") {
            if (error) error->assign("unknown rewrite '").append(item).append("' (known: via, contact, sdp, none)");
            return false;
        }
        return true;
    });
    if (!ok) return std::nullopt;
    if (!any) {
        if (error) *error = "empty list of rewrites (use 'none' to turn them all off)";
        return std::nullopt;
    }
    return c;
}

std::optional<ContactMode> parse_contact_mode(std::string_view s) noexcept {
    if (s == "rewrite") return ContactMode::rewrite;
    if (s == "alias") return ContactMode::alias;
    return std::nullopt;
}

// An SDP's addresses past the kMaxAddrs its table holds (sdp.truncated): the rest of its body read
// on, a table at a time, each planned as the first. Rare (an SDP of 16 media with RTCP has 34),
// so off the usual path, with a table of its own on the stack. Returns what it adds to the body's
// length and to the count of addresses: a Summary& taken here would keep every count of the
// usual path in memory (its address escaped), where unread ones are left out.
struct SdpRest {
    int64_t growth = 0;
    uint16_t addresses = 0;
};
[[gnu::noinline, gnu::cold]] SdpRest plan_sdp_rest(std::string_view buf, sip::MaskView mv, Slice body, const sip::Sdp& first,
                                                    const nat::Source& src, const SourceText& st, EditPlan& plan) noexcept {
    Summary sum;
    SdpRest out;
    sip::each_sdp_rest(buf, mv, body, first,
                       [&](const sip::Sdp& rest) { out.growth += plan_sdp(buf, rest, src, st, plan, sum); });
    out.addresses = sum.sdp_addresses;
    return out;
}

void plan_rewrites(std::string_view buf, sip::MaskView mv, const sip::MessageIndex& index, const sip::MessageParts& parts,
                   const nat::Source& src, const Config& cfg, EditPlan& plan, Summary& sum) noexcept {
    SourceText st(src, plan);
    if (cfg.via && index.start.is_request && parts.has_top_via) plan_via(buf, parts.top_via, src, st, plan, sum);
    if (cfg.contact) {
        // A URI that names maddr or alias twice is ambiguous (which one counts?): rewriting one of
        // them would leave a message a second pass changes again. Such a Contact header is left
        // alone, like one that does not parse.
        bool ambiguous = false;
        for (uint8_t i = 0; i < parts.contact_count; ++i) ambiguous = ambiguous || parts.contacts[i].uri.duplicate_param;
        if (parts.contact_invalid || parts.contacts_truncated || ambiguous) {
            sum.contacts_skipped = parts.contact_count > 0 || parts.contacts_truncated;
        } else {
            for (uint8_t i = 0; i < parts.contact_count; ++i) {
                const sip::Contact& c = parts.contacts[i];
                if (c.star || (c.uri.scheme_id != sip::Scheme::sip && c.uri.scheme_id != sip::Scheme::sips) ||
                    c.uri.host.kind == sip::HostKind::none)
                    continue;
                plan_contact(buf, c, src, st, cfg.contact_mode, plan, sum);
            }
        }
    }
    int64_t body_growth = 0;
    if (cfg.sdp) {
        // Every SDP address or none. More SDP bodies than SdpBodies holds, a multipart body that
        // did not split (an SDP part may lie past where it broke) or nests deeper than farend
        // follows, or an encoded body: bodies farend did not read. Rewriting the others would
        // leave a message half rewritten that a second pass changes again; the SDP is left as
        // it came and the message counted, as a Contact is. An SDP with more addresses than its
        // table holds is read on (plan_sdp_rest): every address rewritten.
        const sip::SdpBodies& bodies = parts.sdp_bodies;
        if (bodies.truncated || bodies.encoded) [[unlikely]] {
            sum.sdp_skipped = true;
        } else {
            for (uint8_t b = 0; b < bodies.count; ++b) {
                body_growth += plan_sdp(buf, parts.sdp[b], src, st, plan, sum);
                if (parts.sdp[b].truncated) [[unlikely]] {
                    const SdpRest rest = plan_sdp_rest(buf, mv, bodies.bodies[b], parts.sdp[b], src, st, plan);
                    body_growth += rest.growth;
                    sum.sdp_addresses = static_cast<uint16_t>(sum.sdp_addresses + rest.addresses);
                }
            }
        }
    }
    plan_content_length(buf, index, body_growth, plan, sum);
}

}  // namespace farend::rewrite

namespace farend::rewrite {

std::optional<RuleAction> parse_rule_action(std::string_view s) noexcept {
    if (s == "auto") return RuleAction::auto_;
    if (s == "force") return RuleAction::force;
    if (s == "never") return RuleAction::never;
    if (s == "drop") return RuleAction::drop;
    return std::nullopt;
}

std::string_view rule_action_name(RuleAction a) noexcept {
    switch (a) {
        case RuleAction::auto_: return "auto";
        case RuleAction::force: return "force";
        case RuleAction::never: return "never";
        case RuleAction::drop: return "drop";
    }
    return "?";
}

}  // namespace farend::rewrite
