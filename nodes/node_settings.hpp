// What a node needs to build and run: the settings its workers use, and the
// node's identity. Shared read-only by the node's workers.
#pragma once

#include <cstdint>
#include <string>

#include "config/settings.hpp"

namespace gilgal {

/// The part of the settings a node uses: Docker, ports, limits, git, the
/// recipes and the registry it pushes to. Nothing of the control plane's: no
/// database URL, API or metrics token, cluster secret, TLS key, or proxy.
/// Built from the process's settings with node_config_of().
struct node_config {
  // Docker and the ports app containers publish on.
  std::string docker_host;
  std::string bind_address;
  int port_range_begin = 0;
  int port_range_end = 0;
  // An app container's limits: the defaults, and the most an environment may ask.
  int64_t default_memory_mb = 0;
  double default_cpus = 0;
  int64_t default_pids = 0;
  int64_t max_memory_mb = 0;
  double max_cpus = 0;
  int64_t max_pids = 0;
  std::string health_check_path;
  int64_t health_check_timeout_seconds = 0;
  int64_t container_log_max_mb = 0;
  int container_log_max_files = 0;
  // Fetching and building.
  bool allow_local_sources = false;
  bool allow_private_targets = false;
  int64_t git_timeout_seconds = 0;
  int git_retries = 0;
  std::string git_ca_file;
  int64_t build_timeout_seconds = 0;
  int64_t build_memory_mb = 0;
  double build_cpus = 0;
  int64_t build_pids = 0;
  int64_t build_context_max_mb = 0;
  int64_t clone_max_mb = 0;
  int64_t log_max_lines = 0;
  std::string recipes_dir;
  base_images images;
  // The registry built images are pushed to (optional).
  std::string registry_url;
  std::string registry_username;
  std::string registry_password;
  int registry_push_attempts = 0;
  int64_t registry_push_backoff_ms = 0;
  // Housekeeping: dangling Gilgal images are pruned this often (0: never).
  int64_t image_prune_interval_seconds = 0;
};

/// The node's part of `s`.
node_config node_config_of(const settings& s);

struct node_settings {
  std::string name = "local";
  node_config cfg = node_config_of(settings{});
  std::string work_root = "/tmp/gilgal-work"; // per-deployment checkouts live below
  /// The node also runs its housekeeping, linked to it: the container watcher
  /// (restarts and OOM kills into deployment logs) and the image janitor.
  /// `gilgal serve` and `gilgal node` set it; tests that spawn nodes need not.
  bool housekeeping = false;
  /// Blocking container operations (stop, retire, list, health, retention,
  /// stop/start/restart) run on at most this many threads of the node.
  int worker_threads = 8;
};

} // namespace gilgal
