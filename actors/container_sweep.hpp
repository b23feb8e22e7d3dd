// The sweep of a node's leftover containers: after a restart of the control
// plane (the local node) and on every (re)join of a remote node. Containers
// the store still wants (each environment's newest successful deployment) are
// re-adopted; every other container Gilgal manages on that node is stopped
// and removed.
#pragma once

#include <string>

#include <caf/local_actor.hpp>

#include "protocol/interfaces.hpp"

namespace gilgal {

/// What a sweep needs of a node: node_actor and scheduler_actor (all up nodes
/// at once) both convert to it.
using sweep_target = caf::typed_actor<
  caf::replies_to<list_atom>::with<std::map<std::string, std::string>>,
  caf::replies_to<stop_atom, std::string>::with<bool>>;

/// Starts the sweep of `node` in a short-lived helper actor spawned by `self`
/// (list_atom on the node -> keep_atom on the store -> stop_atom for the
/// others) and returns at once. Failures are logged and end the sweep; so
/// does the termination of `self` (linked), of `node` or of `db`.
/// `node_name` (if not empty) is named in the log lines.
void sweep_node_containers(caf::local_actor* self, sweep_target node, deployment_store_actor db,
                           std::string node_name = {});

} // namespace gilgal
