// The node actor a `gilgal node` offers to the control plane, behind a gate:
// CAF 0.17 forwards messages between the peers of a middleman, so a stranger
// connected to the control plane could otherwise reach this node's actors
// through it. The gate's mailbox (actors/guarded_actor.hpp) lets in messages
// of this process and of the control plane the node agent connected to
// (recorded in `trusted`); its handlers also need a named sender. Everything
// else is dropped and logged without its content. The gate is linked to the
// node it guards: one ends, the other does too.
#pragma once

#include <memory>

#include <caf/actor_system.hpp>

#include "actors/admitted_nodes.hpp"
#include "protocol/interfaces.hpp"

namespace gilgal {

struct node_gate_state {
  node_actor node;
  static inline const char* name = "node gate";
};

node_actor::behavior_type node_gate(node_actor::stateful_pointer<node_gate_state> self,
                                    node_actor node);

/// `trusted`: the control plane's actor system, admitted by the node agent
/// when it connects.
node_actor spawn_node_gate(caf::actor_system& sys, node_actor node,
                           std::shared_ptr<const admitted_nodes> trusted);

} // namespace gilgal
