// The image janitor: prunes dangling images carrying the gilgal.project label
// (superseded builds of the same name) once at start and then every
// `interval`. Each prune runs in a one-shot detached worker; the janitor
// never blocks. Images without Gilgal's label are never touched.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "nodes/docker_client.hpp"

namespace gilgal {

/// Spawns the janitor. An interval of 0 disables it (nothing is pruned).
/// It runs until it receives an exit message.
caf::actor spawn_image_janitor(caf::actor_system& sys, std::shared_ptr<docker_client> docker,
                               std::chrono::seconds interval);

} // namespace gilgal
