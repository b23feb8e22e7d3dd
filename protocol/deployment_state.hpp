// A deployment's status and kind. Each has one text spelling, used in the
// database and in the API's JSON; in memory and in actor messages they are
// enums (serialised as their underlying integer).
#pragma once

#include <cstdint>
#include <string>

#include <caf/optional.hpp>

namespace gilgal {

/// Where a deployment is: pending -> building -> success | failed | cancelled.
enum class deployment_status : uint8_t { pending, building, success, failed, cancelled };

/// Every status, in the order above.
constexpr deployment_status all_deployment_statuses[] = {
  deployment_status::pending, deployment_status::building, deployment_status::success,
  deployment_status::failed, deployment_status::cancelled};

/// What a deployment does: build and run a commit (deploy), run an earlier
/// deployment's image again (rollback), or run the live image with the
/// environment's changed settings (config).
enum class deployment_kind : uint8_t { deploy, rollback, config };

/// The stored and wire spelling: "pending", "building", "success", "failed",
/// "cancelled".
const char* to_string(deployment_status x);

/// The stored and wire spelling: "deploy", "rollback", "config".
const char* to_string(deployment_kind x);

/// The status spelled `text` exactly (as to_string writes it); none otherwise.
caf::optional<deployment_status> parse_deployment_status(const std::string& text);

/// The kind spelled `text` exactly (as to_string writes it); none otherwise.
caf::optional<deployment_kind> parse_deployment_kind(const std::string& text);

/// True for success, failed and cancelled: the deployment has ended.
constexpr bool is_terminal(deployment_status x) {
  return x == deployment_status::success || x == deployment_status::failed
         || x == deployment_status::cancelled;
}

/// True if `x` holds one of the named values (an enum read from a message may
/// not: CAF loads the underlying integer as it is).
constexpr bool is_valid(deployment_status x) {
  return static_cast<uint8_t>(x) <= static_cast<uint8_t>(deployment_status::cancelled);
}

constexpr bool is_valid(deployment_kind x) {
  return static_cast<uint8_t>(x) <= static_cast<uint8_t>(deployment_kind::config);
}

} // namespace gilgal
