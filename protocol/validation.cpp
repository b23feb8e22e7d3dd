#include "protocol/validation.hpp"

#include <cctype>
#include <cmath>
#include <cstring>

#include "protocol/error.hpp"
#include "protocol/network_address.hpp"

namespace gilgal {

const char* const known_frameworks[8] = {"auto",   "dockerfile", "nextjs", "react",
                                         "nodejs", "django",     "python", "static"};

const char* const known_environment_types[3] = {"production", "staging", "development"};

namespace {

caf::error bad(const std::string& field, const std::string& why) {
  return make_error(errc::invalid_argument, field + ": " + why);
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool has_control(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f)
      return true;
  return false;
}

bool has_whitespace(const std::string& s) {
  for (char c : s)
    if (c == ' ' || c == '\t')
      return true;
  return false;
}

bool has_shell_meta(const std::string& s) {
  static const char* meta = "$`;&|<>()\\'\"!*?[]{}^#";
  for (char c : s)
    if (std::strchr(meta, c) != nullptr && c != '\0')
      return true;
  return false;
}

bool has_non_ascii(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80)
      return true;
  return false;
}

/// The checks shared by every value that may reach a command line: returns an
/// error naming the first problem, if any.
caf::error check_argument_text(const std::string& field, const std::string& s) {
  if (s.empty())
    return bad(field, "must not be empty");
  if (has_control(s))
    return bad(field, "must not contain control characters");
  if (has_whitespace(s))
    return bad(field, "must not contain whitespace");
  if (s.front() == '-')
    return bad(field, "must not start with '-'");
  if (has_shell_meta(s))
    return bad(field, "must not contain shell metacharacters");
  if (has_non_ascii(s))
    return bad(field, "must contain ASCII characters only");
  return {};
}

bool is_hostname(const std::string& s) {
  if (s.empty() || s.size() > 253)
    return false;
  size_t start = 0;
  while (true) {
    auto dot = s.find('.', start);
    auto label = s.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label)
      if (!is_alnum(c) && c != '-')
        return false;
    if (dot == std::string::npos)
      return true;
    start = dot + 1;
  }
}

bool is_url_user(const std::string& s) {
  if (s.empty() || s.size() > 64 || s.front() == '-')
    return false;
  for (char c : s)
    if (!is_alnum(c) && c != '.' && c != '_' && c != '-')
      return false;
  return true;
}

/// Path characters of a repository location (after the host).
bool is_repo_path(const std::string& s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (!is_alnum(c) && std::strchr("._~/%+-", c) == nullptr)
      return false;
  return true;
}

bool has_dotdot_component(const std::string& path) {
  size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    auto part = path.substr(start, slash == std::string::npos ? std::string::npos
                                                              : slash - start);
    if (part == "..")
      return true;
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  return false;
}

/// [user@]host[:port] of an https:// or ssh:// URL.
caf::error check_authority(const std::string& field, const std::string& authority,
                           bool allow_user) {
  auto host = authority;
  auto at = host.find('@');
  if (at != std::string::npos) {
    if (!allow_user || !is_url_user(host.substr(0, at)))
      return bad(field, "invalid user part");
    host = host.substr(at + 1);
  }
  auto colon = host.find(':');
  if (colon != std::string::npos) {
    auto port = host.substr(colon + 1);
    host = host.substr(0, colon);
    if (port.empty() || port.size() > 5)
      return bad(field, "invalid port");
    for (char c : port)
      if (!is_digit(c))
        return bad(field, "invalid port");
    auto n = std::stol(port);
    if (n < 1 || n > 65535)
      return bad(field, "invalid port");
  }
  if (!is_hostname(host))
    return bad(field, "invalid host");
  return {};
}

caf::error check_local_path(const std::string& field, const std::string& path,
                            bool allow_local) {
  if (!allow_local)
    return bad(field, "local sources are disabled on this server "
                      "(start it with --allow-local-sources)");
  if (path.size() < 2 || path.front() != '/' || !is_repo_path(path))
    return bad(field, "must be an absolute path");
  if (has_dotdot_component(path))
    return bad(field, "must not contain '..' components");
  return {};
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.compare(0, std::strlen(prefix), prefix) == 0;
}

} // namespace

