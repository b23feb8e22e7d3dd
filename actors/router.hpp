// The router: sole owner of the proxy's configuration (see router_actor in
// protocol/interfaces.hpp). Spawned detached: its admin-API calls and store
// reads block only its own thread.
//
// Routes come from the store (environments with their live deployment); a
// deployment switched in by route_atom counts as live from that moment on,
// until the store names a newer one. An environment told stopped (stop_atom)
// shows the 503 page until a deployment is routed to it again (a start routes
// the live one again). Every reconcile also marks stopped the environments
// whose live container the store records as stopped through the API, so a
// stop outlasts a restart of the server. Every tick (check_interval) it makes sure
// Caddy answers (starting it again when Gilgal runs it), passes Caddy's new log
// lines on to Gilgal's log, and every reconcile_interval it compares Caddy's
// configuration with the one derived from the store and loads it when they
// differ (also when Caddy comes back after a restart).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/node_directory.hpp"
#include "protocol/interfaces.hpp"
#include "proxy/caddy_admin.hpp"
#include "proxy/caddy_config.hpp"
#include "proxy/caddy_log.hpp"
#include "proxy/caddy_supervisor.hpp"
#include "storage/store.hpp"

namespace gilgal {

struct router_config {
  std::shared_ptr<store> db;
  scheduler_actor scheduler;            // stops and removes replaced containers
  logger_actor log;                   // deployment logs
  bool enabled = false;               // a proxy is configured
  proxy::proxy_options proxy;         // addresses, TLS; admin_listen is the API driven
  std::string apps_domain = "localhost";
  bool supervise = false;             // Gilgal runs Caddy itself (launch says how)
  proxy::caddy_launch launch;
  std::string caddy_log;              // Caddy's log file followed into Gilgal's ("" none)
  std::string local_address = "127.0.0.1"; // host of containers on nodes without an address
  std::shared_ptr<const node_directory> nodes; // run node -> its advertised address
  std::chrono::milliseconds check_interval{500};
  std::chrono::seconds reconcile_interval{60};
  std::chrono::seconds drain_timeout{30};
  std::chrono::milliseconds drain_poll{100};
  std::chrono::seconds start_timeout{10};
};

/// A deployment the router has made live (or found live in the store).
struct live_container {
  std::string deployment_id;
  std::string created_at; // of the deployment: the newer one wins
  std::string container_id;
  std::string upstream;   // "host:port"
  std::string node;
};

/// A replaced container waiting for its last requests.
struct draining_container {
  std::string deployment_id; // whose log hears about it (the one that replaced it)
  std::string environment_id;
  std::string container_id;
  std::string upstream;
  std::chrono::steady_clock::time_point since;
};

struct router_state {
  router_config cfg;
  std::unique_ptr<proxy::caddy_admin> admin;
  std::unique_ptr<proxy::caddy_supervisor> supervisor;
  std::unique_ptr<proxy::caddy_log_follower> caddy_log;
  std::map<std::string, live_container> switched; // environment -> made live by route_atom
  std::map<std::string, live_container> live;     // environment -> live now
  std::map<std::string, std::vector<std::string>> hosts; // environment -> its hosts
  std::vector<draining_container> draining;
  /// environment -> the replaced upstreams its route in Caddy lists for
  /// counting (those draining, and those retired since the route last
  /// changed: they stay until the next change, so a drain costs no reload).
  std::map<std::string, std::vector<std::string>> counted;
  std::set<std::string> stopped; // environments told or stored stopped: the 503 page
  bool caddy_up = false;
  bool drain_scheduled = false;
  std::chrono::steady_clock::time_point next_reconcile{};
  uint64_t nodes_seen = 0; // the node directory's version the routes were derived from
  static inline const char* name = "router";
};

router_actor::behavior_type router(router_actor::stateful_pointer<router_state> self,
                                   router_config cfg);

/// Spawns the router detached and starts its ticks.
router_actor spawn_router(caf::actor_system& sys, router_config cfg);

} // namespace gilgal
