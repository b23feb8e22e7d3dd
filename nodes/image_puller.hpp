// The runner's half of the image handoff: an image built on another node is
// pulled from the registry it was pushed to, retrying with exponential
// backoff, and tagged with the name the deployment knows it by.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "nodes/abort_signal.hpp"
#include "nodes/image_pusher.hpp" // push_options: registry, credentials, attempts, backoff

namespace gilgal {

class docker_client;

/// "repo:tag" → {"repo", "tag"}; the tag is the part after the last ':' that
/// follows the last '/' ("127.0.0.1:5000/p:abc" → {"127.0.0.1:5000/p", "abc"}),
/// "latest" when there is none.
std::pair<std::string, std::string> split_image_reference(const std::string& ref);

/// Makes sure `image_name` exists on the daemon. When it does not and
/// `registry_image` is set and in the node's registry (opts.registry_url:
/// "<its host>/..."; the credentials go to that host only): logs "Pulling
/// image REGISTRY_IMAGE...", pulls it
/// (opts.attempts tries, opts.backoff before the second, doubling) and tags it
/// as `image_name`. Errors: errc::not_found "image X is not on node NODE;
/// configure a registry so nodes can hand images over" without a registry
/// image; errc::invalid_argument "image REF is not in this node's registry
/// HOST; refusing to pull it" (or "... not in a registry configured on node
/// NODE ..."); errc::unavailable "could not pull REF: <Docker's message> (N
/// attempts)"; errc::cancelled when opts.abort fires.
caf::expected<void>
ensure_image(docker_client& docker, const std::string& image_name,
             const std::string& registry_image, const std::string& node_name,
             const push_options& opts,
             const std::function<void(const std::string&, const std::string&)>& log);

} // namespace gilgal