caf::error validate_name(const std::string& field, const std::string& value) {
  if (value.empty())
    return bad(field, "must not be empty");
  if (value.size() > max_name_length)
    return bad(field, "must be at most 100 characters");
  if (has_control(value))
    return bad(field, "must not contain control characters");
  for (char c : value)
    if (!is_alnum(c) && std::strchr(" ._-", c) == nullptr)
      return bad(field, "may contain only letters, digits, space, '.', '_' and '-'");
  if (!is_alnum(value.front()))
    return bad(field, "must start with a letter or digit");
  if (value.back() == ' ')
    return bad(field, "must not end with a space");
  return {};
}

caf::error validate_repository_url(const std::string& field, const std::string& value,
                                   bool allow_local) {
  if (value.size() > max_repository_url_length)
    return bad(field, "must be at most 2048 characters");
  if (auto err = check_argument_text(field, value))
    return err;
  auto remote = [&](const std::string& rest, bool allow_user) -> caf::error {
    auto slash = rest.find('/');
    if (slash == std::string::npos || slash + 1 >= rest.size())
      return bad(field, "must name a repository path after the host");
    if (auto err = check_authority(field, rest.substr(0, slash), allow_user))
      return err;
    auto path = rest.substr(slash + 1);
    if (!is_repo_path(path) || path.front() == '-')
      return bad(field, "invalid repository path");
    if (has_dotdot_component(path))
      return bad(field, "must not contain '..' components");
    return {};
  };
  if (starts_with(value, "https://"))
    return remote(value.substr(8), false);
  if (starts_with(value, "ssh://"))
    return remote(value.substr(6), true);
  if (starts_with(value, "file://"))
    return check_local_path(field, value.substr(7), allow_local);
  if (value.front() == '/')
    return check_local_path(field, value, allow_local);
  // scp-like: user@host:path
  auto at = value.find('@');
  auto colon = value.find(':');
  if (at != std::string::npos && colon != std::string::npos && at < colon
      && value.find("://") == std::string::npos) {
    if (!is_url_user(value.substr(0, at)))
      return bad(field, "invalid user part");
    if (!is_hostname(value.substr(at + 1, colon - at - 1)))
      return bad(field, "invalid host");
    auto path = value.substr(colon + 1);
    if (!is_repo_path(path) || path.front() == '-')
      return bad(field, "invalid repository path");
    if (has_dotdot_component(path))
      return bad(field, "must not contain '..' components");
    return {};
  }
  return bad(field, allow_local ? "must be an https://, ssh:// or user@host:path URL, "
                                  "an absolute path or a file:// URL"
                                : "must be an https://, ssh:// or user@host:path URL");
}

caf::error validate_commit_sha(const std::string& field, const std::string& value) {
  auto hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  };
  bool ok = value.size() >= 7 && value.size() <= 40;
  for (char c : value)
    ok = ok && hex(c);
  if (!ok)
    return make_error(errc::invalid_argument,
                      field + ": must be 7 to 40 hexadecimal characters");
  return {};
}

caf::error validate_commit_message(const std::string& field, const std::string& value) {
  if (value.size() > max_commit_message_length)
    return make_error(errc::invalid_argument, field + ": must be at most 1000 bytes");
  for (unsigned char c : value)
    if (c < 0x20 && c != '\t')
      return make_error(errc::invalid_argument,
                        field + ": must not contain control characters");
  return {};
}

caf::error validate_idempotency_key(const std::string& field, const std::string& value) {
  if (value.empty() || value.size() > max_idempotency_key_length)
    return make_error(errc::invalid_argument, field + ": must be 1 to 255 characters");
  for (unsigned char c : value)
    if (c < 0x21 || c > 0x7e)
      return make_error(errc::invalid_argument,
                        field + ": must be printable ASCII without spaces");
  return {};
}

caf::error validate_repository_token(const std::string& field, const std::string& value) {
  if (value.empty())
    return {}; // no token
  if (value.size() > 1024)
    return bad(field, "must be at most 1024 characters");
  for (unsigned char c : value)
    if (c < 0x21 || c > 0x7e)
      return bad(field, "must be printable ASCII without spaces");
  if (value.front() == ':' || value.back() == ':')
    return bad(field, "must be TOKEN or USER:TOKEN");
  return {};
}

