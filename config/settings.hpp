// Server configuration: defaults < TOML file (--config) < GILGAL_* environment
// variables < command-line flags. See config/settings.cpp for the key names.
#pragma once

#include <map>
#include <string>

#include <caf/expected.hpp>

namespace gilgal {

/// Base images the generated Dockerfiles start from (recipe placeholders).
struct base_images {
  std::string node = "node:20-bookworm-slim";
  std::string python = "python:3.12-slim-bookworm";
  std::string nginx = "nginx:1.27-alpine";
};

struct settings {
  // -- serve -----------------------------------------------------------------
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./data";
  std::string database_url;          // empty: SQLite file DATA_DIR/gilgal.db
  bool allow_local_sources = false;  // accept local paths and file:// repositories
  size_t max_body_bytes = 1 << 20;   // 1 MiB
  std::string log_level = "info";

  // -- docker and deployments --------------------------------------------------
  std::string docker_host = "unix:///var/run/docker.sock";
  std::string bind_address = "127.0.0.1"; // host address containers' ports bind to
  int port_range_begin = 20000;
  int port_range_end = 29999;
  int64_t default_memory_mb = 512;
  double default_cpus = 1.0;
  int64_t default_pids = 256;
  std::string health_check_path = "/";
  int64_t health_check_timeout_seconds = 60;
  int64_t build_timeout_seconds = 1800;
  int64_t git_timeout_seconds = 120;
  int git_retries = 3;
  int max_concurrent_builds = 2;
  std::string recipes_dir;           // empty: the recipes shipped with Gilgal
  base_images images;

  // -- registry (optional) ---------------------------------------------------
  std::string registry_url;
  std::string registry_username;
  std::string registry_password;

  /// The SQLite path or PostgreSQL URL the store opens.
  std::string effective_database_url() const;
};

/// Reads a TOML file into `out` (only keys present change). errc::invalid_argument
/// names the bad key.
caf::expected<void> apply_config_file(const std::string& path, settings& out);

/// Applies GILGAL_* environment variables (GILGAL_LISTEN, GILGAL_DATA_DIR, ...).
caf::expected<void> apply_environment(settings& out);

/// The directory holding recipes shipped with Gilgal (config/recipes in the
/// source tree, or next to the installed binary).
std::string default_recipes_dir();

} // namespace gilgal
