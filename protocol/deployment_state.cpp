#include "protocol/deployment_state.hpp"

namespace gilgal {

const char* to_string(deployment_status x) {
  switch (x) {
    case deployment_status::pending: return "pending";
    case deployment_status::building: return "building";
    case deployment_status::success: return "success";
    case deployment_status::failed: return "failed";
    case deployment_status::cancelled: return "cancelled";
  }
  return "invalid";
}

const char* to_string(deployment_kind x) {
  switch (x) {
    case deployment_kind::deploy: return "deploy";
    case deployment_kind::rollback: return "rollback";
    case deployment_kind::config: return "config";
  }
  return "invalid";
}

caf::optional<deployment_status> parse_deployment_status(const std::string& text) {
  for (auto x : all_deployment_statuses)
    if (text == to_string(x))
      return x;
  return caf::none;
}

caf::optional<deployment_kind> parse_deployment_kind(const std::string& text) {
  for (auto x : {deployment_kind::deploy, deployment_kind::rollback, deployment_kind::config})
    if (text == to_string(x))
      return x;
  return caf::none;
}

} // namespace gilgal
