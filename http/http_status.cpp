#include "http/http_status.hpp"

#include <spdlog/spdlog.h>

#include "protocol/json.hpp"

namespace gilgal {

int http_status_of(errc code) {
  switch (code) {
    case errc::invalid_argument: return 400;
    case errc::unauthorized: return 401;
    case errc::not_found: return 404;
    case errc::method_not_allowed: return 405;
    case errc::conflict: return 409;
    case errc::cancelled: return 409;
    case errc::payload_too_large: return 413;
    case errc::too_many_requests: return 429;
    case errc::build_failed: return 422;
    case errc::run_failed: return 422;
    case errc::internal: return 500;
    case errc::unavailable: return 503;
    case errc::timeout: return 504;
  }
  return 500;
}

errc errc_of_http_status(int status) {
  switch (status) {
    case 401: return errc::unauthorized;
    case 404: return errc::not_found;
    case 405: return errc::method_not_allowed;
    case 409: return errc::conflict;
    case 413: return errc::payload_too_large;
    case 429: return errc::too_many_requests;
    case 503: return errc::unavailable;
    case 504: return errc::timeout;
    default: return status >= 400 && status < 500 ? errc::invalid_argument : errc::internal;
  }
}

void write_error(httplib::Response& res, errc code, const std::string& message) {
  auto text = message;
  if (code == errc::internal) {
    spdlog::error("internal error: {}", message);
    text = "internal server error";
  }
  res.status = http_status_of(code);
  // Messages may echo client text: replace invalid UTF-8 instead of throwing.
  res.set_content(error_json(to_string(code), text)
                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void write_error(httplib::Response& res, const caf::error& err) {
  write_error(res, code_of(err), message_of(err));
}

} // namespace gilgal
