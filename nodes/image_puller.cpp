#include "nodes/image_puller.hpp"

#include "nodes/docker_client.hpp"
#include "protocol/error.hpp"

namespace gilgal {

std::pair<std::string, std::string> split_image_reference(const std::string& ref) {
  auto slash = ref.rfind('/');
  auto colon = ref.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash))
    return {ref, "latest"};
  return {ref.substr(0, colon), ref.substr(colon + 1)};
}

caf::expected<void>
ensure_image(docker_client& docker, const std::string& image_name,
             const std::string& registry_image, const std::string& node_name,
             const push_options& opts,
             const std::function<void(const std::string&, const std::string&)>& log) {
  auto present = docker.image_exists(image_name);
  if (!present)
    return std::move(present.error());
  if (*present)
    return {};
  if (registry_image.empty())
    return make_error(errc::not_found, "image " + image_name + " is not on node " + node_name
                                         + "; configure a registry so nodes can hand images over");
  // The reference came from another node: only this node's own registry is
  // pulled from, so its credentials never go anywhere else.
  auto own = registry_host_of(opts.registry_url);
  if (own.empty() || registry_image.rfind(own + "/", 0) != 0)
    return make_error(errc::invalid_argument,
                      "image " + registry_image + " is not in "
                        + (own.empty() ? std::string{"a registry configured on node "} + node_name
                                       : "this node's registry " + own)
                        + "; refusing to pull it");
  if (log)
    log("info", "Pulling image " + registry_image + "...");
  auto [repo, tag] = split_image_reference(registry_image);
  registry_auth auth;
  auth.username = opts.username;
  auth.password = opts.password;
  auth.server_address = repo.substr(0, repo.find('/'));
  auto delay = opts.backoff;
  std::string last_error;
  int attempts = std::max(1, opts.attempts);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) {
      if (log)
        log("warning", "Pull of " + registry_image + " failed (" + last_error
                         + "); retrying in " + std::to_string(delay.count()) + " ms (attempt "
                         + std::to_string(attempt) + " of " + std::to_string(attempts) + ")");
      if (wait_or_abort(delay, opts.abort))
        return make_error(errc::cancelled, "cancelled");
      delay *= 2;
    }
    auto pulled = docker.pull_image(repo, tag, auth, {}, opts.abort);
    if (pulled) {
      auto [name_repo, name_tag] = split_image_reference(image_name);
      if (auto tagged = docker.tag_image(registry_image, name_repo, name_tag); !tagged)
        return make_error(errc::unavailable, "could not tag " + registry_image + " as "
                                               + image_name + ": "
                                               + message_of(tagged.error()));
      if (log)
        log("info", "Pulled " + registry_image);
      return {};
    }
    if (code_of(pulled.error()) == errc::cancelled)
      return std::move(pulled.error());
    last_error = message_of(pulled.error());
    // Docker's client names the reference already ("pull REF: ...").
    auto prefix = "pull " + repo + ":" + tag + ": ";
    if (last_error.rfind(prefix, 0) == 0)
      last_error = last_error.substr(prefix.size());
  }
  return make_error(errc::unavailable, "could not pull " + registry_image + ": " + last_error
                                         + " (" + std::to_string(attempts)
                                         + (attempts == 1 ? " attempt)" : " attempts)"));
}

} // namespace gilgal
