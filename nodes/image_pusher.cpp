#include "nodes/image_pusher.hpp"

#include "nodes/docker_client.hpp"
#include "protocol/error.hpp"

namespace gilgal {

std::string registry_host_of(const std::string& url) {
  auto s = url;
  if (auto scheme = s.find("://"); scheme != std::string::npos)
    s = s.substr(scheme + 3);
  while (!s.empty() && s.back() == '/')
    s.pop_back();
  return s;
}

std::string registry_repository_for(const std::string& registry_url,
                                    const std::string& project_id) {
  return registry_host_of(registry_url) + "/" + project_id;
}

push_options push_options_of(const node_config& cfg) {
  push_options opts;
  opts.registry_url = cfg.registry_url;
  opts.username = cfg.registry_username;
  opts.password = cfg.registry_password;
  opts.attempts = std::max(1, cfg.registry_push_attempts);
  opts.backoff = std::chrono::milliseconds{cfg.registry_push_backoff_ms};
  return opts;
}

caf::expected<std::string>
push_to_registry(docker_client& docker, const std::string& image, const std::string& project_id,
                 const std::string& tag, const push_options& opts,
                 const std::function<void(const std::string&, const std::string&)>& log) {
  auto host = registry_host_of(opts.registry_url);
  if (host.empty())
    return make_error(errc::invalid_argument, "registry.url: is empty");
  auto repo = registry_repository_for(opts.registry_url, project_id);
  auto reference = repo + ":" + tag;
  if (auto tagged = docker.tag_image(image, repo, tag); !tagged)
    return make_error(errc::unavailable, "push to " + host + " failed: could not tag "
                                           + image + " as " + reference + ": "
                                           + message_of(tagged.error()));
  registry_auth auth;
  auth.username = opts.username;
  auth.password = opts.password;
  auth.server_address = host.substr(0, host.find('/'));
  auto delay = opts.backoff;
  std::string last_error;
  int attempts = std::max(1, opts.attempts);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) {
      if (log)
        log("warning", "Push to " + host + " failed (" + last_error + "); retrying in "
                         + std::to_string(delay.count()) + " ms (attempt "
                         + std::to_string(attempt) + " of " + std::to_string(attempts) + ")");
      if (wait_or_abort(delay, opts.abort))
        return make_error(errc::cancelled, "cancelled");
      delay *= 2;
    }
    auto pushed = docker.push_image(repo, tag, auth, {}, opts.abort);
    if (pushed)
      return reference;
    if (code_of(pushed.error()) == errc::cancelled)
      return std::move(pushed.error());
    last_error = message_of(pushed.error());
  }
  return make_error(errc::unavailable, "push to " + host + " failed: " + last_error + " ("
                                         + std::to_string(attempts)
                                         + (attempts == 1 ? " attempt)" : " attempts)"));
}

} // namespace gilgal
