// Header name -> id. A message has ~12 header lines and this runs for each, so it is one hash
// probe plus one word-wise compare: ~5 ns per name instead of a scan over every known name.
#include <farend/base/slice.hpp>
#include <farend/sip/header_id.hpp>

#include <array>
#include <cstring>

namespace farend::sip {
namespace {

constexpr std::string_view kCanonical[] = {
    "",
    "Via",
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Contact",
    "Content-Length",
    "Content-Type",
    "Content-Encoding",
    "Supported",
    "Subject",
    "Event",
    "Refer-To",
    "Allow-Events",
    "Referred-By",
    "Session-Expires",
    "Accept-Contact",
    "Reject-Contact",
    "Request-Disposition",
    "Identity",
    "Identity-Info",
    "Max-Forwards",
    "Route",
    "Record-Route",
    "Expires",
    "Content-Disposition",
    "MIME-Version",
    "Allow",
    "User-Agent",
    "Server",
    "Accept",
    "Date",
    "Authorization",
    "Proxy-Authorization",
    "WWW-Authenticate",
    "Proxy-Authenticate",
    "Require",
    "Proxy-Require",
    "P-Asserted-Identity",
    "Path",
};
static_assert(std::size(kCanonical) == kHeaderIdCount);

constexpr std::size_t kMaxName = 24;

// Per known name: its bytes with every letter lower-cased and bit 0x20 set, and a mask with
// 0x20 at letter positions. A candidate matches when (byte | mask) == lower for every byte,
// which is a case-insensitive compare that still tells '-' (0x2d) from CR (0x0d).
struct Pattern {
    std::array<char, kMaxName> lower{};
    std::array<char, kMaxName> mask{};
    uint8_t len = 0;
};

constexpr char lower_of(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

constexpr std::array<Pattern, kHeaderIdCount> make_patterns() {
    std::array<Pattern, kHeaderIdCount> out{};
    for (std::size_t i = 1; i < kHeaderIdCount; ++i) {
        const auto name = kCanonical[i];
        out[i].len = static_cast<uint8_t>(name.size());
        for (std::size_t k = 0; k < name.size(); ++k) {
            const char c = lower_of(name[k]);
            out[i].lower[k] = c;
            out[i].mask[k] = (c >= 'a' && c <= 'z') ? 0x20 : 0;
        }
    }
    return out;
}
constexpr auto kPatterns = make_patterns();

// Bucket = f(length, first letter, last letter): a perfect hash of the known names (found by
// search; make_table fails the build if a name added later collides with two others).
constexpr unsigned bucket(std::size_t len, char first, char last) {
    return static_cast<unsigned>((len + static_cast<unsigned char>(first | 0x20) * 5u +
                                  static_cast<unsigned char>(last | 0x20) * 18u) & 127u);
}

using Table = std::array<std::array<uint8_t, 2>, 128>;
constexpr Table make_table() {
    Table t{};
    for (std::size_t i = 1; i < kHeaderIdCount; ++i) {
        const auto name = kCanonical[i];
        auto& b = t[bucket(name.size(), name.front(), name.back())];
        if (b[0] == 0)
            b[0] = static_cast<uint8_t>(i);
        else if (b[1] == 0)
            b[1] = static_cast<uint8_t>(i);
        else
            throw "header name hash: more than two names in one bucket";  // fails the build
    }
    return t;
}
constexpr Table kTable = make_table();

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

inline uint64_t load8(const char* p) noexcept {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
inline uint32_t load4(const char* p) noexcept {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// Reads only name[0 .. n-1]: overlapping 8- or 4-byte loads cover the tail.
bool matches(const char* name, std::size_t n, const Pattern& pat) noexcept {
    if (n != pat.len) return false;
    const char* lo = pat.lower.data();
    const char* mk = pat.mask.data();
    if (n >= 8) {
        for (std::size_t i = 0; i + 8 <= n; i += 8)
            if ((load8(name + i) | load8(mk + i)) != load8(lo + i)) return false;
        return (load8(name + n - 8) | load8(mk + n - 8)) == load8(lo + n - 8);
    }
    if (n >= 4)
        return (load4(name) | load4(mk)) == load4(lo) && (load4(name + n - 4) | load4(mk + n - 4)) == load4(lo + n - 4);
    for (std::size_t i = 0; i < n; ++i)
        if ((name[i] | mk[i]) != lo[i]) return false;
    return true;
}

}  // namespace

HeaderId header_id(std::string_view name) noexcept {
    const std::size_t n = name.size();
    if (n == 1) {
        const char c = ascii_lower(name[0]);
        return (c >= 'a' && c <= 'z') ? kCompact[static_cast<unsigned>(c - 'a')] : HeaderId::other;
    }
    if (n < 2 || n > kMaxName) return HeaderId::other;
    const auto& b = kTable[bucket(n, name.front(), name.back())];
    for (uint8_t i : b)
        if (i != 0 && matches(name.data(), n, kPatterns[i])) return static_cast<HeaderId>(i);
    return HeaderId::other;
}

std::string_view header_name(HeaderId id) noexcept { return kCanonical[static_cast<std::size_t>(id)]; }

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
