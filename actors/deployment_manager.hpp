// The deployment manager: supervisor of deployment actors. It spawns one per
// deployment as soon as it is handed one, monitors them, and forwards cancels
// to them. One deployment of an environment runs at a time: later ones wait,
// in order, for it to end (as Coolify does), so the newest deployment is the
// one left running and no deployment retires a newer one's container.
// It tells the notifier (if any) when a deployment starts and, with the final
// record its actor stored, when it ends: notifications never read a record
// that may still change, and nothing polls. It tells the environment events
// hub (if any) when a deployment went live (its success record is stored)
// and when a deleted environment's containers are gone.
// It writes no deployment record: each actor writes its own, also when it
// ends while queued, interrupted or recovered. Waits are answered from the
// final record each actor reports, or by the down handler if one dies
// without reporting.
// It also owns each environment's run state: a stop, start or restart of the
// live container holds the environment like a deployment does (busy, with
// an "action:NAME" marker), so actions and deployments never overlap, and
// deleting an environment ends its deployments before its containers go.
// At start (recover_atom) it ends deployments a crash left unfinished (an
// actor for each, interrupted at once) and removes containers that belong to
// no live deployment. When it is stopped itself, it interrupts its
// deployments (failed, "interrupted by server shutdown") and waits for them
// before it quits.
#pragma once

#include <chrono>
#include <deque>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "protocol/interfaces.hpp"

namespace gilgal {

struct deployment_manager_config {
  scheduler_actor scheduler;
  logger_actor log;
  deployment_store_actor db;
  router_actor router; // the proxy's router, when one is configured
  notifier_actor notifier; // told when a deployment starts and ends, when one runs
  environment_events_actor events; // told when a deployment goes live and when an environment goes
  std::chrono::seconds build_timeout{1800};
  std::chrono::seconds run_timeout{300};
  int64_t image_retention = 5;
};

/// A deployment whose actor lives (queued, running, or ending).
struct managed_deployment {
  deployment_actor actor;
  std::string environment_id;
  bool reported = false;  // its final record arrived
  deployment final_record;
  std::vector<caf::typed_response_promise<deployment>> waiters;
  deployment record; // as handed over (for the "started" notification)
};

/// A lifecycle action waiting for its environment's deployment actor to quit
/// (the deployment has ended; its actor retires the previous container).
struct held_action {
  environment target;
  std::string action;
  caf::typed_response_promise<environment_state> promise;
};

struct deployment_manager_state {
  deployment_manager_config cfg;
  std::unordered_map<std::string, managed_deployment> deployments; // by deployment id
  std::unordered_map<std::string, std::string> busy; // environment -> deployment started
  std::unordered_map<std::string, std::deque<std::string>> waiting; // environment -> queued ids
  /// Environments being deleted: no new deployment or action; their removal
  /// requests wait until nothing of the environment is in progress.
  std::unordered_set<std::string> closed;
  std::unordered_map<std::string, held_action> held; // environment -> its next action
  /// Environment -> the actor of its last success while it still retires the
  /// container it replaced: the next deployment starts no container before
  /// it is down (after_atom).
  std::unordered_map<std::string, caf::actor> retiring;
  std::unordered_map<std::string, std::vector<caf::typed_response_promise<int64_t>>> removals;
  caf::error stopping; // set once the manager itself was told to exit
  static inline const char* name = "deployment_manager";
};

deployment_manager_actor::behavior_type
deployment_manager(deployment_manager_actor::stateful_pointer<deployment_manager_state> self,
                   deployment_manager_config cfg);

} // namespace gilgal
