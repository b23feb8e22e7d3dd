// The deployment manager: supervisor of deployment actors. It spawns one per
// deployment at once (each waits, pending, for a build slot from the
// scheduler), monitors them, and cancels by making one exit with user_shutdown.
// At start (recover_atom) it ends deployments a crash left unfinished and
// removes containers that belong to no live deployment. When it is stopped
// itself, it interrupts its deployments (failed, "interrupted by server
// shutdown") and waits for them before it quits.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>

#include <caf/typed_event_based_actor.hpp>

#include "protocol/interfaces.hpp"

namespace gilgal {

struct deployment_manager_config {
  scheduler_actor cluster;
  logger_actor log;
  deployment_store_actor db;
  std::chrono::seconds build_timeout{1800};
  std::chrono::seconds run_timeout{300};
  int64_t image_retention = 5;
};

struct deployment_manager_state {
  deployment_manager_config cfg;
  std::unordered_map<std::string, deployment_actor> running; // by deployment id
  caf::error stopping; // set once the manager itself was told to exit
  static inline const char* name = "deployment_manager";
};

deployment_manager_actor::behavior_type
deployment_manager(deployment_manager_actor::stateful_pointer<deployment_manager_state> self,
                   deployment_manager_config cfg);

} // namespace gilgal
