// Pushing a built image to the configured registry: tag it
// "<registry>/<project id>:<commit8>" and push, retrying with exponential
// backoff. The image keeps its labels (a tag is another name for the same id).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "nodes/abort_signal.hpp"
#include "nodes/node_settings.hpp"

namespace gilgal {

class docker_client;

/// The registry's host[:port][/path] from a configured URL: a scheme
/// ("https://") and trailing slashes are dropped. Empty if `url` is empty.
std::string registry_host_of(const std::string& url);

/// "<registry>/<project id>" — the repository a project's images go to.
std::string registry_repository_for(const std::string& registry_url,
                                    const std::string& project_id);

struct push_options {
  std::string registry_url;  // as configured (settings.registry_url)
  std::string username;      // empty: anonymous
  std::string password;
  int attempts = 3;          // >= 1
  std::chrono::milliseconds backoff{1000}; // before attempt 2; doubles after
  std::shared_ptr<abort_signal> abort;     // stops waiting and pushing at once
};

/// The push options of a node's settings.
push_options push_options_of(const node_config& cfg);

/// Tags `image` (a local name or id) as "<registry>/<project id>:<tag>" and
/// pushes it. Returns the full registry reference. After the last failed
/// attempt: errc::unavailable "push to REGISTRY failed: <Docker's message>
/// (N attempts)"; errc::cancelled when opts.abort fires. Each retry is logged
/// through `log` (level, message) as a warning.
caf::expected<std::string>
push_to_registry(docker_client& docker, const std::string& image, const std::string& project_id,
                 const std::string& tag, const push_options& opts,
                 const std::function<void(const std::string&, const std::string&)>& log);

} // namespace gilgal
