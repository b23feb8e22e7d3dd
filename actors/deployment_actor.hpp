// The pipeline of ONE deployment, as the seed draws it:
//   queued (its environment busy) -> pending (waiting for a build slot) ->
//   building -> build image -> (read environment) -> run container ->
//   switching (the point of no return) -> success; any failure -> failed
//   (logged, errorMessage names the step).
// Switching, with a proxy (a router in the context): the router moves the
// environment's route to the new container in one admin-API call, then the
// deployment reports success, then the router drains and removes the previous
// container. Without a proxy the previous container is stopped after the
// success is stored. A cancelled or failed deployment never reaches the
// router, and a route that cannot be moved fails the deployment (its
// container is removed; the live route stays as it was).
// The scheduler places the build on a node (buildNode) and the container on a
// node (runNode): the build node itself unless the image went to a registry.
// It links to the builder and runner it uses, wherever they live: when it
// exits with user_shutdown (cancel), the links carry that exit to them and
// they abort their work. When a node it uses is lost, the step is placed once
// more on another node, or the deployment fails with "node lost".
//
// It is the only writer of its record after the route created it. Its end:
// the final record is written; once that write is acknowledged the log is
// closed, waiters and cancels are answered, and the actor quits (after a
// success without a proxy, once the environment's previous container is
// stopped). The manager starts the environment's next deployment as soon as
// a success is stored; that one builds meanwhile and starts its container
// only once this actor is down.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "protocol/interfaces.hpp"

namespace gilgal {

struct deployment_context {
  deployment record; // as stored, status pending
  project source;
  environment target;
  scheduler_actor scheduler; // places builds and runs; housekeeping over all nodes
  logger_actor log;
  deployment_store_actor db;
  router_actor router; // moves the environment's route when it goes live (none: no proxy)
  std::chrono::seconds build_timeout{1800};
  std::chrono::seconds run_timeout{300}; // creating, starting and health-checking
  std::chrono::seconds replace_timeout{10}; // finding another node after a node loss
  int64_t image_retention = 5;           // successful deployments' images kept per environment
};

/// Where the pipeline is.
enum class deployment_phase {
  queued,    // spawned, not started: its environment has a deployment in progress
  waiting,   // started, waiting for a build slot
  building,
  running,   // placing and starting the container, health check
  switching, // going live: no cancel from here on
  done,      // the final status is decided (its record being written, or written)
};

/// How the pipeline ends when it is abandoned while its container starts: the
/// runner is stopped first, and nothing of it may keep running.
struct pending_end {
  deployment_status status = deployment_status::failed;
  std::string message;
  caf::error reason;
};

struct deployment_state {
  deployment_context ctx;
  deployment_phase phase = deployment_phase::queued;
  builder_actor builder;
  runner_actor runner;
  node_actor run_node;        // where the container starts
  std::string registry_image; // of the build, when it was pushed (handoff)
  int replacements = 0;       // steps placed again after a node loss
  bool started_clock = false;
  std::chrono::steady_clock::time_point started;
  bool ending = false;        // abandoned while the container started (see pending_end)
  pending_end end;
  bool stored = false;        // the final record is written
  bool built_image = false;   // its build made a new image (none reused, no rollback)
  caf::error exit_reason;     // the actor's exit once the final record is stored
  std::vector<caf::typed_response_promise<deployment>> waiters; // wait and cancel requests
  caf::actor predecessor;     // still retiring (after_atom): no container before it is down
  bool run_held = false;      // the run waits for the predecessor to be down
  static inline const char* name = "deployment";
};

deployment_actor::behavior_type
deployment_pipeline(deployment_actor::stateful_pointer<deployment_state> self,
                    deployment_context ctx);

} // namespace gilgal
