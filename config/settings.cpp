#include "config/settings.hpp"
#include "config/settings_file.hpp"

#include <algorithm>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <unistd.h>

#include <toml.hpp>

#include "protocol/error.hpp"
#include "protocol/utf8.hpp"
#include "protocol/validation.hpp"

namespace gilgal {

namespace {

enum class kind { string, boolean, integer, number };

const char* kind_name(kind k) {
  switch (k) {
    case kind::string:
      return "string";
    case kind::boolean:
      return "bool";
    case kind::integer:
      return "int";
    case kind::number:
      return "number";
  }
  return "?";
}

// Where one setting lives in the struct. Exactly one pointer matches `k`
// (integers may be int, int64_t or size_t).
struct field {
  const char* key;
  const char* env;
  const char* flag; // "" if not settable from the command line
  kind k;
  const char* help;
  std::string* (*str)(settings&) = nullptr;
  bool* (*boolean)(settings&) = nullptr;
  int* (*i32)(settings&) = nullptr;
  int64_t* (*i64)(settings&) = nullptr;
  size_t* (*u64)(settings&) = nullptr;
  double* (*num)(settings&) = nullptr;
  int64_t min = 0;
  int64_t max = std::numeric_limits<int64_t>::max();
};

field str_field(const char* key, const char* env, const char* flag, const char* help,
                std::string* (*get)(settings&)) {
  field f{key, env, flag, kind::string, help};
  f.str = get;
  return f;
}

field bool_field(const char* key, const char* env, const char* flag, const char* help,
                 bool* (*get)(settings&)) {
  field f{key, env, flag, kind::boolean, help};
  f.boolean = get;
  return f;
}

field int_field(const char* key, const char* env, const char* flag, const char* help,
                int* (*get)(settings&), int64_t min, int64_t max) {
  field f{key, env, flag, kind::integer, help};
  f.i32 = get;
  f.min = min;
  f.max = max;
  return f;
}

field i64_field(const char* key, const char* env, const char* flag, const char* help,
                int64_t* (*get)(settings&), int64_t min, int64_t max) {
  field f{key, env, flag, kind::integer, help};
  f.i64 = get;
  f.min = min;
  f.max = max;
  return f;
}

field u64_field(const char* key, const char* env, const char* flag, const char* help,
                size_t* (*get)(settings&), int64_t min, int64_t max) {
  field f{key, env, flag, kind::integer, help};
  f.u64 = get;
  f.min = min;
  f.max = max;
  return f;
}

field num_field(const char* key, const char* env, const char* flag, const char* help,
                double* (*get)(settings&)) {
  field f{key, env, flag, kind::number, help};
  f.num = get;
  return f;
}

constexpr int64_t day = 86400;

const std::vector<field>& fields() {
  static const std::vector<field> all = {
    str_field("listen", "GILGAL_LISTEN", "listen",
              "HOST:PORT the HTTP API listens on (default 127.0.0.1:8080)",
              [](settings& s) { return &s.listen; }),
    str_field("data_dir", "GILGAL_DATA_DIR", "data-dir",
              "directory for the SQLite database, the secret key and work files (default ./data)",
              [](settings& s) { return &s.data_dir; }),
    str_field("database_url", "GILGAL_DATABASE_URL", "database-url",
              "postgresql://user:pass@host:port/db selects PostgreSQL; a path selects an SQLite "
              "file (default DATA_DIR/gilgal.db)",
              [](settings& s) { return &s.database_url; }),
    bool_field("allow_local_sources", "GILGAL_ALLOW_LOCAL_SOURCES", "allow-local-sources",
               "accept local paths and file:// URLs as project repositories",
               [](settings& s) { return &s.allow_local_sources; }),
    bool_field("allow_private_targets", "GILGAL_ALLOW_PRIVATE_TARGETS", "allow-private-targets",
               "accept repository URLs and Dockerfile ADD URLs whose host is an IP address, "
               "this machine, a link-local or a private-range address (off: refused)",
               [](settings& s) { return &s.allow_private_targets; }),
    u64_field("max_body_bytes", "GILGAL_MAX_BODY_BYTES", "max-body-bytes",
              "largest accepted HTTP request body in bytes (default 1048576)",
              [](settings& s) { return &s.max_body_bytes; }, 1024, int64_t{1} << 30),
    str_field("metrics_token", "GILGAL_METRICS_TOKEN", "metrics-token",
              "bearer token GET /metrics requires; without it /metrics answers only when the "
              "API listens on a loopback address (prefer GILGAL_METRICS_TOKEN to the flag)",
              [](settings& s) { return &s.metrics_token; }),
    int_field("max_followers_per_user", "GILGAL_MAX_FOLLOWERS_PER_USER",
              "max-followers-per-user",
              "live log streams (?follow=1) one user may hold at once (default 20)",
              [](settings& s) { return &s.max_followers_per_user; }, 1, 100000),
    int_field("max_followers", "GILGAL_MAX_FOLLOWERS", "max-followers",
              "live log streams of all users together; each holds an HTTP worker thread "
              "(default 100)",
              [](settings& s) { return &s.max_followers; }, 1, 100000),
    str_field("log_level", "GILGAL_LOG_LEVEL", "log-level",
              "trace, debug, info, warn, error or off (default info)",
              [](settings& s) { return &s.log_level; }),
    str_field("docker_host", "GILGAL_DOCKER_HOST", "docker-host",
              "Docker Engine API endpoint (default unix:///var/run/docker.sock)",
              [](settings& s) { return &s.docker_host; }),
    str_field("bind_address", "GILGAL_BIND_ADDRESS", "bind-address",
              "host address containers' ports are published on (default 127.0.0.1)",
              [](settings& s) { return &s.bind_address; }),
    int_field("port_range_begin", "GILGAL_PORT_RANGE_BEGIN", "port-range-begin",
              "first host port given to containers (default 20000)",
              [](settings& s) { return &s.port_range_begin; }, 1, 65535),
    int_field("port_range_end", "GILGAL_PORT_RANGE_END", "port-range-end",
              "last host port given to containers (default 29999)",
              [](settings& s) { return &s.port_range_end; }, 1, 65535),
    i64_field("default_memory_mb", "GILGAL_DEFAULT_MEMORY_MB", "default-memory-mb",
              "container memory limit in MiB when an environment sets none (default 512)",
              [](settings& s) { return &s.default_memory_mb; }, 6, int64_t{1} << 20),
    num_field("default_cpus", "GILGAL_DEFAULT_CPUS", "default-cpus",
              "container CPU limit when an environment sets none (default 1.0)",
              [](settings& s) { return &s.default_cpus; }),
    i64_field("default_pids", "GILGAL_DEFAULT_PIDS", "default-pids",
              "container process limit when an environment sets none (default 256)",
              [](settings& s) { return &s.default_pids; }, 1, 1 << 22),
    i64_field("max_memory_mb", "GILGAL_MAX_MEMORY_MB", "max-memory-mb",
              "the most memory in MiB an environment may set in its resources (default 2048)",
              [](settings& s) { return &s.max_memory_mb; }, 16, int64_t{1} << 20),
    num_field("max_cpus", "GILGAL_MAX_CPUS", "max-cpus",
              "the most CPUs an environment may set in its resources (default 2)",
              [](settings& s) { return &s.max_cpus; }),
    i64_field("max_pids", "GILGAL_MAX_PIDS", "max-pids",
              "the most processes an environment may set in its resources (default 512)",
              [](settings& s) { return &s.max_pids; }, 16, 1 << 22),
    str_field("health_check_path", "GILGAL_HEALTH_CHECK_PATH", "health-check-path",
              "HTTP path probed before a deployment counts as healthy (default /)",
              [](settings& s) { return &s.health_check_path; }),
    i64_field("health_check_timeout_seconds", "GILGAL_HEALTH_CHECK_TIMEOUT_SECONDS",
              "health-check-timeout",
              "seconds a new container has to answer its health check (default 60)",
              [](settings& s) { return &s.health_check_timeout_seconds; }, 1, day),
    i64_field("build_timeout_seconds", "GILGAL_BUILD_TIMEOUT_SECONDS", "build-timeout",
              "seconds an image build may take (default 1800)",
              [](settings& s) { return &s.build_timeout_seconds; }, 1, day),
    i64_field("git_timeout_seconds", "GILGAL_GIT_TIMEOUT_SECONDS", "git-timeout",
              "seconds one git command may take (default 120)",
              [](settings& s) { return &s.git_timeout_seconds; }, 1, day),
    int_field("git_retries", "GILGAL_GIT_RETRIES", "git-retries",
              "retries of a git fetch after a network error (default 3)",
              [](settings& s) { return &s.git_retries; }, 0, 20),
    str_field("git_ca_file", "GILGAL_GIT_CA_FILE", "git-ca-file",
              "PEM bundle of the CAs git trusts for https repositories, instead of the "
              "system's (a git server with a private CA)",
              [](settings& s) { return &s.git_ca_file; }),
    int_field("max_concurrent_builds", "GILGAL_MAX_CONCURRENT_BUILDS", "max-concurrent-builds",
              "image builds run at the same time on this machine (default 2)",
              [](settings& s) { return &s.max_concurrent_builds; }, 1, 256),
    i64_field("build_memory_mb", "GILGAL_BUILD_MEMORY_MB", "build-memory-mb",
              "memory limit in MiB of every image build step (default 2048)",
              [](settings& s) { return &s.build_memory_mb; }, 64, int64_t{1} << 20),
    num_field("build_cpus", "GILGAL_BUILD_CPUS", "build-cpus",
              "CPU limit of every image build step (default 2.0)",
              [](settings& s) { return &s.build_cpus; }),
    i64_field("build_pids", "GILGAL_BUILD_PIDS", "build-pids",
              "process limit of every image build step (default 1024)",
              [](settings& s) { return &s.build_pids; }, 16, 1 << 22),
    i64_field("build_context_max_mb", "GILGAL_BUILD_CONTEXT_MAX_MB", "build-context-max-mb",
              "largest build context in MiB sent to Docker (default 512)",
              [](settings& s) { return &s.build_context_max_mb; }, 1, int64_t{1} << 20),
    i64_field("clone_max_mb", "GILGAL_CLONE_MAX_MB", "clone-max-mb",
              "disk in MiB a repository checkout may take, .git included (default 1024)",
              [](settings& s) { return &s.clone_max_mb; }, 1, int64_t{1} << 30),
    i64_field("container_log_max_mb", "GILGAL_CONTAINER_LOG_MAX_MB", "container-log-max-mb",
              "size in MiB at which Docker rotates an app container's log (default 10)",
              [](settings& s) { return &s.container_log_max_mb; }, 1, int64_t{1} << 20),
    int_field("container_log_max_files", "GILGAL_CONTAINER_LOG_MAX_FILES",
              "container-log-max-files",
              "rotated log files Docker keeps per app container (default 3)",
              [](settings& s) { return &s.container_log_max_files; }, 1, 100),
    i64_field("log_max_lines", "GILGAL_LOG_MAX_LINES", "log-max-lines",
              "lines kept of one deployment's log; later output is dropped after a "
              "\"log truncated\" line (default 100000)",
              [](settings& s) { return &s.log_max_lines; }, 10, int64_t{1} << 32),
    i64_field("log_max_mb", "GILGAL_LOG_MAX_MB", "log-max-mb",
              "MiB of text kept of one deployment's log (default 64)",
              [](settings& s) { return &s.log_max_mb; }, 1, int64_t{1} << 20),
    str_field("recipes_dir", "GILGAL_RECIPES_DIR", "recipes-dir",
              "directory of Dockerfile recipes (default: the recipes shipped with Gilgal)",
              [](settings& s) { return &s.recipes_dir; }),
    str_field("images.node", "GILGAL_IMAGE_NODE", "image-node",
              "base image of Node.js recipes (default node:20-bookworm-slim)",
              [](settings& s) { return &s.images.node; }),
    str_field("images.python", "GILGAL_IMAGE_PYTHON", "image-python",
              "base image of Python recipes (default python:3.12-slim-bookworm)",
              [](settings& s) { return &s.images.python; }),
    str_field("images.nginx", "GILGAL_IMAGE_NGINX", "image-nginx",
              "base image of static-site recipes (default nginx:1.27-alpine)",
              [](settings& s) { return &s.images.nginx; }),
    str_field("registry.url", "GILGAL_REGISTRY_URL", "registry-url",
              "container registry images are pushed to for other nodes (default none)",
              [](settings& s) { return &s.registry_url; }),
    str_field("registry.username", "GILGAL_REGISTRY_USERNAME", "",
              "registry user name (file or environment only)",
              [](settings& s) { return &s.registry_username; }),
    str_field("registry.password", "GILGAL_REGISTRY_PASSWORD", "",
              "registry password (file or environment only)",
              [](settings& s) { return &s.registry_password; }),
    int_field("registry.push_attempts", "GILGAL_REGISTRY_PUSH_ATTEMPTS", "registry-push-attempts",
              "attempts to push a built image before the deployment fails (default 3)",
              [](settings& s) { return &s.registry_push_attempts; }, 1, 20),
    i64_field("registry.push_backoff_ms", "GILGAL_REGISTRY_PUSH_BACKOFF_MS",
              "registry-push-backoff-ms",
              "milliseconds before the second push attempt, doubled for each further one "
              "(default 1000)",
              [](settings& s) { return &s.registry_push_backoff_ms; }, 0, 600000),
    int_field("image_retention", "GILGAL_IMAGE_RETENTION", "image-retention",
              "images of the last N successful deployments kept per environment (default 5)",
              [](settings& s) { return &s.image_retention; }, 1, 1000),
    i64_field("image_prune_interval_seconds", "GILGAL_IMAGE_PRUNE_INTERVAL_SECONDS",
              "image-prune-interval",
              "seconds between prunes of dangling images built by Gilgal; 0 disables "
              "(default 3600)",
              [](settings& s) { return &s.image_prune_interval_seconds; }, 0, 30 * day),
    i64_field("preview_reap_interval_seconds", "GILGAL_PREVIEW_REAP_INTERVAL_SECONDS",
              "preview-reap-interval",
              "seconds between looks for previews idle past their project's ttlHours, "
              "which are removed (default 60)",
              [](settings& s) { return &s.preview_reap_interval_seconds; }, 1, day),
    str_field("cluster_listen", "GILGAL_CLUSTER_LISTEN", "cluster-listen",
              "HOST:PORT build nodes join on (default: none, no cluster); needs the cluster "
              "secret",
              [](settings& s) { return &s.cluster_listen; }),
    str_field("cluster_secret", "GILGAL_CLUSTER_SECRET", "",
              "secret shared by the control plane and its nodes, at least 16 bytes "
              "(file or environment only)",
              [](settings& s) { return &s.cluster_secret; }),
    str_field("cluster_secret_file", "GILGAL_CLUSTER_SECRET_FILE", "cluster-secret-file",
              "file holding the cluster secret (used when GILGAL_CLUSTER_SECRET is not set)",
              [](settings& s) { return &s.cluster_secret_file; }),
    str_field("tls_certificate", "GILGAL_CLUSTER_CERT", "cluster-cert",
              "PEM certificate for cluster traffic; with --cluster-key and --cluster-ca the "
              "control plane and nodes talk TLS and require certificates signed by that CA",
              [](settings& s) { return &s.tls_certificate; }),
    str_field("tls_key", "GILGAL_CLUSTER_KEY", "cluster-key",
              "PEM private key of --cluster-cert",
              [](settings& s) { return &s.tls_key; }),
    str_field("tls_ca_file", "GILGAL_CLUSTER_CA", "cluster-ca",
              "PEM CA certificate peers' certificates must be signed by",
              [](settings& s) { return &s.tls_ca_file; }),
    bool_field("no_local_node", "GILGAL_NO_LOCAL_NODE", "no-local-node",
               "do not run the in-process node: builds and runs go to joined nodes only",
               [](settings& s) { return &s.no_local_node; }),
    str_field("join", "GILGAL_JOIN", "join",
              "HOST:PORT of the control plane's --cluster-listen (gilgal node)",
              [](settings& s) { return &s.join; }),
    str_field("node_name", "GILGAL_NODE_NAME", "name",
              "this node's name in the cluster (gilgal node; default: the host name)",
              [](settings& s) { return &s.node_name; }),
    int_field("node_capacity", "GILGAL_NODE_CAPACITY", "capacity",
              "builds this node runs at once (gilgal node; default: --max-concurrent-builds)",
              [](settings& s) { return &s.node_capacity; }, 0, 256),
    str_field("node_labels", "GILGAL_NODE_LABELS", "labels",
              "labels k=v,k=v environments can require (gilgal node)",
              [](settings& s) { return &s.node_labels; }),
    i64_field("heartbeat_timeout_seconds", "GILGAL_HEARTBEAT_TIMEOUT_SECONDS",
              "heartbeat-timeout",
              "seconds without a heartbeat after which a node counts as down (default 6)",
              [](settings& s) { return &s.heartbeat_timeout_seconds; }, 2, 3600),
    int_field("max_node_capacity", "GILGAL_MAX_NODE_CAPACITY", "max-node-capacity",
              "most builds the control plane gives one node at once, whatever the node "
              "announces (default 64)",
              [](settings& s) { return &s.max_node_capacity; }, 1, 256),
    str_field("proxy_listen", "GILGAL_PROXY_LISTEN", "proxy-listen",
              "HOST:PORT Caddy serves apps on over HTTP, e.g. 127.0.0.1:8000 or :80 "
              "(default: none, no proxy)",
              [](settings& s) { return &s.proxy_listen; }),
    str_field("proxy_https_listen", "GILGAL_PROXY_HTTPS_LISTEN", "proxy-https-listen",
              "HOST:PORT Caddy serves apps on over HTTPS with --proxy-tls internal or acme, "
              "e.g. :443",
              [](settings& s) { return &s.proxy_https_listen; }),
    str_field("proxy_admin", "GILGAL_PROXY_ADMIN", "proxy-admin",
              "admin API (unix//PATH or HOST:PORT) of a Caddy the operator runs; default: "
              "Gilgal starts and supervises its own",
              [](settings& s) { return &s.proxy_admin; }),
    str_field("proxy_tls", "GILGAL_PROXY_TLS", "proxy-tls",
              "off, internal (Caddy's local CA) or acme (public certificates) (default off)",
              [](settings& s) { return &s.proxy_tls; }),
    str_field("acme_email", "GILGAL_ACME_EMAIL", "acme-email",
              "contact address of the ACME account (--proxy-tls acme)",
              [](settings& s) { return &s.acme_email; }),
    str_field("apps_domain", "GILGAL_APPS_DOMAIN", "apps-domain",
              "environments without a domain are served at ENVIRONMENT-PROJECT.<this> "
              "(default localhost)",
              [](settings& s) { return &s.apps_domain; }),
    str_field("api_domain", "GILGAL_API_DOMAIN", "api-domain",
              "host name that reaches the HTTP API through the proxy (default: none)",
              [](settings& s) { return &s.api_domain; }),
    i64_field("drain_timeout_seconds", "GILGAL_DRAIN_TIMEOUT_SECONDS", "drain-timeout",
              "seconds a replaced container may finish its requests before it is stopped "
              "(default 30)",
              [](settings& s) { return &s.drain_timeout_seconds; }, 0, 3600),
    str_field("advertise_address", "GILGAL_ADVERTISE_ADDRESS", "advertise-address",
              "address the control plane's proxy reaches this node's apps on; containers "
              "are published there (gilgal node; default: --bind-address)",
              [](settings& s) { return &s.advertise_address; }),
  };
  return all;
}

const field* find_field(const std::string& key) {
  for (auto& f : fields())
    if (key == f.key)
      return &f;
  return nullptr;
}

caf::error bad(const std::string& source, const std::string& what) {
  return make_error(errc::invalid_argument, source + ": " + what);
}

caf::expected<void> store_integer(settings& out, const field& f, int64_t v,
                                  const std::string& source) {
  if (v < f.min || v > f.max)
    return bad(source, "must be between " + std::to_string(f.min) + " and "
                         + std::to_string(f.max));
  if (f.i32)
    *f.i32(out) = static_cast<int>(v);
  else if (f.i64)
    *f.i64(out) = v;
  else
    *f.u64(out) = static_cast<size_t>(v);
  return caf::unit;
}

caf::expected<void> store_number(settings& out, const field& f, double v,
                                 const std::string& source) {
  if (!std::isfinite(v) || v <= 0 || v > 1024)
    return bad(source, "must be a number between 0 and 1024");
  *f.num(out) = v;
  return caf::unit;
}

caf::expected<void> store_string(settings& out, const field& f, const std::string& v,
                                 const std::string& source) {
  if (std::string{f.key} == "log_level") {
    static const char* levels[] = {"trace", "debug", "info", "warn", "error", "off"};
    bool known = false;
    for (auto* l : levels)
      known = known || v == l;
    if (!known)
      return bad(source, "must be one of trace, debug, info, warn, error, off");
  }
  if (std::string{f.key} == "proxy_tls" && v != "off" && v != "internal" && v != "acme")
    return bad(source, "must be one of off, internal, acme");
  *f.str(out) = v;
  return caf::unit;
}

// Applies one TOML value to the field named `key`.
caf::expected<void> apply_toml(settings& out, const std::string& key, const toml::value& v,
                               const std::string& file) {
  auto* f = find_field(key);
  auto source = file + ": key '" + key + "'";
  if (!f)
    return make_error(errc::invalid_argument, file + ": unknown configuration key '" + key + "'");
  auto wrong_type = [&] { return bad(source, std::string{"must be a "} + kind_name(f->k)); };
  switch (f->k) {
    case kind::string:
      if (!v.is_string())
        return wrong_type();
      return store_string(out, *f, v.as_string().str, source);
    case kind::boolean:
      if (!v.is_boolean())
        return wrong_type();
      *f->boolean(out) = v.as_boolean();
      return caf::unit;
    case kind::integer:
      if (!v.is_integer())
        return wrong_type();
      return store_integer(out, *f, v.as_integer(), source);
    case kind::number:
      if (v.is_integer())
        return store_number(out, *f, static_cast<double>(v.as_integer()), source);
      if (!v.is_floating())
        return wrong_type();
      return store_number(out, *f, v.as_floating(), source);
  }
  return caf::unit;
}

/// Settings need two levels ([images] node = "..."); this leaves room.
constexpr int max_toml_nesting = 32;

/// True when arrays and inline tables nest deeper than `max` in TOML text.
/// Brackets inside strings and comments do not count.
bool toml_nesting_exceeds(const std::string& text, int max) {
  int depth = 0;
  size_t i = 0;
  auto skip_past = [&](const char* end, bool escapes) {
    auto n = std::strlen(end);
    while (i < text.size() && text.compare(i, n, end) != 0) {
      if (text[i] == '\n' && n == 1) // single-line strings end at the line
        return;
      i += escapes && text[i] == '\\' ? 2 : 1;
    }
    i += n;
  };
  while (i < text.size()) {
    char c = text[i];
    if (text.compare(i, 3, "\"\"\"") == 0) {
      i += 3;
      skip_past("\"\"\"", true);
    } else if (text.compare(i, 3, "'''") == 0) {
      i += 3;
      skip_past("'''", false);
    } else if (c == '"') {
      ++i;
      skip_past("\"", true);
    } else if (c == '\'') {
      ++i;
      skip_past("'", false);
    } else if (c == '#') {
      ++i;
      skip_past("\n", false);
    } else {
      if (c == '[' || c == '{') {
        if (++depth > max)
          return true;
      } else if ((c == ']' || c == '}') && depth > 0) {
        --depth;
      }
      ++i;
    }
  }
  return false;
}

} // namespace

std::string settings::effective_database_url() const {
  if (!database_url.empty())
    return database_url;
  return data_dir + "/gilgal.db";
}

const std::vector<setting_info>& describe_settings() {
  static const std::vector<setting_info> infos = [] {
    std::vector<setting_info> out;
    for (auto& f : fields())
      out.push_back(setting_info{f.key, f.env, f.flag, kind_name(f.k), f.help});
    return out;
  }();
  return infos;
}

std::vector<std::string> setting_keys_for(setting_command command) {
  // Only a build node joins; only the control plane serves HTTP and the store.
  static const std::vector<std::string> node_only = {"join", "node_name", "node_capacity",
                                                     "node_labels", "advertise_address"};
  static const std::vector<std::string> control_plane_only = {
    "listen",         "database_url",          "max_body_bytes",  "cluster_listen",
    "no_local_node",  "heartbeat_timeout_seconds", "image_retention", "max_node_capacity",
    "log_max_lines",  "log_max_mb",
    "proxy_listen",   "proxy_https_listen",    "proxy_admin",     "proxy_tls",
    "acme_email",     "apps_domain",           "api_domain",      "drain_timeout_seconds",
    "metrics_token",  "max_followers_per_user",    "max_followers",
    "preview_reap_interval_seconds",
  };
  const auto& excluded = command == setting_command::serve ? node_only : control_plane_only;
  std::vector<std::string> keys;
  for (auto& info : describe_settings())
    if (std::find(excluded.begin(), excluded.end(), info.key) == excluded.end())
      keys.push_back(info.key);
  return keys;
}

caf::expected<void> set_setting(settings& out, const std::string& key, const std::string& text,
                                const std::string& source) {
  auto* f = find_field(key);
  if (!f)
    return bad(source, "unknown setting '" + key + "'");
  switch (f->k) {
    case kind::string:
      return store_string(out, *f, text, source);
    case kind::boolean:
      if (text == "1" || text == "true" || text == "yes" || text == "on")
        *f->boolean(out) = true;
      else if (text == "0" || text == "false" || text == "no" || text == "off")
        *f->boolean(out) = false;
      else
        return bad(source, "must be 1, true, yes, on, 0, false, no or off");
      return caf::unit;
    case kind::integer: {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno == ERANGE)
        return bad(source, "must be an integer");
      return store_integer(out, *f, v, source);
    }
    case kind::number: {
      errno = 0;
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || errno == ERANGE)
        return bad(source, "must be a number");
      return store_number(out, *f, v, source);
    }
  }
  return caf::unit;
}

