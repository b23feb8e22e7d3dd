// The node side of a join (`gilgal node --join HOST:PORT`): a blocking actor
// on its own thread that connects to the control plane's gatekeeper, says
// hello (protocol version; gets a nonce), joins with the proof of the cluster
// secret and this process's node actor, points the logger relay at the
// control plane's logger, and sends a heartbeat every interval. When the
// connection is lost it reconnects with backoff and joins again. A refusal
// (errc::unauthorized or errc::conflict) is final: on_refused is called and
// the agent ends. It stops on any exit message.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/admitted_nodes.hpp"
#include "actors/logger_relay.hpp"
#include "protocol/interfaces.hpp"

namespace gilgal {

struct node_agent_config {
  std::string host;                 // the control plane's --cluster-listen
  uint16_t port = 0;
  bool tls = false;                 // connect through caf_openssl
  std::string secret;
  node_info info;
  node_actor node;                  // offered to the control plane
  logger_relay_actor relay;         // retargeted at every join
  /// The control planes this node connected to: the agent admits each one's
  /// actor system before it joins (see actors/node_gate.hpp). May be null.
  std::shared_ptr<admitted_nodes> control_planes;
  caf::timespan heartbeat_interval = std::chrono::seconds{1};
  caf::timespan min_backoff = std::chrono::seconds{1};
  caf::timespan max_backoff = std::chrono::seconds{10};
  caf::timespan request_timeout = std::chrono::seconds{10};
  /// Called on the agent's thread after each successful (re)join.
  std::function<void()> on_joined;
  /// Called once on the agent's thread when the control plane refuses the node.
  std::function<void(const caf::error&)> on_refused;
};

caf::actor spawn_node_agent(caf::actor_system& sys, node_agent_config cfg);

} // namespace gilgal
