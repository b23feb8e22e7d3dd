// Jobs and results exchanged between the control plane and a node's builder and
// runner. The same structs travel to remote nodes (build-farm issue), so every
// field is serialisable and nothing refers to local memory.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "protocol/model.hpp"

namespace gilgal {

/// Build the image of one commit of a project.
struct build_job {
  std::string deployment_id;
  project source;           // repository_url, branch, framework
  std::string environment_id;
  std::string commit_sha;   // 7..40 hex, or empty: resolve the head of source.branch
  /// The environment's build variables: Docker build args (not secret).
  std::map<std::string, std::string> build_variables;
  /// Credentials of a private repository (secret: never logged).
  repository_access access;
};

struct build_result {
  std::string image_name;     // gilgal-<project8>-<commit8>
  std::string image_id;
  std::string commit_sha;     // the full sha that was built
  std::string commit_message; // subject line of that commit
  std::string framework;      // what the recipe was chosen for
  bool cache_hit = false;     // an image for (project, commit, recipe) existed
  std::string registry_image; // "<registry>/<project id>:<commit8>" once pushed, else empty
  /// The project's ssh known_hosts when this build recorded a host seen for
  /// the first time, else empty.
  std::string known_hosts;
};

/// Run one image as the container of a deployment and wait until it is healthy.
struct run_job {
  std::string deployment_id;
  std::string project_id;
  std::string environment_id;
  std::string image_name;
  std::string registry_image; // pulled when image_name is absent on the node (handoff); may be empty
  std::map<std::string, std::string> variables; // never logged
  environment_settings settings;
};

struct run_result {
  std::string container_id;
  int64_t port = 0;
};

/// A container's state as Docker reports it, plus one stats sample (CPU and
/// memory are 0 when the container is not running).
struct container_health {
  std::string container_id;
  std::string state;          // created | running | paused | restarting | exited | dead
  bool running = false;
  int64_t restart_count = 0;  // restarts Docker's restart policy made
  int64_t exit_code = 0;      // of the last exit
  bool oom_killed = false;    // the last exit was the kernel's OOM killer
  double cpu_percent = 0;     // of one CPU = 100
  int64_t memory_bytes = 0;
  int64_t memory_limit_bytes = 0;
  std::string started_at;     // RFC 3339 as Docker reports it
  std::string finished_at;    // empty if it never exited
};

/// What to read of a container's stdout and stderr (Docker's logs endpoint).
struct container_log_query {
  int64_t tail = 100;     // the last N lines (before `since` is applied); -1: all
  std::string since;      // Unix time "SECONDS.NANOS" for Docker, or empty: from the start
  int64_t follow_ms = 0;  // > 0: wait up to this long for lines to come (one batch)
};

/// One line a container printed. Sanitised on the node: valid UTF-8, no
/// control characters but tab, cut at the line cap.
struct container_log_line {
  std::string timestamp;  // RFC 3339 with nanoseconds, as Docker stamped it (UTC)
  std::string stream;     // stdout | stderr
  std::string message;
};

/// The answer to a container_log_query.
struct container_log_batch {
  std::vector<container_log_line> lines;
  bool ended = false;     // a follow: the container is not running (and did not start within follow_ms)
};

/// A lifecycle action on one container: "stop", "start" or "restart". After
/// a start or restart the node waits until the app answers HTTP below 500 on
/// health_path (up to health_timeout_seconds).
struct container_command {
  std::string container_id;
  std::string action;
  std::string health_path;             // empty: the node's default
  int64_t health_timeout_seconds = 0;  // 0: the node's default
};

/// An environment's run state as the API shows it.
struct environment_state {
  std::string state;          // running | stopped | restarting | failed
  std::string reason;         // why it failed (empty otherwise)
  std::string deployment_id;  // the live deployment
  std::string container_id;
  std::string started_at;     // the container's start, RFC 3339 (empty if never)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, container_log_query& x) {
  return f(caf::meta::type_name("container_log_query"), x.tail, x.since, x.follow_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, container_log_line& x) {
  return f(caf::meta::type_name("container_log_line"), x.timestamp, x.stream, x.message);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, container_log_batch& x) {
  return f(caf::meta::type_name("container_log_batch"), x.lines, x.ended);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, container_command& x) {
  return f(caf::meta::type_name("container_command"), x.container_id, x.action, x.health_path,
           x.health_timeout_seconds);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, environment_state& x) {
  return f(caf::meta::type_name("environment_state"), x.state, x.reason, x.deployment_id,
           x.container_id, x.started_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, build_job& x) {
  return f(caf::meta::type_name("build_job"), x.deployment_id, x.source, x.environment_id,
           x.commit_sha, x.build_variables, x.access);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, build_result& x) {
  return f(caf::meta::type_name("build_result"), x.image_name, x.image_id, x.commit_sha,
           x.commit_message, x.framework, x.cache_hit, x.registry_image, x.known_hosts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_job& x) {
  return f(caf::meta::type_name("run_job"), x.deployment_id, x.project_id, x.environment_id,
           x.image_name, x.registry_image, x.variables, x.settings);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_result& x) {
  return f(caf::meta::type_name("run_result"), x.container_id, x.port);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, container_health& x) {
  return f(caf::meta::type_name("container_health"), x.container_id, x.state, x.running,
           x.restart_count, x.exit_code, x.oom_killed, x.cpu_percent, x.memory_bytes,
           x.memory_limit_bytes, x.started_at, x.finished_at);
}

} // namespace gilgal
