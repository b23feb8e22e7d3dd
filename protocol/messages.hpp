// Jobs and results exchanged between the control plane and a node's builder and
// runner. The same structs travel to remote nodes (build-farm issue), so every
// field is serialisable and nothing refers to local memory.
#pragma once

#include <map>
#include <string>

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
