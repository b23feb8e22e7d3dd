// The pipeline of ONE deployment, as the seed draws it:
//   pending -> building -> build image -> (read environment) -> run container
//   -> success; any failure -> failed (logged, errorMessage names the step).
// It links to the builder and runner it uses: when it exits with user_shutdown
// (cancel), the links carry that exit to them and they abort their work.
#pragma once

#include <chrono>
#include <string>

#include <caf/typed_event_based_actor.hpp>

#include "protocol/interfaces.hpp"

namespace gilgal {

struct deployment_context {
  deployment record; // as stored, status pending
  project source;
  environment target;
  node_actor node;
  logger_actor log;
  deployment_store_actor db;
  std::chrono::seconds build_timeout{1800};
  std::chrono::seconds run_timeout{300}; // creating, starting and health-checking
  int64_t image_retention = 5;           // successful deployments' images kept per environment
};

struct deployment_state {
  deployment_context ctx;
  builder_actor builder;
  runner_actor runner;
  std::chrono::steady_clock::time_point started;
  bool finished = false;
  static inline const char* name = "deployment";
};

deployment_actor::behavior_type
deployment_pipeline(deployment_actor::stateful_pointer<deployment_state> self,
                    deployment_context ctx);

} // namespace gilgal
