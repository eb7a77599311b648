// A canonical text description of everything the parsers find in a message: start line, each
// header, every Via and Contact value with their parts, Content-Length, SDP addresses. Used by
// the differential and fuzz tests (two parses are equal when their dumps are) and for debugging.
// Allocates: not for the packet path.
#pragma once

#include <farend/sip/message.hpp>

#include <string>
#include <string_view>

namespace farend::sip {

[[nodiscard]] std::string dump(std::string_view buf, MaskView mv, const MessageIndex& index);

struct Contact;
struct Sdp;
// The parts of dump() for values parsed already: one Contact header's values, one SDP body (for
// tests that compare two ways of parsing the same bytes).
[[nodiscard]] std::string dump_contacts(std::string_view buf, const Contact* c, std::size_t n);
[[nodiscard]] std::string dump_sdp(std::string_view buf, const Sdp& sdp);

}  // namespace farend::sip
