// The preview reaper: owns the removal of previews idle past their TTL. Every
// `interval` (and when asked) it hands one reap to a one-shot detached worker,
// which reads the previews' activity from the store and removes the idle ones
// through the configured removal (serve: remove_environment); the reaper
// itself never blocks, and reaps never overlap.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>

#include "storage/store.hpp"
#include "protocol/interfaces.hpp"

namespace gilgal {

struct preview_reaper_config {
  /// Where the previews' activity is read.
  std::shared_ptr<store> db;
  /// Removes one environment (blocking; serve: remove_environment, the path
  /// of DELETE /api/environments/:id). errc::not_found: it is already gone.
  std::function<caf::error(const std::string& environment_id)> remove;
  /// Between periodic reaps; 0: only when asked (prune_atom).
  std::chrono::milliseconds interval{std::chrono::minutes{1}};
};

preview_reaper_actor spawn_preview_reaper(caf::actor_system& sys, preview_reaper_config cfg);

/// True if a preview last active at `last_activity_at` (RFC 3339) has been
/// idle for more than `ttl_hours` at `now`. An unreadable time is not idle.
bool preview_idle(const std::string& last_activity_at, double ttl_hours,
                  std::chrono::system_clock::time_point now);

} // namespace gilgal
