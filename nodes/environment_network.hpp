// Each environment's containers live on a Docker bridge network of their own,
// "gilgal-env-<environment id>", never on Docker's default bridge: Docker
// drops traffic between bridge networks, so an app cannot open a connection
// to another environment's container. Published ports (the proxy's way in)
// are unaffected. The network is created with the environment's first
// container and removed once none of its containers is left.
#pragma once

#include <string>

#include <caf/expected.hpp>

#include "nodes/docker_client.hpp"

namespace gilgal {

/// "gilgal-env-<environment id>".
std::string environment_network_name(const std::string& environment_id);

/// Creates the environment's network unless it exists (labelled
/// gilgal.managed, gilgal.environment, gilgal.project); returns its name.
/// When Docker has no address pool left, networks of environments without
/// containers (left by containers removed behind Gilgal's back) are pruned
/// and the creation tried once more.
caf::expected<std::string> ensure_environment_network(docker_client& docker,
                                                      const std::string& environment_id,
                                                      const std::string& project_id);

/// Removes the environment's network when no container of the environment
/// (running or not) is left. A container created meanwhile keeps it (Docker
/// refuses to remove a network in use; the creator retries when it vanished).
/// Returns whether it was removed.
caf::expected<bool> remove_environment_network_if_unused(docker_client& docker,
                                                         const std::string& environment_id);

/// Removes every Gilgal environment network no container uses; how many.
caf::expected<int> prune_unused_environment_networks(docker_client& docker);

} // namespace gilgal
