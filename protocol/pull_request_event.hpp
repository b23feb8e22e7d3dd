// What a git host's pull request (GitLab: merge request) event says, read
// from GitHub's and Gitea/Forgejo's `pull_request` payloads and GitLab's
// `Merge Request Hook` into one shape.
//
//   host     number                     action: deploy              close           head commit / branch
//   github   number                     opened reopened synchronize closed          pull_request.head.sha / .ref
//   gitea    number                     opened reopened synchronized closed         pull_request.head.sha / .ref
//   gitlab   object_attributes.iid      open reopen update          close merge     object_attributes.last_commit.id
//                                                                                   / .source_branch
// Other actions (edited, labeled, approved, ...) are `ignored`.
#pragma once

#include <cstdint>
#include <string>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

namespace gilgal {

struct pull_request_event {
  enum action_kind {
    deploy, // opened, reopened or new commits: deploy the head commit
    close,  // closed or merged: remove the preview
    ignored // anything else: nothing to do
  };
  action_kind kind = ignored;
  std::string action;         // as the host names it (printable, at most 100 bytes)
  int64_t number = 0;         // 1 and up: the pull request's number (GitLab: iid)
  std::string head_sha;       // deploy: 40 lower-case hex characters
  std::string head_branch;    // the head (source) branch; empty when not a valid branch name
  std::string title;          // its first line, printable, at most 1000 bytes
  /// The head lives in another repository than the base (a fork): its code
  /// must not run with the base environment's variables.
  bool from_fork = false;
};

/// GitHub's, and Gitea's or Forgejo's, `pull_request` payload.
/// errc::invalid_argument naming the field ("pull_request.head.sha", ...)
/// when the payload is not one; a deploy needs a full commit SHA.
caf::expected<pull_request_event> parse_github_pull_request(const nlohmann::json& body);

/// GitLab's `Merge Request Hook` payload (object_kind "merge_request").
caf::expected<pull_request_event> parse_gitlab_merge_request(const nlohmann::json& body);

} // namespace gilgal
