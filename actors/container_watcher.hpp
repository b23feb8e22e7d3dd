// The container watcher: follows Docker's event stream for the containers
// Gilgal manages (label gilgal.managed=true) and writes what happens to them
// into their deployment's log: an exit that Docker's restart policy answers
// with a restart ("Container exited with code N; restarting (restart K)"), an
// OOM kill ("Container killed: out of memory ..."), the container running
// again. It counts restarts and OOM kills in the metrics registry.
//
// The blocking stream runs in a blocking worker; the watcher itself is an
// event-based actor that fires the worker's abort signal when it exits, so a
// user_shutdown (or the exit of an actor it is linked to) stops the stream at
// once.
#pragma once

#include <memory>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "nodes/docker_client.hpp"
#include "protocol/interfaces.hpp"

namespace gilgal {

struct container_watcher_config {
  std::shared_ptr<docker_client> docker; // the node's
  logger_actor logger;
  /// Events after this moment (Unix epoch, ns) are reported; 0: from the spawn.
  int64_t since_nano = 0;
};

/// Spawns the watcher. It runs until it receives an exit message.
caf::actor spawn_container_watcher(caf::actor_system& sys, container_watcher_config cfg);

} // namespace gilgal
