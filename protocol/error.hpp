// The one error enum of Gilgal. Every module boundary returns caf::expected<T>
// or caf::error built with gilgal::make_error; the HTTP edge derives the status
// code from the enum in one place (http/http_status.hpp).
#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace gilgal {

enum class errc : uint8_t {
  invalid_argument = 1, // client sent a bad value; the message names the field
  not_found,            // missing, soft-deleted, or owned by someone else
  conflict,             // state forbids the operation (duplicate name, finished deployment)
  unauthorized,         // missing or bad credentials
  payload_too_large,    // request body over the limit
  unavailable,          // a dependency (database, Docker, git remote) is unreachable
  timeout,              // an operation did not finish within its deadline
  internal,             // a bug or an unexpected failure of ours
  build_failed,         // the image could not be built
  run_failed,           // the container could not be started or never became healthy
  cancelled,            // the work was cancelled by a user
  method_not_allowed,   // route exists, method does not
  too_many_requests,    // a per-user or server-wide limit is reached; retry later
};

/// The category atom of Gilgal's errors inside caf::error.
constexpr caf::atom_value error_category = caf::atom("gilgal");

/// Builds an error of our category carrying a human-readable message.
caf::error make_error(errc code, std::string message);

/// Our enum, or errc::internal when `err` is of another category.
errc code_of(const caf::error& err);

/// The human-readable message stored by make_error (empty if none).
std::string message_of(const caf::error& err);

/// A stable snake_case name: "invalid_argument", "not_found", ...
const char* to_string(errc code);

} // namespace gilgal
