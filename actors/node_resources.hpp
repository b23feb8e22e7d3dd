// What a node's actors share: its settings, its logger and its port
// allocator; and the two helpers its builder and runner use to run one job's
// blocking work in a detached worker.
#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/error.hpp>

#include "nodes/abort_signal.hpp"
#include "nodes/docker_client.hpp"
#include "nodes/image_builder.hpp"
#include "nodes/node_settings.hpp"
#include "nodes/port_allocator.hpp"
#include "protocol/interfaces.hpp"

namespace gilgal {

/// Shared by a node's actors.
struct node_resources {
  node_settings node;
  /// The node's one Docker client (for node.cfg.docker_host), shared by its
  /// workers and housekeeping: calls are thread-safe.
  std::shared_ptr<docker_client> docker;
  logger_actor log;
  std::shared_ptr<port_allocator> ports;
};

/// A log function for worker threads: sends to the logger (thread-safe) as
/// `sender` (the logger refuses lines without a sender).
log_function log_to(const logger_actor& logger, const std::string& deployment_id,
                    caf::actor sender);

/// Makes `self` fire `abort` when it terminates abnormally, and quit normally
/// once `worker` is done.
template <class Self, class Worker>
void supervise(Self* self, const Worker& worker, std::shared_ptr<abort_signal> abort) {
  self->attach_functor([abort](const caf::error& reason) {
    if (reason)
      abort->trigger();
  });
  self->monitor(worker);
  self->set_down_handler([self](caf::down_msg&) { self->quit(); });
}

} // namespace gilgal
