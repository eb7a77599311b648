// Header name <-> id, method token <-> id. The name lookup lives in header_table.hpp (the header
// index inlines it).
#include <farend/base/bytes.hpp>
#include <farend/base/slice.hpp>
#include <farend/sip/header_id.hpp>

#include "header_table.hpp"

namespace farend::sip {
HeaderId header_id(std::string_view name) noexcept { return detail::lookup_header(name); }

std::string_view header_name(HeaderId id) noexcept { return detail::kCanonical[static_cast<std::size_t>(id)]; }

// Methods are case-sensitive tokens: by length, then one or two word compares (same_bytes), instead
// of a string compare against each of the fourteen (a call each; one request line a message).
Method method_id(std::string_view t) noexcept {
    const auto is = [t](std::string_view m) { return same_bytes(t.data(), m.data(), m.size()); };
    switch (t.size()) {
        case 3: return is("ACK") ? Method::ack : is("BYE") ? Method::bye : Method::other;
        case 4: return is("INFO") ? Method::info : Method::other;
        case 5: return is("PRACK") ? Method::prack : is("REFER") ? Method::refer : Method::other;
        case 6:
            return is("INVITE")   ? Method::invite
                   : is("CANCEL") ? Method::cancel
                   : is("NOTIFY") ? Method::notify
                   : is("UPDATE") ? Method::update
                                  : Method::other;
        case 7:
            return is("OPTIONS")   ? Method::options
                   : is("PUBLISH") ? Method::publish
                   : is("MESSAGE") ? Method::message
                                   : Method::other;
        case 8: return is("REGISTER") ? Method::register_ : Method::other;
        case 9: return is("SUBSCRIBE") ? Method::subscribe : Method::other;
        default: return Method::other;
    }
}

}  // namespace farend::sip
