// The deployment manager: supervisor of deployment actors. It spawns one per
// deployment, monitors it, and cancels by making it exit with user_shutdown.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>

#include <caf/typed_event_based_actor.hpp>

#include "protocol/interfaces.hpp"

namespace gilgal {

struct deployment_manager_config {
  node_actor node;
  logger_actor log;
  deployment_store_actor db;
  std::chrono::seconds build_timeout{1800};
  std::chrono::seconds run_timeout{300};
};

struct deployment_manager_state {
  deployment_manager_config cfg;
  std::unordered_map<std::string, deployment_actor> running; // by deployment id
  static inline const char* name = "deployment_manager";
};

deployment_manager_actor::behavior_type
deployment_manager(deployment_manager_actor::stateful_pointer<deployment_manager_state> self,
                   deployment_manager_config cfg);

} // namespace gilgal
