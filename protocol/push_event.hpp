// What a git host's push payload says, read the same way for GitHub, GitLab
// and Gitea/Forgejo (their push payloads share "ref", "after" and "commits";
// GitHub and Gitea add "head_commit", GitHub and Gitea "deleted").
#pragma once

#include <string>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

namespace gilgal {

struct push_event {
  std::string ref;            // "refs/heads/main", "refs/tags/v1", ...
  std::string branch;         // "main" for refs/heads/main; empty for anything else
  std::string commit_sha;     // `after`, lower case; empty when the push deletes the ref
  std::string commit_message; // the head commit's subject line (may be empty)
  bool deletes_ref = false;   // `after` is all zeros, or "deleted": true

  /// A push that can deploy: to a branch, not deleting it.
  bool deploys() const {
    return !branch.empty() && !deletes_ref;
  }
};

/// Reads a push payload. errc::invalid_argument naming the field ("ref",
/// "after") when it is not one. The commit message is the head commit's
/// ("head_commit", else the commit in "commits" whose id is `after`): its
/// first line, control characters escaped, cut at 1000 bytes.
caf::expected<push_event> parse_push_event(const nlohmann::json& body);

} // namespace gilgal
