// Server configuration: defaults < TOML file (--config) < GILGAL_* environment
// variables < command-line flags. See config/settings.cpp for the key names.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

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
  bool allow_private_targets = false; // accept repository / ADD URLs on loopback, link-local,
                                      // private ranges and IP literals
  size_t max_body_bytes = 1 << 20;   // 1 MiB
  std::string metrics_token;         // bearer token GET /metrics requires; never printed
  int max_followers_per_user = 20;   // live log streams (SSE) one user may hold
  int max_followers = 100;           // live log streams of all users together
  std::string log_level = "info";

  // -- docker and deployments --------------------------------------------------
  std::string docker_host = "unix:///var/run/docker.sock";
  std::string bind_address = "127.0.0.1"; // host address containers' ports bind to
  int port_range_begin = 20000;
  int port_range_end = 29999;
  int64_t default_memory_mb = 512;
  double default_cpus = 1.0;
  int64_t default_pids = 256;
  // The most an environment may ask for (its `resources`); defaults must fit.
  int64_t max_memory_mb = 2048;
  double max_cpus = 2.0;
  int64_t max_pids = 512;
  std::string health_check_path = "/";
  int64_t health_check_timeout_seconds = 60;
  int64_t build_timeout_seconds = 1800;
  int64_t git_timeout_seconds = 120;
  int git_retries = 3;
  std::string git_ca_file;           // PEM bundle git trusts for https remotes; empty: the system's
  int max_concurrent_builds = 2;
  // Every image build's steps run with these limits (Docker build API).
  int64_t build_memory_mb = 2048;
  double build_cpus = 2.0;
  int64_t build_pids = 1024;
  int64_t build_context_max_mb = 512; // the context is sent from memory
  int64_t clone_max_mb = 1024;        // disk a checkout (with .git) may take
  // Docker's log of each app container: rotated at this size, this many files kept.
  int64_t container_log_max_mb = 10;
  int container_log_max_files = 3;
  // A deployment's stored log: lines beyond these end it with "log truncated".
  int64_t log_max_lines = 100000;
  int64_t log_max_mb = 64;
  std::string recipes_dir;           // empty: the recipes shipped with Gilgal
  base_images images;

  // -- registry (optional) ---------------------------------------------------
  std::string registry_url;
  std::string registry_username;
  std::string registry_password;
  int registry_push_attempts = 3;          // pushes tried before the build fails
  int64_t registry_push_backoff_ms = 1000; // wait before the 2nd attempt; doubles after

  // -- image housekeeping -----------------------------------------------------
  int image_retention = 5;                 // successful deployments per environment kept
  int64_t image_prune_interval_seconds = 3600; // dangling Gilgal images pruned; 0: never

  // -- preview environments -----------------------------------------------------
  int64_t preview_reap_interval_seconds = 60; // looks for previews idle past their TTL

  // -- build farm (see cli/cluster_listener.hpp, cli/node_command.hpp) ---------
  std::string cluster_listen;        // HOST:PORT nodes join on; empty: no cluster
  std::string cluster_secret;        // shared by control plane and nodes; never printed
  std::string cluster_secret_file;   // file holding the secret (when cluster_secret is empty)
  std::string tls_certificate;       // PEM certificate of this process (with key and CA: TLS)
  std::string tls_key;               // its PEM private key
  std::string tls_ca_file;           // CA peers' certificates must be signed by
  bool no_local_node = false;        // serve without the in-process node
  std::string join;                  // `gilgal node`: HOST:PORT of the control plane
  std::string node_name;             // `gilgal node`: name in the cluster; empty: hostname
  int node_capacity = 0;             // `gilgal node`: builds at once; 0: max_concurrent_builds
  std::string node_labels;           // `gilgal node`: k=v,k=v
  int64_t heartbeat_timeout_seconds = 6; // a node silent this long counts as down
  int max_node_capacity = 64;        // a joining node's announced capacity is capped to this

  // -- the proxy in front of apps (see proxy/ and actors/router.hpp) ------------
  std::string proxy_listen;          // HTTP address Caddy serves apps on; empty: no proxy
  std::string proxy_https_listen;    // HTTPS address (with proxy_tls internal or acme)
  std::string proxy_admin;           // an operator's Caddy ("unix//PATH"); empty: Gilgal's own
  std::string proxy_tls = "off";     // off | internal | acme
  std::string acme_email;            // ACME account contact (proxy_tls acme)
  std::string apps_domain = "localhost"; // environments without a domain: ENV-PROJECT.<this>
  std::string api_domain;            // host that reaches the API through the proxy; empty: none
  int64_t drain_timeout_seconds = 30; // a replaced container is stopped at the latest after this
  std::string advertise_address;     // `gilgal node`: address the control plane reaches its apps on

  /// True when certificate, key and CA are all set (validate() refuses a partial set).
  bool tls_enabled() const;

  /// The SQLite path or PostgreSQL URL the store opens.
  std::string effective_database_url() const;
};

/// Reads a TOML file into `out` (only keys present change). errc::invalid_argument
/// names the bad key.
caf::expected<void> apply_config_file(const std::string& path, settings& out);

/// Applies GILGAL_* environment variables (GILGAL_LISTEN, GILGAL_DATA_DIR, ...).
caf::expected<void> apply_environment(settings& out);

/// One configurable setting, as the file, the environment and the command line
/// name it. `key` is the TOML key ("listen", "images.node"); `env` the variable
/// (GILGAL_LISTEN); `flag` the long option without dashes ("listen"), empty if
/// the setting has no flag (secrets stay off command lines); `kind` one of
/// "string", "bool", "int", "number".
struct setting_info {
  std::string key;
  std::string env;
  std::string flag;
  std::string kind;
  std::string help;
};

/// Every setting, in the order `gilgal serve --help` lists them.
const std::vector<setting_info>& describe_settings();

/// Which command a setting's flag belongs to: `gilgal serve` offers every
/// setting but the node-only ones, `gilgal node` every one but the
/// control-plane-only ones.
enum class setting_command { serve, node };

/// The keys of the settings `command` offers, in describe_settings() order.
std::vector<std::string> setting_keys_for(setting_command command);

/// Sets the setting named by TOML `key` from its text form (as given in an
/// environment variable or a flag). errc::invalid_argument names `source`
/// (e.g. "--listen" or "GILGAL_LISTEN") but never echoes the value.
caf::expected<void> set_setting(settings& out, const std::string& key, const std::string& text,
                                const std::string& source);

/// Checks values that must agree with each other (port range, listen address).
caf::expected<void> validate(const settings& s);

/// The whole precedence chain: defaults < config file < environment < flags.
/// The file is `config_file` if not empty, else $GILGAL_CONFIG if set, else none.
/// `flags` are (TOML key, text) pairs given on the command line.
caf::expected<settings>
resolve_settings(const std::string& config_file,
                 const std::vector<std::pair<std::string, std::string>>& flags);

/// Parses node labels "k=v,k=v" (empty: none). Keys: letters, digits, '.', '-',
/// '_', '/', starting with a letter or digit, at most 63 characters; values:
/// letters, digits, '.', '-', '_', at most 63 characters (may be empty).
/// errc::invalid_argument names the bad label.
caf::expected<std::map<std::string, std::string>> parse_node_labels(const std::string& text);

/// The directory holding recipes shipped with Gilgal (config/recipes in the
/// source tree, or next to the installed binary).
std::string default_recipes_dir();

} // namespace gilgal