caf::expected<void> apply_config_file(const std::string& path, settings& out) {
  std::ifstream in(path, std::ios::binary);
  std::string text;
  if (in)
    text.assign(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
  if (!in.is_open() || in.bad())
    return make_error(errc::invalid_argument, "cannot read config file " + path);
  return apply_config_text(text, path, out);
}

caf::expected<void> apply_config_text(const std::string& text, const std::string& path,
                                      settings& out) {
  // toml11 parses arrays and inline tables recursively: deep nesting would
  // overflow the stack (found by fuzz/settings_file_fuzz.cpp).
  if (toml_nesting_exceeds(text, max_toml_nesting))
    return make_error(errc::invalid_argument, "config file " + path + ": nested too deeply");
  // TOML is UTF-8; toml11 reads past the end of its buffer on a broken UTF-8
  // sequence in a string (found by fuzz/settings_file_fuzz.cpp).
  if (!is_valid_utf8(text))
    return make_error(errc::invalid_argument, "config file " + path + ": not valid UTF-8");
  toml::value data;
  try {
    std::istringstream in(text);
    data = toml::parse(in, path);
  } catch (const toml::syntax_error& e) {
    return make_error(errc::invalid_argument, "config file " + path + ": " + e.what());
  } catch (const std::exception& e) {
    return make_error(errc::invalid_argument, "config file " + path + ": cannot be parsed");
  }
  if (!data.is_table())
    return make_error(errc::invalid_argument, "config file " + path + ": not a table");
  // Work on a copy so that a bad file changes nothing.
  settings result = out;
  for (auto& [key, value] : data.as_table()) {
    if (value.is_table()) {
      if (key != "images" && key != "registry")
        return make_error(errc::invalid_argument,
                          path + ": unknown configuration table '[" + key + "]'");
      for (auto& [sub, subvalue] : value.as_table())
        if (auto res = apply_toml(result, key + "." + sub, subvalue, path); !res)
          return res.error();
      continue;
    }
    if (key == "images" || key == "registry")
      return bad(path + ": key '" + key + "'", "must be a table");
    if (auto res = apply_toml(result, key, value, path); !res)
      return res.error();
  }
  out = std::move(result);
  return caf::unit;
}

caf::expected<void> apply_environment(settings& out) {
  settings result = out;
  for (auto& f : fields()) {
    const char* v = std::getenv(f.env);
    if (!v || !*v) // empty counts as unset
      continue;
    if (auto res = set_setting(result, f.key, v, f.env); !res)
      return res.error();
  }
  out = std::move(result);
  return caf::unit;
}

namespace {

// HOST:PORT with a port of 0..65535.
caf::expected<void> check_host_port(const std::string& name, const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return make_error(errc::invalid_argument, name + ": must be HOST:PORT");
  auto port_text = text.substr(colon + 1);
  char* end = nullptr;
  long port = std::strtol(port_text.c_str(), &end, 10);
  if (*end != '\0' || port < 0 || port > 65535)
    return make_error(errc::invalid_argument, name + ": port must be 0..65535");
  return caf::unit;
}

bool label_char(char c, bool key) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
         || c == '-' || c == '_' || (key && c == '/');
}

bool valid_label_part(const std::string& x, bool key) {
  if (x.size() > 63 || (key && x.empty()))
    return false;
  for (char c : x)
    if (!label_char(c, key))
      return false;
  return !key || std::isalnum(static_cast<unsigned char>(x.front()));
}

// The proxy's addresses and names agree with each other.
caf::expected<void> validate_proxy(const settings& s) {
  if (s.proxy_listen.empty()) {
    if (!s.proxy_admin.empty() || !s.proxy_https_listen.empty() || !s.api_domain.empty())
      return make_error(errc::invalid_argument,
                        "proxy_listen: --proxy-admin, --proxy-https-listen and --api-domain "
                        "need --proxy-listen");
    return caf::unit;
  }
  for (auto& [name, value] : {std::pair<const char*, const std::string&>{"proxy_listen",
                                                                         s.proxy_listen},
                              {"proxy_https_listen", s.proxy_https_listen}}) {
    if (value.empty())
      continue;
    // ":80" (every address) is as good as "HOST:80".
    if (auto res = check_host_port(name, value.front() == ':' ? "*" + value : value); !res)
      return res;
  }
  if (s.proxy_tls != "off" && s.proxy_https_listen.empty())
    return make_error(errc::invalid_argument,
                      "proxy_https_listen: --proxy-tls " + s.proxy_tls
                        + " needs the HTTPS address, e.g. --proxy-https-listen :443");
  if (auto err = validate_domain("apps_domain", s.apps_domain))
    return err;
  if (!s.api_domain.empty())
    if (auto err = validate_domain("api_domain", s.api_domain))
      return err;
  return caf::unit;
}

} // namespace

