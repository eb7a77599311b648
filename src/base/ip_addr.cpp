#include <farend/base/ip_addr.hpp>
#include <farend/base/prefix_set.hpp>
#include <farend/base/slice.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

namespace farend {

namespace {

// Parses a dotted quad into out[0..3]; true on success. One pass, no look-back.
bool parse_quad(std::string_view s, uint8_t* out) noexcept {
    const char* p = s.data();
    const char* const end = p + s.size();
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (p == end || *p != '.') return false;
            ++p;
        }
        if (p == end || static_cast<unsigned>(*p - '0') > 9) return false;
        unsigned v = static_cast<unsigned>(*p++ - '0');
        if (p != end && static_cast<unsigned>(*p - '0') <= 9) {
            v = v * 10 + static_cast<unsigned>(*p++ - '0');
            if (p != end && static_cast<unsigned>(*p - '0') <= 9) {
                v = v * 10 + static_cast<unsigned>(*p++ - '0');
                if (p != end && static_cast<unsigned>(*p - '0') <= 9) return false;  // 4 digits
            }
        }
        if (v > 255) return false;
        out[part] = static_cast<uint8_t>(v);
    }
    return p == end;
}

int hexval(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<IpAddr> IpAddr::parse_v4(std::string_view s) noexcept {
    uint8_t b[4];
    if (!parse_quad(s, b)) return std::nullopt;
    return v4_bytes(std::span<const uint8_t, 4>(b, 4));
}

std::optional<IpAddr> IpAddr::parse_v6(std::string_view s) noexcept {
    // RFC 4291 2.2: up to 8 groups of 1-4 hex digits, one "::" for a run of zero groups,
    // the last 32 bits optionally as a dotted quad.
    if (s.size() < 2 || s.size() > 45) return std::nullopt;
    uint16_t groups[8] = {};
    int n = 0;
    int gap = -1;  // group index where "::" stands
    std::size_t i = 0;
    if (s[0] == ':') {
        if (s[1] != ':') return std::nullopt;
        gap = 0;
        i = 2;
        if (i == s.size()) return v6_bytes(std::span<const uint8_t, 16>(IpAddr{}.bytes_.data(), 16));
    }
    while (i < s.size()) {
        if (n == 8) return std::nullopt;
        // A dotted quad may end the address.
        std::size_t j = i;
        while (j < s.size() && hexval(s[j]) >= 0) ++j;
        if (j < s.size() && s[j] == '.') {
            if (n > 6) return std::nullopt;
            uint8_t q[4];
            if (!parse_quad(s.substr(i), q)) return std::nullopt;
            groups[n++] = static_cast<uint16_t>((q[0] << 8) | q[1]);
            groups[n++] = static_cast<uint16_t>((q[2] << 8) | q[3]);
            i = s.size();
            break;
        }
        if (j == i || j - i > 4) return std::nullopt;
        unsigned v = 0;
        for (std::size_t k = i; k < j; ++k) v = (v << 4) | static_cast<unsigned>(hexval(s[k]));
        groups[n++] = static_cast<uint16_t>(v);
        i = j;
        if (i == s.size()) break;
        if (s[i] != ':') return std::nullopt;
        ++i;
        if (i < s.size() && s[i] == ':') {
            if (gap >= 0) return std::nullopt;
            gap = n;
            ++i;
        } else if (i == s.size()) {
            return std::nullopt;  // trailing single ':'
        }
    }
    uint8_t b[16] = {};
    if (gap < 0) {
        if (n != 8) return std::nullopt;
        for (int k = 0; k < 8; ++k) {
            b[2 * k] = static_cast<uint8_t>(groups[k] >> 8);
            b[2 * k + 1] = static_cast<uint8_t>(groups[k]);
        }
    } else {
        if (n > 7) return std::nullopt;  // "::" must stand for at least one group
        int tail = n - gap;
        for (int k = 0; k < gap; ++k) {
            b[2 * k] = static_cast<uint8_t>(groups[k] >> 8);
            b[2 * k + 1] = static_cast<uint8_t>(groups[k]);
        }
        for (int k = 0; k < tail; ++k) {
            int dst = 8 - tail + k;
            b[2 * dst] = static_cast<uint8_t>(groups[gap + k] >> 8);
            b[2 * dst + 1] = static_cast<uint8_t>(groups[gap + k]);
        }
    }
    return v6_bytes(std::span<const uint8_t, 16>(b, 16));
}

std::optional<IpAddr> IpAddr::parse(std::string_view s) noexcept {
    if (s.size() >= 2 && s.front() == '[' && s.back() == ']') return parse_v6(s.substr(1, s.size() - 2));
    if (s.find(':') != std::string_view::npos) return parse_v6(s);
    return parse_v4(s);
}

namespace {
constexpr char* put_dec(char* p, unsigned v) noexcept {
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + (v / 10) % 10);
    *p++ = static_cast<char>('0' + v % 10);
    return p;
}
// The decimal text of each octet value: its digits in the low bytes, their count in the top one.
constexpr auto kOctetText = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t v = 0; v < 256; ++v) {
        char d[3];
        const uint32_t n = static_cast<uint32_t>(put_dec(d, v) - d);
        uint32_t w = n << 24;
        for (uint32_t k = 0; k < n; ++k) w |= uint32_t{static_cast<uint8_t>(d[k])} << (8 * k);
        t[v] = w;
    }
    return t;
}();

