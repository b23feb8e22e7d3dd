// The scheduler: registry of the farm's nodes and placement of builds and runs
// (the contract is scheduler_actor in protocol/interfaces.hpp).
//
// Builds go to the least loaded up node (running builds / capacity, then fewest
// runs in progress, then name) whose labels include the required ones; while
// none has a free slot, requests wait in a FIFO queue that is served whenever a
// slot frees or a node joins. A queued job that no free node matches does not
// hold back later jobs that fit elsewhere.
//
// A node is down when its actor's down message arrives or, for a node outside
// this actor system, when no heartbeat came for heartbeat_timeout (checked
// every tick_interval). Every deployment placed on it then gets
// (lost_atom, node name), and its slots are freed. The scheduler also monitors
// the actors that asked for placements: one that exits releases what it held.
#pragma once

#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <caf/actor_addr.hpp>
#include <caf/actor_clock.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/admitted_nodes.hpp"
#include "actors/node_directory.hpp"
#include "protocol/interfaces.hpp"

namespace gilgal {

struct scheduler_config {
  /// A remote node with no heartbeat for this long is down.
  std::chrono::milliseconds heartbeat_timeout{6000};
  /// How often the heartbeat deadlines are checked (0: never).
  std::chrono::milliseconds tick_interval{1000};
  /// Deadline of each request of the housekeeping fan-out (stop, retire, ...).
  std::chrono::milliseconds fanout_timeout{60000};
  /// Nodes of this actor system never send heartbeats and are exempt from the
  /// timeout; true holds them to it as well (tests).
  bool local_nodes_heartbeat = false;
  /// Where joined nodes publish their containers (their advertised address),
  /// for the router. Optional.
  std::shared_ptr<node_directory> directory;
};

struct scheduler_node;

/// Position of a node with a free build slot in the placement order.
struct scheduler_load_key {
  int64_t builds = 0;
  int64_t capacity = 1;
  int64_t runs = 0;
  const scheduler_node* node = nullptr;
};

struct scheduler_load_order {
  bool operator()(const scheduler_load_key& a, const scheduler_load_key& b) const;
};

/// One node as the scheduler keeps it. A down node keeps its entry until it
/// joins again.
struct scheduler_node {
  node_info info;
  node_actor handle;
  bool up = false;
  bool local = false;                     // lives in the scheduler's actor system
  std::unordered_set<std::string> builds; // deployments holding a build slot here
  std::unordered_set<std::string> runs;   // deployments running (starting) here
  caf::actor_clock::time_point last_seen; // actor clock, for the timeout
  std::chrono::system_clock::time_point last_heartbeat;
  std::chrono::system_clock::time_point joined_at;
  bool indexed = false; // in scheduler_state::free_nodes under `key`
  scheduler_load_key key;
};

/// What the scheduler holds for one deployment id.
struct scheduler_job {
  deployment_actor owner; // told of node loss; its exit releases the job
  std::string build_node; // holds a build slot there (empty: none)
  std::string run_node;   // runs there (empty: none)
  bool queued = false;
};

/// A build waiting for a slot.
struct scheduler_waiting {
  std::string id;
  std::map<std::string, std::string> labels;
  caf::typed_response_promise<placement> promise;
};

struct scheduler_state {
  scheduler_config cfg;
  std::map<std::string, scheduler_node> nodes; // by name
  std::unordered_map<caf::actor_addr, std::string> node_by_addr;
  /// Up nodes with a free build slot, least loaded first.
  std::set<scheduler_load_key, scheduler_load_order> free_nodes;
  std::unordered_map<std::string, scheduler_job> jobs; // by deployment id
  std::unordered_map<caf::actor_addr, std::unordered_set<std::string>> by_owner;
  std::list<scheduler_waiting> queue;
  std::unordered_map<std::string, std::list<scheduler_waiting>::iterator> queued;
  static inline const char* name = "scheduler";
};

scheduler_actor::behavior_type
scheduler(scheduler_actor::stateful_pointer<scheduler_state> self, scheduler_config cfg);

/// Spawns the scheduler behind a mailbox guard (actors/guarded_actor.hpp):
/// messages from remote actor systems not in `admitted` never reach it. Its
/// handlers take messages only from named actors of this process (nodes talk
/// to the gatekeeper), its tick only from itself. Null: nothing remote.
scheduler_actor spawn_scheduler(caf::actor_system& sys, scheduler_config cfg = {},
                                std::shared_ptr<const admitted_nodes> admitted = nullptr);

} // namespace gilgal
