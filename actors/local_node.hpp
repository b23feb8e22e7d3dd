// The node actor: hands out a fresh builder or runner per job and stops or
// retires containers. In-process by default; the same actor runs in
// `gilgal node` on a farm machine.
#pragma once

#include <memory>

#include "actors/node_workers.hpp"
#include "protocol/interfaces.hpp"

namespace gilgal {

node_actor::behavior_type node(node_actor::pointer self,
                               std::shared_ptr<const node_resources> res);

/// Spawns a node bound to `settings.cfg.docker_host`, logging to `log`.
node_actor spawn_node(caf::actor_system& sys, node_settings settings, logger_actor log);

} // namespace gilgal
