// The one mapping from Gilgal's errors to HTTP: status codes and the error body
// {"error":{"code":"…","message":"…"}}. Internal errors are logged here and
// answered with a generic message, so no detail of ours leaks to clients.
#pragma once

#include <string>

#include <caf/error.hpp>
#include <httplib.h>

#include "protocol/error.hpp"

namespace gilgal {

/// The HTTP status for `code` (invalid_argument 400, unauthorized 401,
/// not_found 404, method_not_allowed 405, conflict 409, payload_too_large 413,
/// too_many_requests 429, internal 500, unavailable 503, timeout 504, ...).
int http_status_of(errc code);

/// The errc an HTTP error status stands for (inverse of http_status_of for the
/// statuses httplib produces on its own: 400, 404, 413, 414, 500, ...).
errc errc_of_http_status(int status);

/// Writes `err` as the JSON error response (status, body, content type).
/// Errors outside our category count as errc::internal.
void write_error(httplib::Response& res, const caf::error& err);

/// Writes an error response with `code` and `message`.
void write_error(httplib::Response& res, errc code, const std::string& message);

} // namespace gilgal
