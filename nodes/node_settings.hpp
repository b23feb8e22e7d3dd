// What a node needs to build and run: a slice of the server settings plus the
// node's identity. Shared read-only by the node's workers.
#pragma once

#include <string>

#include "config/settings.hpp"

namespace gilgal {

struct node_settings {
  std::string name = "local";
  settings cfg;        // docker_host, images, recipes_dir, limits, health check ...
  std::string work_root = "/tmp/gilgal-work"; // per-deployment checkouts live below
};

} // namespace gilgal
