// What `gilgal serve` and `gilgal node` share about running their actor
// system: its configuration, and stopping actors one by one at shutdown.
#pragma once

#include <chrono>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

namespace gilgal::cli {

/// Gilgal's message types and the "sharing" scheduler with two workers (it
/// idles at a fraction of the work-stealing policy's CPU); CAF's own logger quiet.
void configure_actor_system(caf::actor_system_config& cfg);

/// Sends user_shutdown to `whom` (if set) and waits up to `limit` for it to
/// terminate; a warning names `name` if it does not.
void stop_actor(caf::actor_system& sys, const caf::actor& whom, const char* name,
                std::chrono::seconds limit = std::chrono::seconds{15});

} // namespace gilgal::cli
