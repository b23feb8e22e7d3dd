// The deployment manager: supervisor of deployment actors. It spawns one per
// deployment (each waits, pending, for a build slot from the scheduler),
// monitors them, and cancels by making one exit with user_shutdown. One
// deployment of an environment runs at a time: later ones wait, in order,
// for it to end (as Coolify does), so the newest deployment is the one left
// running and no deployment retires a newer one's container.
// At start (recover_atom) it ends deployments a crash left unfinished and
// removes containers that belong to no live deployment. When it is stopped
// itself, it interrupts its deployments (failed, "interrupted by server
// shutdown") and waits for them before it quits.
#pragma once

#include <chrono>
#include <deque>
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

/// A deployment waiting for the one in progress in its environment.
struct waiting_deployment {
  deployment record;
  project source;
  environment target;
};

/// A deployment whose actor runs.
struct running_deployment {
  deployment_actor actor;
  std::string environment_id;
};

struct deployment_manager_state {
  deployment_manager_config cfg;
  std::unordered_map<std::string, running_deployment> running; // by deployment id
  std::unordered_map<std::string, std::string> busy;          // environment -> deployment in progress
  std::unordered_map<std::string, std::deque<waiting_deployment>> waiting; // by environment
  caf::error stopping; // set once the manager itself was told to exit
  static inline const char* name = "deployment_manager";
};

deployment_manager_actor::behavior_type
deployment_manager(deployment_manager_actor::stateful_pointer<deployment_manager_state> self,
                   deployment_manager_config cfg);

} // namespace gilgal
