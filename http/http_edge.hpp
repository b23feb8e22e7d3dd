// The HTTP edge: an actor that owns the cpp-httplib server. Its worker threads
// form the dedicated pool in which request handling (validation, store calls)
// runs; work owned by actors (deployments, logs) is requested from those actors
// with a timeout. The server stops when the actor exits.
#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "config/settings.hpp"
#include "protocol/interfaces.hpp"
#include "storage/store.hpp"

namespace gilgal {

/// What the HTTP edge talks to. Actor handles may be invalid while the features
/// behind them are not running; their routes then answer 503.
struct http_services {
  std::shared_ptr<store> db;
  deployment_manager_actor deployment_manager;
  logger_actor logger;
  node_actor node; // the node running the deployments' containers (health)
  scheduler_actor scheduler; // the build farm's node registry (GET /api/nodes)
  router_actor router; // told when environments change (their routes)
  environment_events_actor environment_events; // runtime log followers wait on it
};

/// True for hosts only this machine reaches: 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

/// Spawns the edge, binds `cfg.listen` ("HOST:PORT") and starts serving.
/// Returns an error (errc::unavailable) if the address cannot be bound.
caf::expected<caf::actor> spawn_http_edge(caf::actor_system& sys, const settings& cfg,
                                          http_services services);

} // namespace gilgal