static_assert(std::endian::native == std::endian::little, "kOctetText's words are stored little-endian");

// Writes 4 bytes per octet (a digit or two of scratch after the shorter ones, overwritten by what
// follows or left past the text): at most 16 bytes for 15 of text.
char* put_quad(char* p, const uint8_t* b) noexcept {
    for (int k = 0; k < 4; ++k) {
        const uint32_t w = kOctetText[b[k]];
        std::memcpy(p, &w, 4);  // little-endian: the digits first
        p += w >> 24;
        if (k < 3) *p++ = '.';
    }
    return p;
}
}  // namespace

std::size_t IpAddr::format(char* out) const noexcept {
    char* p = out;
    if (family_ == Family::v4) return static_cast<std::size_t>(put_quad(p, bytes_.data()) - out);
    if (family_ != Family::v6) return 0;
    uint16_t g[8];
    for (int k = 0; k < 8; ++k) g[k] = static_cast<uint16_t>((bytes_[2 * k] << 8) | bytes_[2 * k + 1]);
    // RFC 5952 5: IPv4-mapped addresses keep the dotted quad.
    if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff) {
        std::memcpy(p, "::ffff:", 7);
        return static_cast<std::size_t>(put_quad(p + 7, bytes_.data() + 12) - out);
    }
    // RFC 5952 4.2: the longest run of two or more zero groups (first on a tie) becomes "::".
    int best = -1, best_len = 1;
    for (int k = 0; k < 8;) {
        if (g[k] != 0) {
            ++k;
            continue;
        }
        int e = k;
        while (e < 8 && g[e] == 0) ++e;
        if (e - k > best_len) {
            best = k;
            best_len = e - k;
        }
        k = e;
    }
    static constexpr char hex[] = "0123456789abcdef";
    for (int k = 0; k < 8; ++k) {
        if (k == best) {
            *p++ = ':';
            *p++ = ':';
            k += best_len - 1;
            continue;
        }
        if (k > 0 && k != best + best_len) *p++ = ':';
        unsigned v = g[k];
        bool started = false;
        for (int sh = 12; sh >= 0; sh -= 4) {
            unsigned d = (v >> sh) & 0xf;
            if (d || started || sh == 0) {
                *p++ = hex[d];
                started = true;
            }
        }
    }
    return static_cast<std::size_t>(p - out);
}

std::string IpAddr::to_string() const {
    char buf[kMaxText];
    return std::string(buf, format(buf));
}

std::optional<Cidr> Cidr::parse(std::string_view s) noexcept {
    auto slash = s.find('/');
    auto ip = IpAddr::parse(s.substr(0, slash));
    if (!ip) return std::nullopt;
    unsigned max = ip->is_v4() ? 32 : 128;
    unsigned len = max;
    if (slash != std::string_view::npos) {
        auto d = s.substr(slash + 1);
        if (d.empty() || d.size() > 3) return std::nullopt;
        len = 0;
        for (char c : d) {
            if (c < '0' || c > '9') return std::nullopt;
            len = len * 10 + static_cast<unsigned>(c - '0');
        }
        if (len > max) return std::nullopt;
    }
    Cidr c{*ip, static_cast<uint8_t>(len)};
    // Host bits set ("10.1.0.0/8") is almost always a typo for a different prefix: refuse it.
    const auto& b = ip->bytes();
    for (unsigned bit = len; bit < max; ++bit)
        if (b[bit / 8] & (0x80u >> (bit % 8))) return std::nullopt;
    return c;
}

