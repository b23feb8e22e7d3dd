#include "protocol/error.hpp"

namespace gilgal {

caf::error make_error(errc code, std::string message) {
  return caf::error(static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(message)));
}

errc code_of(const caf::error& err) {
  if (err.category() != error_category)
    return errc::internal;
  return static_cast<errc>(err.code());
}

std::string message_of(const caf::error& err) {
  const auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  if (err.category() != error_category && err)
    return "internal error (" + caf::to_string(err.category()) + " "
           + std::to_string(err.code()) + ")";
  return {};
}

const char* to_string(errc code) {
  switch (code) {
    case errc::invalid_argument: return "invalid_argument";
    case errc::not_found: return "not_found";
    case errc::conflict: return "conflict";
    case errc::unauthorized: return "unauthorized";
    case errc::payload_too_large: return "payload_too_large";
    case errc::unavailable: return "unavailable";
    case errc::timeout: return "timeout";
    case errc::internal: return "internal";
    case errc::build_failed: return "build_failed";
    case errc::run_failed: return "run_failed";
    case errc::cancelled: return "cancelled";
    case errc::method_not_allowed: return "method_not_allowed";
    case errc::too_many_requests: return "too_many_requests";
  }
  return "internal";
}

} // namespace gilgal
