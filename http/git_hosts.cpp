#include "http/git_hosts.hpp"

#include "protocol/bytes.hpp"

namespace gilgal {

namespace {

/// The first of the headers present (empty if none is).
std::string first_header(const httplib::Request& req, std::initializer_list<const char*> names) {
  for (auto name : names)
    if (req.has_header(name))
      return req.get_header_value(name);
  return {};
}

// -- GitHub ----------------------------------------------------------------------

bool github_signed(const httplib::Request& req, const std::string& secret) {
  auto given = req.get_header_value("X-Hub-Signature-256");
  return constant_time_equal(given, "sha256=" + hmac_sha256_hex(secret, req.body));
}

std::string github_event(const httplib::Request& req) {
  return req.get_header_value("X-GitHub-Event"); // push, ping, ... as they are
}

std::string github_delivery(const httplib::Request& req) {
  return req.get_header_value("X-GitHub-Delivery");
}

// -- GitLab ----------------------------------------------------------------------

bool gitlab_signed(const httplib::Request& req, const std::string& secret) {
  return req.has_header("X-Gitlab-Token")
         && constant_time_equal(req.get_header_value("X-Gitlab-Token"), secret);
}

std::string gitlab_event(const httplib::Request& req) {
  auto name = req.get_header_value("X-Gitlab-Event");
  if (name == "Push Hook")
    return hook_event::push;
  if (name == "Tag Push Hook")
    return hook_event::tag_push;
  if (name == "Merge Request Hook")
    return hook_event::pull_request;
  return name;
}

std::string gitlab_delivery(const httplib::Request& req) {
  // Idempotency-Key (GitLab 17.4+) is kept across retries; older versions
  // send only the event UUID.
  return first_header(req, {"Idempotency-Key", "X-Gitlab-Event-UUID"});
}

// -- Gitea and Forgejo -------------------------------------------------------------

bool gitea_signed(const httplib::Request& req, const std::string& secret) {
  auto given = first_header(req, {"X-Gitea-Signature", "X-Forgejo-Signature"});
  return !given.empty() && constant_time_equal(given, hmac_sha256_hex(secret, req.body));
}

std::string gitea_event(const httplib::Request& req) {
  return first_header(req, {"X-Gitea-Event", "X-Forgejo-Event", "X-Gogs-Event"});
}

std::string gitea_delivery(const httplib::Request& req) {
  return first_header(req, {"X-Gitea-Delivery", "X-Forgejo-Delivery", "X-Gogs-Delivery"});
}

const git_host hosts[] = {
  {"github", github_signed, github_event, github_delivery, parse_github_pull_request},
  {"gitlab", gitlab_signed, gitlab_event, gitlab_delivery, parse_gitlab_merge_request},
  {"gitea", gitea_signed, gitea_event, gitea_delivery, parse_github_pull_request},
};

} // namespace

const git_host* find_git_host(const std::string& provider) {
  for (auto& h : hosts)
    if (provider == h.provider)
      return &h;
  return nullptr;
}

} // namespace gilgal
