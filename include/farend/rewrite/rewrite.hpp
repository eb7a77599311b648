// The NAT rewrites of the design, planned as edits on one message: top Via received/rport,
// Contact (rewrite or alias mode), SDP addresses, Content-Length. Planning reads the parsed parts
// only; EditPlan::apply changes the bytes.
#pragma once

#include <farend/nat/detect.hpp>
#include <farend/rewrite/edit_plan.hpp>
#include <farend/sip/parts.hpp>

#include <optional>
#include <string>

namespace farend::rewrite {

enum class ContactMode : uint8_t { rewrite, alias };

struct Config {
    bool via = true;
    bool contact = true;
    bool sdp = true;
    ContactMode contact_mode = ContactMode::rewrite;
};

// "via,contact,sdp" (any subset), "none". nullopt and a message naming the bad entry on error.
[[nodiscard]] std::optional<Config> parse_rewrites(std::string_view list, std::string* error);
[[nodiscard]] std::optional<ContactMode> parse_contact_mode(std::string_view s) noexcept;

// What a plan does, for counters and logs.
struct Summary {
    uint8_t via_params = 0;          // received/rport added or corrected
    uint8_t contacts = 0;            // Contact URIs rewritten or aliased
    uint16_t sdp_addresses = 0;      // o=/c=/a=rtcp addresses replaced
    uint8_t content_lengths = 0;     // Content-Length values corrected
    bool contacts_skipped = false;   // Contact left alone: a value did not parse, or too many
    bool sdp_skipped = false;        // SDP left alone: not all of its bodies could be read (see plan_rewrites)
};

// Adds to plan the edits that make the message reach `source`. Call only for a complete message
// whose parts were extracted (with SDP when config.sdp is set); mv are the masks of buf it was
// parsed with (an SDP with more addresses than sip::Sdp holds is read on from them). Adds nothing
// when the message already says what it should. The edits' texts are in the plan's scratch, which
// the next plan_rewrites() into the same plan writes again: apply the plan first.
void plan_rewrites(std::string_view buf, sip::MaskView mv, const sip::MessageIndex& index, const sip::MessageParts& parts,
                   const nat::Source& source, const Config& config, EditPlan& plan, Summary& summary) noexcept;

}  // namespace farend::rewrite
