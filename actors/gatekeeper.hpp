// The gatekeeper (gatekeeper_actor in protocol/interfaces.hpp): the only actor
// the control plane publishes for build nodes. hello -> nonce; join with
// HMAC(secret, nonce) -> the node is registered with the scheduler, its
// leftover containers are swept, and it gets a session token (heartbeats)
// and the logger its builders write to. Refusals are logged with the node's
// name and address, never with the proof or the secret.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>

#include "actors/admitted_nodes.hpp"
#include "protocol/interfaces.hpp"

namespace gilgal {

struct gatekeeper_config {
  std::string secret;               // the cluster secret (>= 16 bytes)
  scheduler_actor scheduler;        // told of every node that joins
  logger_actor log;                 // handed to joined nodes
  deployment_store_actor db;        // for the sweep of a joining node's containers; may be null
  /// The actor systems of nodes that proved the secret: the mailbox guards of
  /// the scheduler and the logger let their messages in. Null: not recorded.
  std::shared_ptr<admitted_nodes> admitted;
  /// A node announcing more build slots gets this many (its word is not trusted).
  int64_t max_capacity = 64;
  caf::timespan nonce_ttl = std::chrono::seconds{30};
  size_t max_pending_nonces = 1024; // the oldest is dropped beyond this
  caf::timespan scheduler_timeout = std::chrono::seconds{10};
};

struct gatekeeper_state {
  struct pending_nonce {
    std::string node_name; // as given in hello
    caf::actor_clock::time_point expires;
  };
  struct session {
    std::string node_name;
    caf::actor_addr node;
  };
  gatekeeper_config cfg;
  std::map<std::string, pending_nonce> nonces; // nonce -> who asked, until when
  std::map<std::string, session> sessions;     // session token -> node
  std::map<std::string, std::string> tokens;   // node name -> its current token
  static inline const char* name = "gatekeeper";
};

/// The gatekeeper quits when the scheduler or the logger terminates (so a
/// stopping control plane does not wait for it).
gatekeeper_actor::behavior_type
gatekeeper(gatekeeper_actor::stateful_pointer<gatekeeper_state> self, gatekeeper_config cfg);

gatekeeper_actor spawn_gatekeeper(caf::actor_system& sys, gatekeeper_config cfg);

/// Checks what a node offers: a name of 1..63 letters, digits, '.', '-', '_'
/// (starting with a letter or digit), a capacity of 1..256, valid labels
/// (see parse_node_labels). errc::invalid_argument names the problem.
caf::expected<void> check_node_info(const node_info& info);

/// The message of a protocol version refusal, naming both versions.
std::string version_mismatch_message(int64_t node_version);

} // namespace gilgal
