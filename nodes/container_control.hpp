// A node's lifecycle actions on one existing container: stop (docker stop:
// SIGTERM, SIGKILL after 10 s; the container and its port stay for a later
// start), start and restart (then wait until the app answers HTTP on its
// health path). Never creates or removes a container. Blocking: run it on a
// detached actor.
#pragma once

#include <memory>

#include <caf/expected.hpp>

#include "nodes/abort_signal.hpp"
#include "nodes/docker_client.hpp"
#include "nodes/node_settings.hpp"
#include "protocol/messages.hpp"

namespace gilgal {

/// Carries out `cmd` and replies the container's state afterwards (without a
/// stats sample). errc::not_found if the container does not exist,
/// errc::invalid_argument for an unknown action, errc::run_failed when a
/// started container runs but gives no HTTP answer below 500 in time. A
/// container that exits after a start is not an error: its state says so.
caf::expected<container_health> control_container(const node_settings& node,
                                                  docker_client& docker,
                                                  const container_command& cmd,
                                                  const std::shared_ptr<abort_signal>& abort
                                                  = nullptr);

} // namespace gilgal
