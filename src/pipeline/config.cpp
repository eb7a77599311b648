#include <farend/pipeline/config.hpp>

#include <sstream>

namespace farend::pipeline {

std::string Config::describe() const {
    std::ostringstream o;
    o << "port-pair =";
    for (const auto& p : port_pairs) o << ' ' << p.access << ':' << p.core;
    o << "\nsip-ports = ";
    for (std::size_t i = 0; i < sip_ports.size(); ++i) o << (i ? "," : "") << sip_ports[i];
    o << "\nnat-tests = " << nat::tests_to_string(rewrite.detect.tests);
    std::string rw;
    if (rewrite.rewrite.via) rw += "via,";
    if (rewrite.rewrite.contact) rw += "contact,";
    if (rewrite.rewrite.sdp) rw += "sdp,";
    o << "\nrewrite = " << (rw.empty() ? "none" : rw.substr(0, rw.size() - 1));
    o << "\ncontact-mode = " << (rewrite.rewrite.contact_mode == rewrite::ContactMode::alias ? "alias" : "rewrite");
    o << "\nprivate-ranges = " << rewrite.detect.private_ranges.to_string();
    o << "\nmalformed = " << (malformed == MalformedAction::drop ? "drop" : "pass");
    o << "\nchecksums = " << (verify_checksums ? "verify" : "ignore");
    o << "\nkeepalive-interval = " << keepalive_interval;
    o << "\nkeepalive-method = " << keepalive_method_name(keepalive_method);
    o << "\nexit-when-idle = " << exit_when_idle;
    o << "\nstats-json = " << stats_json;
    o << "\nmtu = " << mtu;
    o << "\nflow-capacity = " << flow_capacity;
    o << "\nmbufs = " << mbufs;
    o << "\nrules = " << cli_rules.size() + file_rules.size() << '\n';
    return o.str();
}

std::bitset<65536> Config::sip_port_set() const {
    std::bitset<65536> s;
    for (uint16_t p : sip_ports) s.set(p);
    return s;
}

}  // namespace farend::pipeline
