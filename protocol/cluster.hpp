// What the control plane and the nodes of a build farm tell each other when a
// node joins, and what the scheduler knows of each node. All of it travels
// over CAF's middleman, so every field is serialisable.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <caf/meta/type_name.hpp>

namespace gilgal {

/// Version of the control-plane <-> node protocol. Checked at join; a node
/// and a control plane of different versions refuse each other. Raise it with
/// every change to a message that crosses the wire.
// 2: build_job carries build variables; 3: node_info carries the node's address;
// 4: node logs and container control (logs_atom, control_atom);
// 5: a followed log of a container that does not run waits for its next start;
// 6: a deployment's status and kind travel as enums (one byte each), not text
constexpr int64_t cluster_protocol_version = 6;

/// A node's offer: who it is and what it can take.
struct node_info {
  std::string name;                          // unique in the cluster
  int64_t capacity = 1;                      // builds at once
  std::map<std::string, std::string> labels; // matched against an environment's labels
  std::string address; // where its containers' ports are published, for the
                       // control plane's proxy ("": the control plane's own)
};

/// Second step of a join: the node proves it holds the cluster secret.
struct node_registration {
  int64_t protocol_version = 0;
  node_info info;
  std::string nonce; // the one the gatekeeper handed out in step one (hex)
  std::string proof; // hex HMAC-SHA256 over the nonce, keyed by the cluster secret
};

/// One node as the scheduler sees it (GET /api/nodes, `gilgal nodes`).
struct node_status {
  std::string name;
  std::string state;          // up | down
  int64_t capacity = 0;
  int64_t running_builds = 0; // build slots taken
  int64_t running_runs = 0;   // container starts in progress
  std::map<std::string, std::string> labels;
  std::string address;        // its advertised address ("" : the control plane's)
  std::string last_heartbeat; // RFC 3339 (UTC, ms)
  std::string joined_at;      // RFC 3339 of the latest join
  bool local = false;         // the control plane's in-process node
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_info& x) {
  return f(caf::meta::type_name("node_info"), x.name, x.capacity, x.labels, x.address);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_registration& x) {
  return f(caf::meta::type_name("node_registration"), x.protocol_version, x.info, x.nonce,
           x.proof);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_status& x) {
  return f(caf::meta::type_name("node_status"), x.name, x.state, x.capacity, x.running_builds,
           x.running_runs, x.labels, x.address, x.last_heartbeat, x.joined_at, x.local);
}

} // namespace gilgal
