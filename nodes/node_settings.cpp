#include "nodes/node_settings.hpp"

namespace gilgal {

node_config node_config_of(const settings& s) {
  node_config c;
  c.docker_host = s.docker_host;
  c.bind_address = s.bind_address;
  c.port_range_begin = s.port_range_begin;
  c.port_range_end = s.port_range_end;
  c.default_memory_mb = s.default_memory_mb;
  c.default_cpus = s.default_cpus;
  c.default_pids = s.default_pids;
  c.max_memory_mb = s.max_memory_mb;
  c.max_cpus = s.max_cpus;
  c.max_pids = s.max_pids;
  c.health_check_path = s.health_check_path;
  c.health_check_timeout_seconds = s.health_check_timeout_seconds;
  c.container_log_max_mb = s.container_log_max_mb;
  c.container_log_max_files = s.container_log_max_files;
  c.allow_local_sources = s.allow_local_sources;
  c.allow_private_targets = s.allow_private_targets;
  c.git_timeout_seconds = s.git_timeout_seconds;
  c.git_retries = s.git_retries;
  c.git_ca_file = s.git_ca_file;
  c.build_timeout_seconds = s.build_timeout_seconds;
  c.build_memory_mb = s.build_memory_mb;
  c.build_cpus = s.build_cpus;
  c.build_pids = s.build_pids;
  c.build_context_max_mb = s.build_context_max_mb;
  c.clone_max_mb = s.clone_max_mb;
  c.log_max_lines = s.log_max_lines;
  c.recipes_dir = s.recipes_dir;
  c.images = s.images;
  c.registry_url = s.registry_url;
  c.registry_username = s.registry_username;
  c.registry_password = s.registry_password;
  c.registry_push_attempts = s.registry_push_attempts;
  c.registry_push_backoff_ms = s.registry_push_backoff_ms;
  c.image_prune_interval_seconds = s.image_prune_interval_seconds;
  return c;
}

} // namespace gilgal
