#include <farend/base/slice.hpp>
#include <farend/rules/rules.hpp>

#include <initializer_list>

namespace farend::rules {

namespace {

// Concatenation by append (GCC 12 warns falsely, -Wrestrict, on "literal" + std::string).
std::string cat(std::initializer_list<std::string_view> parts) {
    std::string s;
    for (std::string_view p : parts) s.append(p);
    return s;
}

// A domain as a rule may name it: labels of letters, digits, '-' and '_', optionally "*." first;
// IP literals are names too ("203.0.113.10", "[2001:db8::1]" as written in a URI).
bool valid_domain(std::string_view d) {
    if (is_wildcard(d)) d.remove_prefix(2);
    if (d.empty() || d.size() > 253) return false;
    if (d.front() == '[') return d.size() > 2 && d.back() == ']' && IpAddr::parse_v6(d.substr(1, d.size() - 2));
    if (d.front() == '.' || d.back() == '.' || d.find("..") != std::string_view::npos) return false;
    for (char c : d)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_')) return false;
    return true;
}

}  // namespace

std::optional<Spec> parse_rule(std::string_view text, std::size_t index, std::string* error) {
    Spec s;
    s.text = std::string(text);
    s.name = cat({"rule", std::to_string(index + 1)});
    bool any_match = false, any_set = false;
    std::size_t p = 0;
    auto fail = [&](const std::string& why) {
        *error = why;
        return std::nullopt;
    };
    while (p < text.size()) {
        while (p < text.size() && (text[p] == ' ' || text[p] == '\t')) ++p;
        if (p >= text.size()) break;
        std::size_t e = p;
        while (e < text.size() && text[e] != ' ' && text[e] != '\t') ++e;
        const std::string_view word = text.substr(p, e - p);
        p = e;
        const std::size_t eq = word.find('=');
        if (eq == std::string_view::npos || eq == 0 || eq + 1 == word.size())
            return fail(cat({"'", word, "' is not key=value"}));
        const std::string_view key = word.substr(0, eq), value = word.substr(eq + 1);
        std::string err;
        if (key == "name") {
            s.name = std::string(value);
        } else if (key == "source") {
            auto c = Cidr::parse(value);
            if (!c)
                return fail(cat({"source '", value, "' is not an address prefix (an address, '/' and a length, "
                                                    "with no host bits set: 10.0.0.0/8, 2001:db8::/32)"}));
            s.source = *c;
            any_match = true;
        } else if (key == "domain") {
            std::string d(value);
            for (char& c : d) c = ascii_lower(c);
            if (!valid_domain(d)) return fail(cat({"domain '", value, "' is not a name or *.name"}));
            s.domain = std::move(d);
            any_match = true;
        } else if (key == "action") {
            auto a = rewrite::parse_rule_action(value);
            if (!a) return fail(cat({"action '", value, "' is not auto, force, never or drop"}));
            s.action = *a;
            any_set = true;
        } else if (key == "nat-tests") {
            auto t = nat::parse_tests(value, &err);
            if (!t) return fail(cat({"nat-tests: ", err}));
            s.tests = *t;
            any_set = true;
        } else if (key == "rewrite") {
            auto r = rewrite::parse_rewrites(value, &err);
            if (!r) return fail(cat({"rewrite: ", err}));
            s.rewrites = *r;
            any_set = true;
        } else if (key == "contact-mode") {
            auto m = rewrite::parse_contact_mode(value);
            if (!m) return fail(cat({"contact-mode '", value, "' is neither rewrite nor alias"}));
            s.contact_mode = *m;
            any_set = true;
        } else {
            return fail(cat({"unknown key '", key, "' (name, source, domain, action, nat-tests, rewrite, contact-mode)"}));
        }
    }
    if (!any_match) return fail("matches nothing: give source=PREFIX and/or domain=NAME");
    if (!any_set) return fail("sets nothing: give action, nat-tests, rewrite or contact-mode");
    return s;
}

std::optional<std::vector<Spec>> parse_rules(const std::vector<std::string>& texts, std::string* error) {
    std::vector<Spec> out;
    out.reserve(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        std::string err;
        auto s = parse_rule(texts[i], i, &err);
        if (!s) {
            *error = cat({"rule ", std::to_string(i + 1), " ('", texts[i], "'): ", err});
            return std::nullopt;
        }
        out.push_back(std::move(*s));
    }
    return out;
}

}  // namespace farend::rules
