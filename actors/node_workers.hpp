// A node's builder and runner actors. Each is spawned for ONE job and is an
// event-based actor that stays responsive: the blocking work runs in a detached
// worker it spawns. When the builder or runner terminates abnormally (its
// deployment was cancelled and the link carried user_shutdown here), it fires
// the job's abort signal, so the worker closes the Docker build stream or
// removes the container it created.
#pragma once

#include <memory>

#include "nodes/abort_signal.hpp"
#include "nodes/node_settings.hpp"
#include "nodes/port_allocator.hpp"
#include "protocol/interfaces.hpp"

namespace gilgal {

/// Shared by a node's actors.
struct node_resources {
  node_settings node;
  logger_actor log;
  std::shared_ptr<port_allocator> ports;
};

builder_actor::behavior_type builder(builder_actor::pointer self,
                                     std::shared_ptr<const node_resources> res);

runner_actor::behavior_type runner(runner_actor::pointer self,
                                   std::shared_ptr<const node_resources> res);

} // namespace gilgal
