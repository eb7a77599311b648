#pragma once
// Every field of a parsed Via or Contact as text, for tests that hold two ways of reading the same
// bytes (a fast path and the general one) to the same result: they agree when these do.

#include <farend/sip/contact.hpp>
#include <farend/sip/via.hpp>

#include <random>
#include <string>

namespace farend::test {

namespace fields_detail {

inline void slice(std::string& s, const char* name, Slice x) {
    s += std::string(" ") + name + "=" + std::to_string(x.off) + "+" + std::to_string(x.len);
}

inline void param(std::string& s, const char* name, const sip::Param& p) {
    s += std::string(" ") + name + (p.present ? ":present" : ":absent") + (p.has_value ? ":value" : "");
    slice(s, "whole", p.whole);
    slice(s, "name", p.name);
    slice(s, "value", p.value);
}

inline void hostport(std::string& s, const sip::HostPort& h) {
    slice(s, "host", h.host);
    slice(s, "port", h.port);
    s += " ip=" + h.ip.to_string() + " family=" + std::to_string(static_cast<int>(h.ip.family())) +
         " port_num=" + std::to_string(h.port_num) + " kind=" + std::to_string(static_cast<int>(h.kind)) +
         (h.bracketed ? " bracketed" : "");
}

}  // namespace fields_detail

inline std::string all_fields(const sip::Via& v) {
    using namespace fields_detail;
    std::string s = v.valid ? "valid" : "invalid";
    slice(s, "value", v.value);
    slice(s, "protocol", v.protocol);
    slice(s, "version", v.version);
    slice(s, "transport", v.transport);
    hostport(s, v.sent_by);
    slice(s, "params", v.params);
    param(s, "branch", v.branch);
    param(s, "received", v.received);
    param(s, "rport", v.rport);
    param(s, "maddr", v.maddr);
    param(s, "ttl", v.ttl);
    s += " count=" + std::to_string(v.param_count);
    return s;
}

inline std::string all_fields(const sip::Uri& u) {
    using namespace fields_detail;
    std::string s = u.valid ? "uri:valid" : "uri:invalid";
    slice(s, "whole", u.whole);
    slice(s, "scheme", u.scheme);
    s += " scheme_id=" + std::to_string(static_cast<int>(u.scheme_id));
    slice(s, "user", u.user);
    hostport(s, u.host);
    slice(s, "params", u.params);
    slice(s, "headers", u.headers);
    param(s, "maddr", u.maddr);
    param(s, "transport", u.transport);
    param(s, "alias", u.alias);
    param(s, "lr", u.lr);
    s += " count=" + std::to_string(u.param_count) + (u.duplicate_param ? " duplicate" : "");
    return s;
}

inline std::string all_fields(const sip::Contact& c) {
    using namespace fields_detail;
    std::string s = c.valid ? "valid" : "invalid";
    s += c.star ? " star" : "";
    s += c.name_addr ? " name-addr" : "";
    slice(s, "value", c.value);
    slice(s, "display", c.display);
    slice(s, "params", c.params);
    param(s, "expires", c.expires);
    param(s, "q", c.q);
    s += " count=" + std::to_string(c.param_count) + " " + all_fields(c.uri);
    return s;
}

// s with 1-3 random edits: a byte of `bytes` put in place of one or inserted, 1-3 bytes erased,
// or the rest cut off. For the near misses of a fast path's usual spellings.
inline std::string mutate(std::string s, std::mt19937_64& rng, const std::string& bytes) {
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !s.empty(); ++e) {
        const size_t at = rng() % s.size();
        switch (rng() % 4) {
            case 0: s[at] = bytes[rng() % bytes.size()]; break;
            case 1: s.insert(s.begin() + static_cast<long>(at), bytes[rng() % bytes.size()]); break;
            case 2: s.erase(at, 1 + rng() % 3); break;
            case 3: s.resize(at); break;
        }
    }
    return s;
}

}  // namespace farend::test
