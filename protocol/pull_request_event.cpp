#include "protocol/pull_request_event.hpp"

#include <cctype>
#include <limits>

#include "protocol/bytes.hpp"
#include "protocol/error.hpp"
#include "protocol/utf8.hpp"
#include "protocol/validation.hpp"

namespace gilgal {

namespace {

using nlohmann::json;

caf::error bad(const std::string& field, const std::string& why) {
  return make_error(errc::invalid_argument, field + ": " + why);
}

/// The member at `path` ("a.b.c") if every step is an object, else nullptr.
const json* at_path(const json& body, std::initializer_list<const char*> path) {
  const json* j = &body;
  for (auto key : path) {
    if (!j->is_object())
      return nullptr;
    auto it = j->find(key);
    if (it == j->end())
      return nullptr;
    j = &*it;
  }
  return j;
}

std::string string_at(const json& body, std::initializer_list<const char*> path) {
  auto j = at_path(body, path);
  return j && j->is_string() ? j->get<std::string>() : std::string{};
}

/// Client text as it may be stored or shown: first line, printable, bounded.
std::string printable_line(const std::string& text, size_t max) {
  auto line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  auto out = sanitize_log_text(line);
  truncate_utf8(out, max);
  return out;
}

caf::error read_number(const json& body, std::initializer_list<const char*> path,
                       const std::string& field, int64_t& out) {
  constexpr auto largest = std::numeric_limits<int32_t>::max();
  auto j = at_path(body, path);
  bool ok = j && j->is_number_integer()
            && (j->is_number_unsigned() ? j->get<uint64_t>() >= 1
                                            && j->get<uint64_t>() <= uint64_t{largest}
                                        : j->get<int64_t>() >= 1 && j->get<int64_t>() <= largest);
  if (!ok)
    return bad(field, "must be the pull request's number (a positive integer)");
  out = j->get<int64_t>();
  return {};
}

caf::error read_sha(const json& body, std::initializer_list<const char*> path,
                    const std::string& field, std::string& out) {
  auto sha = string_at(body, path);
  for (auto& ch : sha)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (sha.size() != 40 || !is_lower_hex(sha))
    return bad(field, "must be a full commit SHA (40 hexadecimal characters)");
  out = std::move(sha);
  return {};
}

/// A branch name Gilgal may hand to git, or empty.
std::string valid_branch(const std::string& name) {
  return validate_branch("branch", name) ? std::string{} : name;
}

} // namespace

caf::expected<pull_request_event> parse_github_pull_request(const json& body) {
  if (!body.is_object())
    return bad("body", "must be a JSON object");
  pull_request_event ev;
  auto action = at_path(body, {"action"});
  if (!action || !action->is_string())
    return bad("action", "a pull_request event names its action");
  ev.action = printable_line(action->get<std::string>(), 100);
  if (!at_path(body, {"pull_request"}) || !at_path(body, {"pull_request"})->is_object())
    return bad("pull_request", "must be an object");
  if (auto err = read_number(body, {"number"}, "number", ev.number))
    return err;
  auto& a = ev.action;
  if (a == "opened" || a == "reopened" || a == "synchronize" || a == "synchronized")
    ev.kind = pull_request_event::deploy;
  else if (a == "closed")
    ev.kind = pull_request_event::close;
  else
    return ev;
  ev.title = printable_line(string_at(body, {"pull_request", "title"}), max_commit_message_length);
  ev.head_branch = valid_branch(string_at(body, {"pull_request", "head", "ref"}));
  // A fork's head repository differs from the base's (or is gone: null).
  auto head_repo = string_at(body, {"pull_request", "head", "repo", "full_name"});
  auto base_repo = string_at(body, {"pull_request", "base", "repo", "full_name"});
  ev.from_fork = head_repo.empty() || head_repo != base_repo;
  if (ev.kind == pull_request_event::deploy)
    if (auto err = read_sha(body, {"pull_request", "head", "sha"}, "pull_request.head.sha",
                            ev.head_sha))
      return err;
  return ev;
}

caf::expected<pull_request_event> parse_gitlab_merge_request(const json& body) {
  if (!body.is_object())
    return bad("body", "must be a JSON object");
  if (string_at(body, {"object_kind"}) != "merge_request")
    return bad("object_kind", "a Merge Request Hook has object_kind merge_request");
  auto attrs = at_path(body, {"object_attributes"});
  if (!attrs || !attrs->is_object())
    return bad("object_attributes", "must be an object");
  pull_request_event ev;
  if (auto err = read_number(body, {"object_attributes", "iid"}, "object_attributes.iid",
                             ev.number))
    return err;
  // A merge request created through the API may come without an action.
  ev.action = printable_line(string_at(body, {"object_attributes", "action"}), 100);
  auto& a = ev.action;
  if (a == "open" || a == "reopen" || a == "update")
    ev.kind = pull_request_event::deploy;
  else if (a == "close" || a == "merge")
    ev.kind = pull_request_event::close;
  else
    return ev;
  ev.title = printable_line(string_at(body, {"object_attributes", "title"}),
                            max_commit_message_length);
  ev.head_branch = valid_branch(string_at(body, {"object_attributes", "source_branch"}));
  auto source = at_path(body, {"object_attributes", "source_project_id"});
  auto target = at_path(body, {"object_attributes", "target_project_id"});
  ev.from_fork = !source || !target || *source != *target;
  if (ev.kind == pull_request_event::deploy)
    if (auto err = read_sha(body, {"object_attributes", "last_commit", "id"},
                            "object_attributes.last_commit.id", ev.head_sha))
      return err;
  return ev;
}

} // namespace gilgal