caf::error validate_branch(const std::string& field, const std::string& value) {
  if (value.size() > max_branch_length)
    return bad(field, "must be at most 255 characters");
  if (auto err = check_argument_text(field, value))
    return err;
  for (char c : value)
    if (!is_alnum(c) && std::strchr("._/-", c) == nullptr)
      return bad(field, "may contain only letters, digits, '.', '_', '/' and '-'");
  if (value.front() == '/' || value.back() == '/' || value.back() == '.')
    return bad(field, "must not start or end with '/' or end with '.'");
  if (value.find("..") != std::string::npos || value.find("//") != std::string::npos)
    return bad(field, "must not contain '..' or '//'");
  size_t start = 0;
  while (true) {
    auto slash = value.find('/', start);
    auto part = value.substr(start, slash == std::string::npos ? std::string::npos
                                                               : slash - start);
    if (part.front() == '.')
      return bad(field, "no component may start with '.'");
    if (part.size() >= 5 && part.compare(part.size() - 5, 5, ".lock") == 0)
      return bad(field, "no component may end with '.lock'");
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  return {};
}

caf::error validate_notification_url(const std::string& field, const std::string& value) {
  auto fail = [&](const std::string& why) {
    return make_error(errc::invalid_argument, field + ": " + why);
  };
  if (value.empty() || value.size() > max_notification_url_length)
    return fail("must be 1 to 2048 characters");
  for (unsigned char c : value)
    if (c <= 0x20 || c >= 0x7f)
      return fail("must not contain whitespace, control or non-ASCII characters");
  auto lower = value.substr(0, 8);
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.rfind("http://", 0) != 0 && lower.rfind("https://", 0) != 0)
    return fail("must be an http:// or https:// URL");
  auto target = parse_url_target(value);
  if (!target || target->host.empty())
    return fail("must name a host");
  return {};
}

bool is_notification_event(const std::string& name) {
  for (auto known : {notification_event::started, notification_event::succeeded,
                     notification_event::failed, notification_event::cancelled})
    if (name == known)
      return true;
  return false;
}

caf::error validate_notification_target(const std::string& field, const std::string& value,
                                        bool allow_private_targets) {
  auto target = parse_url_target(value);
  if (!target)
    return make_error(errc::invalid_argument, field + ": must name a host");
  return check_target_host(field, target->host, allow_private_targets);
}

caf::error validate_framework(const std::string& field, const std::string& value) {
  for (auto name : known_frameworks)
    if (value == name)
      return {};
  return bad(field, "must be one of auto, dockerfile, nextjs, react, nodejs, django, "
                    "python, static");
}

caf::error validate_environment_type(const std::string& field, const std::string& value) {
  for (auto name : known_environment_types)
    if (value == name)
      return {};
  return bad(field, "must be one of production, staging, development");
}

caf::error validate_domain(const std::string& field, const std::string& value) {
  if (has_control(value))
    return bad(field, "must not contain control characters");
  if (value.find('*') != std::string::npos)
    return bad(field, "must be one host name, not a wildcard");
  if (!is_hostname(value))
    return bad(field, "must be a valid hostname");
  auto last = value.substr(value.rfind('.') == std::string::npos ? 0 : value.rfind('.') + 1);
  bool digits_only = true;
  for (char c : last)
    digits_only = digits_only && is_digit(c);
  if (digits_only)
    return bad(field, "must be a host name, not an IP address");
  return {};
}

bool equal_hosts(const std::string& a, const std::string& b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i]))
        != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

caf::error validate_variable_name(const std::string& field, const std::string& value) {
  if (value.empty())
    return bad(field, "variable names must not be empty");
  if (value.size() > max_variable_name_length)
    return bad(field, "variable names must be at most 256 characters");
  auto ok_first = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!ok_first(value.front()))
    return bad(field, "variable names must match [A-Za-z_][A-Za-z0-9_]*");
  for (char c : value)
    if (!ok_first(c) && !is_digit(c))
      return bad(field, "variable names must match [A-Za-z_][A-Za-z0-9_]*");
  return {};
}

caf::error validate_variable_value(const std::string& field, const std::string& value) {
  if (value.size() > max_variable_value_length)
    return bad(field, "must be at most 32768 bytes");
  if (value.find('\0') != std::string::npos)
    return bad(field, "must not contain NUL characters");
  return {};
}

caf::error validate_variables(const std::string& field,
                              const std::map<std::string, std::string>& vars) {
  if (vars.size() > max_variables)
    return bad(field, "at most 200 variables");
  for (auto& [name, value] : vars) {
    if (auto err = validate_variable_name(field, name))
      return err;
    if (auto err = validate_variable_value(field + "." + name, value))
      return err;
  }
  return {};
}

