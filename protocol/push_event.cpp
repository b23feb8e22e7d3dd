#include "protocol/push_event.hpp"

#include <cctype>

#include "protocol/bytes.hpp"
#include "protocol/error.hpp"
#include "protocol/utf8.hpp"
#include "protocol/validation.hpp"

namespace gilgal {

namespace {

caf::error bad(const std::string& field, const std::string& why) {
  return make_error(errc::invalid_argument, field + ": " + why);
}

/// The message of the commit `sha` in the payload, or empty.
std::string head_commit_message(const nlohmann::json& body, const std::string& sha) {
  auto message_of = [](const nlohmann::json& commit) -> std::string {
    if (!commit.is_object())
      return {};
    auto m = commit.find("message");
    return m != commit.end() && m->is_string() ? m->get<std::string>() : std::string{};
  };
  if (auto head = body.find("head_commit"); head != body.end() && head->is_object())
    return message_of(*head);
  if (auto commits = body.find("commits"); commits != body.end() && commits->is_array())
    for (auto& c : *commits)
      if (c.is_object() && c.contains("id") && c["id"].is_string()) {
        auto id = c["id"].get<std::string>();
        for (auto& ch : id)
          ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (id == sha)
          return message_of(c);
      }
  return {};
}

/// First line, printable, at most max_commit_message_length bytes.
std::string subject_line(const std::string& message) {
  auto line = message.substr(0, message.find('\n'));
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  auto out = sanitize_log_text(line);
  truncate_utf8(out, max_commit_message_length);
  return out;
}

} // namespace

caf::expected<push_event> parse_push_event(const nlohmann::json& body) {
  if (!body.is_object())
    return bad("body", "must be a JSON object");
  push_event ev;
  auto ref = body.find("ref");
  if (ref == body.end() || !ref->is_string() || ref->get<std::string>().empty())
    return bad("ref", "a push names the ref it updates");
  ev.ref = ref->get<std::string>();
  constexpr std::string_view heads = "refs/heads/";
  if (ev.ref.size() > heads.size() && ev.ref.compare(0, heads.size(), heads) == 0)
    ev.branch = ev.ref.substr(heads.size());
  auto after = body.find("after");
  if (after == body.end() || !after->is_string())
    return bad("after", "a push names the commit the ref now points to");
  auto sha = after->get<std::string>();
  for (auto& ch : sha)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  // A full SHA-1 object name (what deployments record); all zeros: the ref was deleted.
  if (!is_lower_hex(sha) || sha.size() != 40)
    return bad("after", "must be a full commit SHA (40 hexadecimal characters)");
  auto deleted = body.find("deleted");
  ev.deletes_ref = sha.find_first_not_of('0') == std::string::npos
                   || (deleted != body.end() && deleted->is_boolean() && deleted->get<bool>());
  if (!ev.deletes_ref) {
    ev.commit_sha = sha;
    ev.commit_message = subject_line(head_commit_message(body, sha));
  }
  return ev;
}

} // namespace gilgal
