// A container's health as the API reports it: Docker's state (restart count,
// exit code, OOM flag) and, while it runs, one stats sample.
#pragma once

#include <string>

#include <caf/expected.hpp>

#include "protocol/messages.hpp"

namespace gilgal {

class docker_client;

/// Inspects the container and, if it is running, samples its CPU and memory
/// (about one second). errc::not_found if the container does not exist.
caf::expected<container_health> container_health_of(docker_client& docker,
                                                    const std::string& container_id);

} // namespace gilgal
