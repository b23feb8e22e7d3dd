// The node actor: hands out a fresh builder or runner per job and runs the
// node's container operations. The same actor serves in-process (the
// control plane's own node, "local") and in `gilgal node` on a farm machine.
#pragma once

#include <memory>

#include "actors/builder.hpp"
#include "actors/node_resources.hpp"
#include "actors/runner.hpp"
#include "protocol/interfaces.hpp"

namespace gilgal {

node_actor::behavior_type node(node_actor::pointer self,
                               std::shared_ptr<const node_resources> res);

/// Spawns a node bound to `settings.cfg.docker_host`, logging to `log`.
node_actor spawn_node(caf::actor_system& sys, node_settings settings, logger_actor log);

} // namespace gilgal
