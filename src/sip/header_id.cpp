#include <farend/base/slice.hpp>
#include <farend/sip/header_id.hpp>

#include <array>

namespace farend::sip {
namespace {

struct Name {
    std::string_view text;
    HeaderId id;
};

constexpr Name kFull[] = {
    {"via", HeaderId::via},
    {"from", HeaderId::from},
    {"to", HeaderId::to},
    {"call-id", HeaderId::call_id},
    {"cseq", HeaderId::cseq},
    {"contact", HeaderId::contact},
    {"content-length", HeaderId::content_length},
    {"content-type", HeaderId::content_type},
    {"content-encoding", HeaderId::content_encoding},
    {"supported", HeaderId::supported},
    {"subject", HeaderId::subject},
    {"event", HeaderId::event},
    {"refer-to", HeaderId::refer_to},
    {"allow-events", HeaderId::allow_events},
    {"referred-by", HeaderId::referred_by},
    {"session-expires", HeaderId::session_expires},
    {"accept-contact", HeaderId::accept_contact},
    {"reject-contact", HeaderId::reject_contact},
    {"request-disposition", HeaderId::request_disposition},
    {"identity", HeaderId::identity},
    {"identity-info", HeaderId::identity_info},
    {"max-forwards", HeaderId::max_forwards},
    {"route", HeaderId::route},
    {"record-route", HeaderId::record_route},
    {"expires", HeaderId::expires},
    {"content-disposition", HeaderId::content_disposition},
    {"mime-version", HeaderId::mime_version},
};

constexpr std::array<HeaderId, 26> make_compact() {
    std::array<HeaderId, 26> t{};
    t['v' - 'a'] = HeaderId::via;
    t['f' - 'a'] = HeaderId::from;
    t['t' - 'a'] = HeaderId::to;
    t['i' - 'a'] = HeaderId::call_id;
    t['m' - 'a'] = HeaderId::contact;
    t['l' - 'a'] = HeaderId::content_length;
    t['c' - 'a'] = HeaderId::content_type;
    t['e' - 'a'] = HeaderId::content_encoding;
    t['k' - 'a'] = HeaderId::supported;
    t['s' - 'a'] = HeaderId::subject;
    t['o' - 'a'] = HeaderId::event;
    t['r' - 'a'] = HeaderId::refer_to;
    t['u' - 'a'] = HeaderId::allow_events;
    t['b' - 'a'] = HeaderId::referred_by;
    t['x' - 'a'] = HeaderId::session_expires;
    t['a' - 'a'] = HeaderId::accept_contact;
    t['j' - 'a'] = HeaderId::reject_contact;
    t['d' - 'a'] = HeaderId::request_disposition;
    t['y' - 'a'] = HeaderId::identity;
    t['n' - 'a'] = HeaderId::identity_info;
    return t;
}
constexpr auto kCompact = make_compact();

}  // namespace

HeaderId header_id(std::string_view name) noexcept {
    if (name.size() == 1) {
        char c = ascii_lower(name[0]);
        return (c >= 'a' && c <= 'z') ? kCompact[static_cast<unsigned>(c - 'a')] : HeaderId::other;
    }
    // Few names share a length and first letter, so this touches one or two entries.
    const char first = ascii_lower(name.empty() ? '\0' : name[0]);
    for (const Name& n : kFull)
        if (n.text.size() == name.size() && n.text[0] == first && iequals(n.text, name)) return n.id;
    return HeaderId::other;
}

std::string_view header_name(HeaderId id) noexcept {
    static constexpr std::string_view kCanonical[] = {
        "", "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Length", "Content-Type",
        "Content-Encoding", "Supported", "Subject", "Event", "Refer-To", "Allow-Events", "Referred-By",
        "Session-Expires", "Accept-Contact", "Reject-Contact", "Request-Disposition", "Identity", "Identity-Info",
        "Max-Forwards", "Route", "Record-Route", "Expires", "Content-Disposition", "MIME-Version"};
    static_assert(std::size(kCanonical) == kHeaderIdCount);
    return kCanonical[static_cast<std::size_t>(id)];
}

namespace {
constexpr std::string_view kMethods[] = {"",       "INVITE",    "ACK",    "BYE",     "CANCEL",
                                         "REGISTER", "OPTIONS", "PRACK",  "SUBSCRIBE", "NOTIFY",
                                         "PUBLISH", "INFO",      "REFER",  "MESSAGE", "UPDATE"};
}

Method method_id(std::string_view token) noexcept {
    for (std::size_t i = 1; i < std::size(kMethods); ++i)
        if (kMethods[i] == token) return static_cast<Method>(i);
    return Method::other;
}

std::string_view method_name(Method m) noexcept { return kMethods[static_cast<std::size_t>(m)]; }

}  // namespace farend::sip