bool Cidr::contains(const IpAddr& ip) const noexcept {
    if (ip.family() != net.family()) return false;
    const auto& a = ip.bytes();
    const auto& b = net.bytes();
    unsigned full = len / 8;
    if (std::memcmp(a.data(), b.data(), full) != 0) return false;
    unsigned rem = len % 8;
    if (rem == 0) return true;
    uint8_t mask = static_cast<uint8_t>(0xff00u >> rem);
    return (a[full] & mask) == (b[full] & mask);
}

std::string Cidr::to_string() const { return net.to_string() + "/" + std::to_string(len); }

// ---- PrefixSet ----

namespace {
uint64_t load_be64(const uint8_t* p) noexcept {
    uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v = (v << 8) | p[k];
    return v;
}
uint64_t prefix_mask(unsigned bits) noexcept { return bits == 0 ? 0 : (bits >= 64 ? ~0ull : ~0ull << (64 - bits)); }
}  // namespace

PrefixSet PrefixSet::private_defaults() {
    PrefixSet s;
    for (const char* p : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "192.0.0.0/24",
                          "169.254.0.0/16", "fc00::/7", "fe80::/10"})
        s.add(*Cidr::parse(p));
    return s;
}

std::optional<PrefixSet> PrefixSet::parse(std::string_view list, std::string* error) {
    PrefixSet s;
    const bool ok = for_each_item(list, [&](std::string_view item) {
        if (item == "default") {
            const PrefixSet defaults = private_defaults();
            for (const auto& c : defaults.prefixes()) s.add(c);
            return true;
        }
        auto c = Cidr::parse(item);
        if (!c) {
            if (error) {
                // (built with append: GCC 12 warns falsely on "'" + std::string, PR 105329)
                error->assign(1, '\'').append(item).append("' is not an address prefix such as 10.0.0.0/8 or fc00::/7");
            }
            return false;
        }
        if (!s.add(*c)) {
            if (error) *error = "more than " + std::to_string(kMax) + " prefixes";
            return false;
        }
        return true;
    });
    if (!ok) return std::nullopt;
    return s;
}

bool PrefixSet::add(const Cidr& c) {
    if (prefixes_.size() >= kMax) return false;
    prefixes_.push_back(c);
    const auto& b = c.net.bytes();
    unsigned bits = c.len;
    if (c.net.is_v4()) {
        // The octet table anew from the IPv4 prefixes (a configuration's few, once): each octet's
        // prefixes in the order they were added.
        std::vector<Masked4> v4;
        for (const Cidr& p : prefixes_) {
            if (!p.net.is_v4()) continue;
            const unsigned len = std::min<unsigned>(p.len, 32);
            const uint32_t mask = len ? ~uint32_t{0} << (32 - len) : 0;
            v4.push_back(Masked4{p.net.v4_host_order() & mask, mask});
        }
        by_octet_.clear();
        for (uint32_t o = 0; o < 256; ++o) {
            octet_[o] = static_cast<uint32_t>(by_octet_.size());
            for (const Masked4& m : v4)
                if (((o << 24) & m.mask) == (m.net & 0xff000000u)) by_octet_.push_back(m);
        }
        octet_[256] = static_cast<uint32_t>(by_octet_.size());
    } else {
        masked6_.push_back(Masked6{load_be64(b.data()), load_be64(b.data() + 8), prefix_mask(std::min(bits, 64u)),
                                   prefix_mask(bits > 64 ? bits - 64 : 0)});
    }
    return true;
}

bool PrefixSet::contains(const IpAddr& ip) const noexcept {
    if (ip.is_v4()) {
        const uint32_t a = ip.v4_host_order();
        const Masked4* const m = by_octet_.data();
        for (uint32_t i = octet_[a >> 24], end = octet_[(a >> 24) + 1]; i < end; ++i)
            if ((a & m[i].mask) == m[i].net) return true;
        return false;
    }
    if (!ip.is_v6()) return false;
    const auto& b = ip.bytes();
    const uint64_t hi = load_be64(b.data()), lo = load_be64(b.data() + 8);
    for (const auto& m : masked6_)
        if ((hi & m.mask_hi) == m.hi && (lo & m.mask_lo) == m.lo) return true;
    return false;
}

std::string PrefixSet::to_string() const {
    std::string out;
    for (const auto& c : prefixes_) {
        if (!out.empty()) out += ',';
        out += c.to_string();
    }
    return out;
}

}  // namespace farend