caf::error validate_node_label_key(const std::string& field, const std::string& value) {
  if (value.empty())
    return bad(field, "label names must not be empty");
  if (value.size() > max_node_label_length)
    return bad(field, "label names must be at most 63 characters");
  if (!is_alnum(value.front()))
    return bad(field, "label names must start with a letter or digit");
  for (char c : value)
    if (!is_alnum(c) && std::strchr("._/-", c) == nullptr)
      return bad(field, "label names may contain only letters, digits, '.', '_', '/' and '-'");
  return {};
}

caf::error validate_node_label_value(const std::string& field, const std::string& value) {
  if (value.size() > max_node_label_length)
    return bad(field, "must be at most 63 characters");
  for (char c : value)
    if (!is_alnum(c) && std::strchr("._-", c) == nullptr)
      return bad(field, "may contain only letters, digits, '.', '_' and '-'");
  return {};
}

caf::error validate_node_labels(const std::string& field,
                                const std::map<std::string, std::string>& labels) {
  if (labels.size() > max_node_labels)
    return bad(field, "at most 16 labels");
  for (auto& [name, value] : labels) {
    if (auto err = validate_node_label_key(field, name))
      return err;
    if (auto err = validate_node_label_value(field + "." + name, value))
      return err;
  }
  return {};
}

caf::error validate_environment_settings(const environment_settings& s) {
  if (s.memory_mb != 0 && (s.memory_mb < 16 || s.memory_mb > 262144))
    return bad("resources.memoryMb", "must be between 16 and 262144");
  if (s.cpus != 0 && (!std::isfinite(s.cpus) || s.cpus < 0.01 || s.cpus > 256))
    return bad("resources.cpus", "must be between 0.01 and 256");
  if (s.pids != 0 && (s.pids < 16 || s.pids > 1048576))
    return bad("resources.pids", "must be between 16 and 1048576");
  auto& path = s.health_check_path;
  if (!path.empty()) {
    if (path.size() > 1024)
      return bad("healthCheck.path", "must be at most 1024 characters");
    if (path.front() != '/')
      return bad("healthCheck.path", "must start with '/'");
    for (unsigned char c : path)
      if (c <= 0x20 || c >= 0x7f)
        return bad("healthCheck.path", "must be printable ASCII without whitespace");
  }
  if (s.health_check_timeout_seconds != 0
      && (s.health_check_timeout_seconds < 1 || s.health_check_timeout_seconds > 3600))
    return bad("healthCheck.timeoutSeconds", "must be between 1 and 3600");
  if (auto err = validate_node_labels("buildNodeLabels", s.build_labels))
    return err;
  if (auto err = validate_node_labels("runNodeLabels", s.run_labels))
    return err;
  return {};
}

caf::error validate_resource_maxima(const environment_settings& s, const resource_maxima& max) {
  auto over = [](const char* field, const std::string& limit) {
    return bad(field, "must be at most " + limit + " (this server's maximum)");
  };
  if (s.memory_mb > max.memory_mb)
    return over("resources.memoryMb", std::to_string(max.memory_mb));
  if (s.cpus > max.cpus) {
    auto text = std::to_string(max.cpus);
    text.erase(text.find_last_not_of('0') + 1);
    if (!text.empty() && text.back() == '.')
      text.pop_back();
    return over("resources.cpus", text);
  }
  if (s.pids > max.pids)
    return over("resources.pids", std::to_string(max.pids));
  return {};
}

caf::error validate_repository_target(const std::string& field, const std::string& value,
                                      bool allow_private_targets) {
  if (value.empty() || value.front() == '/' || starts_with(value, "file://"))
    return {};
  auto target = parse_url_target(value);
  if (!target)
    return bad(field, "has no host");
  return check_target_host(field, target->host, allow_private_targets);
}

caf::expected<page_request> parse_page_request(const std::string* page,
                                               const std::string* limit) {
  auto parse = [](const std::string& field, const std::string& text,
                  int64_t& out) -> caf::error {
    if (text.empty() || text.size() > 9)
      return bad(field, "must be a positive integer");
    for (char c : text)
      if (!is_digit(c))
        return bad(field, "must be a positive integer");
    out = std::stoll(text);
    return {};
  };
  page_request req;
  if (page != nullptr) {
    if (auto err = parse("page", *page, req.page))
      return err;
    if (req.page < 1)
      return bad("page", "must be at least 1");
  }
  if (limit != nullptr) {
    if (auto err = parse("limit", *limit, req.limit))
      return err;
    if (req.limit < 1 || req.limit > max_page_limit)
      return bad("limit", "must be between 1 and 100");
  }
  return req;
}

} // namespace gilgal
