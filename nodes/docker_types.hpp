// Plain records exchanged with the Docker Engine API client (nodes/docker_client).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gilgal {

class abort_signal;

using label_map = std::map<std::string, std::string>;

/// Receives one line of streamed output (build text, push/pull status).
using docker_line_callback = std::function<void(std::string_view)>;

struct docker_version {
  std::string version;          // engine version, e.g. "20.10.24"
  std::string api_version;      // server's maximum API version, e.g. "1.41"
  std::string min_api_version;  // server's minimum API version
  std::string negotiated;       // what this client uses: min(server, 1.45)
};

struct build_options {
  std::vector<std::string> tags;  // "name:tag", the first is the main one
  label_map labels;               // image labels
  std::string dockerfile = "Dockerfile"; // path inside the context
  std::map<std::string, std::string> build_args;
  bool no_cache = false;
  std::string network_mode;       // empty: Docker's default
  /// Limits of every container the build's steps run in: memory (and the
  /// same as memory+swap, so no swap), CPU as a quota per 100 ms period, and
  /// processes (not a build API parameter: applied to each step's container
  /// as Docker creates it, see nodes/docker_build_guard). 0: unlimited.
  int64_t memory_bytes = 0;
  double cpus = 0;
  int64_t pids_limit = 0;
  /// Whole-build deadline; errc::timeout when exceeded (and the build aborted).
  std::chrono::milliseconds timeout = std::chrono::minutes{30};
  /// Triggered from any thread: the build stops promptly with errc::cancelled.
  std::shared_ptr<abort_signal> abort;
};

struct image_info {
  std::string id;                 // "sha256:..."
  std::vector<std::string> tags;  // RepoTags
  label_map labels;
  std::string created;            // RFC 3339 as Docker reports it
  int64_t size = 0;
};

struct registry_auth {
  std::string username;
  std::string password;
  std::string server_address;     // e.g. "127.0.0.1:5000"
};

/// What the runner asks Docker to create. Security defaults are on.
struct container_spec {
  std::string name;               // empty: Docker picks one
  std::string image;
  std::vector<std::string> env;   // "KEY=value"
  std::vector<std::string> cmd;   // empty: the image's CMD
  label_map labels;
  int container_port = 0;         // 0: no port exposed
  std::string host_ip = "127.0.0.1";
  int host_port = 0;              // 0 with a container port: Docker picks one
  int64_t memory_bytes = 0;       // 0: unlimited
  int64_t nano_cpus = 0;          // 1e9 = one CPU; 0: unlimited
  int64_t pids_limit = 0;         // 0: unlimited
  std::string user;               // empty: the image's USER
  bool no_new_privileges = true;
  bool drop_all_capabilities = true;
  /// Docker's init (tini) as PID 1: forwards signals to the app and reaps
  /// zombies, so an app without a SIGTERM handler still stops at once.
  bool init = false;
  std::vector<std::string> cap_add;
  std::string restart_policy = "no";
  std::string network_mode;       // empty: Docker's default bridge
  /// Docker's log of the container (json-file driver) is rotated at this
  /// size with this many files kept; 0: the daemon's default log settings.
  int64_t log_max_mb = 0;
  int log_max_files = 0;
};

struct container_info {
  std::string id;
  std::string name;               // without the leading '/'
  std::string image;              // image reference given at create
  std::string image_id;
  std::string status;             // created | running | paused | restarting | exited | dead
  bool running = false;
  bool oom_killed = false;
  int exit_code = 0;
  int restart_count = 0;
  std::string error;
  std::string started_at;
  std::string finished_at;
  label_map labels;
  std::string host_ip;           // of the first published port binding
  int host_port = 0;
  std::vector<std::string> extra_hosts; // HostConfig.ExtraHosts ("name:ip")
  int64_t pids_limit = 0;        // HostConfig.PidsLimit; 0: none
  std::map<std::string, std::string> ip_addresses; // network name -> the container's IPv4 address
};

struct container_summary {
  std::string id;
  std::vector<std::string> names; // without the leading '/'
  std::string image;
  std::string image_id;           // sha256:...
  std::string command;            // as Docker shows it, e.g. "/bin/sh -c 'sleep 20'"
  int64_t created = 0;            // unix seconds
  std::string state;              // running, exited, created ...
  std::string status;             // human text, "Up 3 seconds"
  label_map labels;
};

struct container_stats {
  double cpu_percent = 0;         // of one CPU = 100
  int64_t memory_usage = 0;       // bytes, page cache excluded
  int64_t memory_limit = 0;       // bytes
  int64_t pids = 0;
};

struct prune_result {
  std::vector<std::string> deleted;
  int64_t space_reclaimed = 0;
};

} // namespace gilgal
