// How each git host signs its webhook deliveries and names their event and
// id. Every check of a signature or token is constant-time (protocol/bytes).
//
//   provider  signature                                  event header         delivery id
//   github    X-Hub-Signature-256: sha256=<hex HMAC>     X-GitHub-Event       X-GitHub-Delivery
//   gitlab    X-Gitlab-Token: <the secret itself>        X-Gitlab-Event       Idempotency-Key,
//                                                                             X-Gitlab-Event-UUID
//   gitea     X-Gitea-Signature: <hex HMAC>              X-Gitea-Event        X-Gitea-Delivery
//             (Forgejo: X-Forgejo-Signature, -Event, -Delivery)
// The HMAC is HMAC-SHA256 of the raw body keyed by the project's webhook secret.
// Pull requests: GitHub's and Gitea's `pull_request`, GitLab's `Merge Request
// Hook`, read by protocol/pull_request_event.
#pragma once

#include <string>

#include <caf/expected.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "protocol/pull_request_event.hpp"

namespace gilgal {

/// Event names as the routes see them, whatever the host calls them.
namespace hook_event {
constexpr const char* push = "push";
constexpr const char* tag_push = "tag_push";
constexpr const char* ping = "ping";
constexpr const char* pull_request = "pull_request";
} // namespace hook_event

struct git_host {
  const char* provider; // "github" | "gitlab" | "gitea"
  /// True if the request is signed (GitLab: carries the token) with `secret`.
  bool (*signed_with)(const httplib::Request& req, const std::string& secret);
  /// hook_event::push / tag_push / ping / pull_request, else the host's own
  /// name (may be empty).
  std::string (*event)(const httplib::Request& req);
  /// The host's id of this delivery (the same for a redelivery), or empty.
  std::string (*delivery_id)(const httplib::Request& req);
  /// Reads a pull_request event's payload.
  caf::expected<pull_request_event> (*pull_request)(const nlohmann::json& body);
};

/// The host named in the route ("github", "gitlab", "gitea"), or nullptr.
const git_host* find_git_host(const std::string& provider);

} // namespace gilgal
