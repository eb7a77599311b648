#include <farend/rewrite/alias.hpp>
#include <farend/sip/uri.hpp>

#include <charconv>

namespace farend::rewrite {

bool parse_alias_value(std::string_view v, IpAddr& ip, uint16_t& port) noexcept {
    // The address may hold ':' (IPv6) but never '~'; the port and protocol follow.
    const std::size_t t1 = v.find('~');
    if (t1 == std::string_view::npos || t1 == 0) return false;
    const std::optional<IpAddr> a = IpAddr::parse(v.substr(0, t1));  // "[v6]" too
    if (!a) return false;
    const std::string_view rest = v.substr(t1 + 1);
    const std::size_t t2 = rest.find('~');
    const std::string_view p = rest.substr(0, t2);
    const std::string_view proto = t2 == std::string_view::npos ? std::string_view("1") : rest.substr(t2 + 1);
    unsigned n = 0;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
    if (ec != std::errc() || end != p.data() + p.size() || p.empty() || n == 0 || n > 65535) return false;
    if (proto != "1") return false;  // 2 TCP, 3 TLS, 4 SCTP, 5 WS, 6 WSS: not a UDP path
    ip = *a;
    port = static_cast<uint16_t>(n);
    return true;
}

AliasStatus find_ruri_alias(std::string_view buf, sip::MaskView mv, const sip::MessageIndex& index,
                            AliasTarget& out) noexcept {
    if (!index.complete() || !index.start.is_request || index.start.uri.empty()) return AliasStatus::none;
    // Cheap test first: most requests from the switch carry no alias at all.
    const std::string_view uri = text(buf, index.start.uri);
    bool any = false;  // parameter names are case-insensitive
    for (std::size_t i = 0; i + 5 <= uri.size() && !any; ++i) any = iequals(uri.substr(i, 5), "alias");
    if (!any) return AliasStatus::none;
    const sip::Uri u = sip::parse_uri(buf, mv, index.start.uri);
    if (!u.valid || (u.scheme_id != sip::Scheme::sip && u.scheme_id != sip::Scheme::sips) || !u.alias.present)
        return AliasStatus::none;
    if (u.duplicate_param || !u.alias.has_value || !parse_alias_value(text(buf, u.alias.value), out.ip, out.port)) return AliasStatus::bad;
    out.param = u.alias.whole;
    return AliasStatus::found;
}

}  // namespace farend::rewrite