bool settings::tls_enabled() const {
  return !tls_certificate.empty() && !tls_key.empty() && !tls_ca_file.empty();
}

caf::expected<std::map<std::string, std::string>> parse_node_labels(const std::string& text) {
  std::map<std::string, std::string> out;
  if (text.empty())
    return out;
  size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    auto item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    auto eq = item.find('=');
    auto key = item.substr(0, eq);
    auto value = eq == std::string::npos ? std::string{} : item.substr(eq + 1);
    if (eq == std::string::npos || !valid_label_part(key, true))
      return make_error(errc::invalid_argument,
                        "labels: '" + item + "' is not KEY=VALUE with a key of letters, digits, "
                        "'.', '-', '_' or '/' (at most 63)");
    if (!valid_label_part(value, false))
      return make_error(errc::invalid_argument,
                        "labels: the value of '" + key + "' may hold only letters, digits, '.', "
                        "'-' and '_' (at most 63)");
    if (!out.emplace(key, value).second)
      return make_error(errc::invalid_argument, "labels: '" + key + "' is given twice");
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return out;
}

caf::expected<void> validate(const settings& s) {
  if (auto res = check_host_port("listen", s.listen); !res)
    return res;
  if (!s.cluster_listen.empty())
    if (auto res = check_host_port("cluster_listen", s.cluster_listen); !res)
      return res;
  if (!s.join.empty())
    if (auto res = check_host_port("join", s.join); !res)
      return res;
  int tls_parts = !s.tls_certificate.empty() + !s.tls_key.empty() + !s.tls_ca_file.empty();
  if (tls_parts != 0 && tls_parts != 3)
    return make_error(errc::invalid_argument,
                      "cluster TLS needs all of --cluster-cert, --cluster-key and --cluster-ca");
  if (auto labels = parse_node_labels(s.node_labels); !labels)
    return labels.error();
  if (s.data_dir.empty())
    return make_error(errc::invalid_argument, "data_dir: must not be empty");
  if (!(s.build_cpus > 0 && s.build_cpus <= 1024))
    return make_error(errc::invalid_argument, "build_cpus: must be above 0 and at most 1024");
  if (auto res = validate_proxy(s); !res)
    return res;
  if (s.default_memory_mb > s.max_memory_mb)
    return make_error(errc::invalid_argument,
                      "default_memory_mb: must not exceed max_memory_mb ("
                        + std::to_string(s.max_memory_mb) + ")");
  if (s.default_cpus > s.max_cpus)
    return make_error(errc::invalid_argument, "default_cpus: must not exceed max_cpus");
  if (s.default_pids > s.max_pids)
    return make_error(errc::invalid_argument,
                      "default_pids: must not exceed max_pids (" + std::to_string(s.max_pids)
                        + ")");
  if (s.port_range_begin > s.port_range_end)
    return make_error(errc::invalid_argument,
                      "port_range_begin: must not exceed port_range_end");
  return caf::unit;
}

caf::expected<settings>
resolve_settings(const std::string& config_file,
                 const std::vector<std::pair<std::string, std::string>>& flags) {
  settings s;
  std::string file = config_file;
  if (file.empty())
    if (const char* env = std::getenv("GILGAL_CONFIG"); env && *env)
      file = env;
  if (!file.empty())
    if (auto res = apply_config_file(file, s); !res)
      return res.error();
  if (auto res = apply_environment(s); !res)
    return res.error();
  for (auto& [key, text] : flags) {
    auto* f = find_field(key);
    auto source = std::string{"--"} + (f && *f->flag ? f->flag : key.c_str());
    if (auto res = set_setting(s, key, text, source); !res)
      return res.error();
  }
  if (auto res = validate(s); !res)
    return res.error();
  return s;
}

std::string default_recipes_dir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path source = fs::path{GILGAL_SOURCE_DIR} / "config" / "recipes";
  if (fs::is_directory(source, ec))
    return source.string();
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto dir = exe.parent_path();
    for (auto candidate : {dir / "recipes", dir / ".." / "share" / "gilgal" / "recipes"})
      if (fs::is_directory(candidate, ec))
        return candidate.lexically_normal().string();
  }
  return source.string();
}

} // namespace gilgal
