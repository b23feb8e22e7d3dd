// Deleting an environment: the one path that DELETE /api/environments/:id,
// a closed pull request's preview and the preview reaper all take.
#pragma once

#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/error.hpp>

#include "protocol/interfaces.hpp"
#include "storage/store.hpp"

namespace gilgal {

/// What removing an environment involves. Handles may be invalid when the
/// feature behind them is not running.
struct environment_removal {
  caf::actor_system* sys = nullptr;
  std::shared_ptr<store> db;
  deployment_manager_actor manager;
  router_actor router; // told to drop the environment's route
};

/// Ends what runs of environment `environment_id`: the deployment manager
/// cancels its deployments, its route shows the 503 page and its containers
/// are stopped and removed on every node. Nothing of it may keep running
/// where the API cannot reach it. Blocking, like remove_environment.
/// errc::unavailable without a running engine, errc::timeout if the
/// containers did not stop in time.
caf::error end_environment_runtime(const environment_removal& with,
                                   const std::string& environment_id);

/// Deletes the environment `environment_id`: first end_environment_runtime,
/// then its record and hosts go from the store (soft delete) and the router
/// drops its route. Blocking: call it from
/// an HTTP worker thread or a detached actor. errc::not_found if it is not live.
caf::error remove_environment(const environment_removal& with,
                              const std::string& environment_id);

} // namespace gilgal
