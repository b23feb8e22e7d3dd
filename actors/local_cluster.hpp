// The in-process node joins the scheduler like any farm node, under a name of
// its own ("local" in `gilgal serve`), without secret or heartbeats.
#pragma once

#include <caf/actor_system.hpp>
#include <caf/error.hpp>

#include "protocol/interfaces.hpp"

namespace gilgal {

/// Registers `node` with `scheduler` and waits (bounded) for the answer.
/// Blocking: call it from a thread of its own (main, tests), never inside an actor.
caf::error join_local_node(caf::actor_system& sys, const scheduler_actor& scheduler,
                           const node_actor& node, node_info info);

} // namespace gilgal
