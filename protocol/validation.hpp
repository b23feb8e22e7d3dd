// Field validation of API input. Every function returns an empty caf::error on
// success, or errc::invalid_argument whose message starts with the field name
// ("repositoryUrl: ..."), so a client learns which field to fix.
//
// The rules are deliberately narrow: values that end up as arguments of git or
// Docker (repository URL, branch) or in logs and hostnames must not carry shell
// metacharacters, control characters, whitespace or a leading '-', even though
// Gilgal never runs a shell.
#pragma once

#include <map>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "protocol/model.hpp"

namespace gilgal {

/// Frameworks a project may name ("auto" lets the builder detect it).
extern const char* const known_frameworks[8];

/// Environment types.
extern const char* const known_environment_types[3];

// Limits (documented in docs/openapi.yaml).
constexpr size_t max_name_length = 100;
constexpr size_t max_repository_url_length = 2048;
constexpr size_t max_branch_length = 255;
constexpr size_t max_variable_name_length = 256;
constexpr size_t max_variable_value_length = 32 * 1024;
constexpr size_t max_variables = 200;
constexpr int64_t max_page_limit = 100;
constexpr size_t max_node_label_length = 63;
constexpr size_t max_node_labels = 16;
constexpr size_t max_commit_message_length = 1000;
constexpr size_t max_idempotency_key_length = 255;
constexpr size_t max_notification_targets = 10;
constexpr size_t max_notification_url_length = 2048;
constexpr size_t max_aliases = 20;
constexpr double max_preview_ttl_hours = 24 * 365;
constexpr int64_t max_previews_limit = 100;
constexpr size_t max_preview_domain_length = 240; // pr-<number>. fits in 253

/// A project or environment name: 1..100 ASCII characters, letters, digits,
/// space, '.', '_' and '-'; starting with a letter or digit; no trailing space.
caf::error validate_name(const std::string& field, const std::string& value);

/// https://host[:port]/path, ssh://[user@]host[:port]/path, user@host:path;
/// and, only when `allow_local` is true, an absolute path or file:///path.
caf::error validate_repository_url(const std::string& field, const std::string& value,
                                   bool allow_local);

/// An HTTPS token of a private repository ("TOKEN" or "USER:TOKEN"): 1 to
/// 1024 printable ASCII characters without spaces, or empty (none). The message never
/// repeats the value.
caf::error validate_repository_token(const std::string& field, const std::string& value);

/// A git branch name (git check-ref-format rules), restricted to letters,
/// digits, '.', '_', '/', '-'.
caf::error validate_branch(const std::string& field, const std::string& value);

/// A commit SHA: 7 to 40 hexadecimal characters (either case).
caf::error validate_commit_sha(const std::string& field, const std::string& value);

/// A commit message given with a trigger: at most 1000 bytes, no control
/// characters other than tab.
caf::error validate_commit_message(const std::string& field, const std::string& value);

/// An Idempotency-Key header: 1 to 255 printable ASCII characters, no space.
caf::error validate_idempotency_key(const std::string& field, const std::string& value);

/// An http:// or https:// URL with a host, at most 2048 printable characters
/// without whitespace.
caf::error validate_notification_url(const std::string& field, const std::string& value);

/// deployment.started, deployment.succeeded, deployment.failed or deployment.cancelled.
bool is_notification_event(const std::string& name);

/// Refuses a notification URL whose host is an IP literal or a name of this
/// machine unless `allow_private_targets` (the rules of repository URLs; the
/// notifier resolves and checks names again before each attempt).
caf::error validate_notification_target(const std::string& field, const std::string& value,
                                        bool allow_private_targets);

/// One of known_frameworks.
caf::error validate_framework(const std::string& field, const std::string& value);

/// One of known_environment_types.
caf::error validate_environment_type(const std::string& field, const std::string& value);

/// A DNS hostname: labels of 1..63 letters, digits and '-' (not at either
/// end of a label), dot-separated, at most 253 characters. No wildcard and
/// no IP address (a last label of digits only).
caf::error validate_domain(const std::string& field, const std::string& value);

/// Host names compare without regard to case.
bool equal_hosts(const std::string& a, const std::string& b);

/// `[A-Za-z_][A-Za-z0-9_]*`, at most 256 characters.
caf::error validate_variable_name(const std::string& field, const std::string& value);

/// At most 32 KiB, no NUL character.
caf::error validate_variable_value(const std::string& field, const std::string& value);

/// Count and each name and value of an environment's variables.
caf::error validate_variables(const std::string& field,
                              const std::map<std::string, std::string>& vars);

/// A node label's name: 1..63 characters of [A-Za-z0-9._/-], starting with a
/// letter or digit.
caf::error validate_node_label_key(const std::string& field, const std::string& value);

/// A node label's value: 0..63 characters of [A-Za-z0-9._-].
caf::error validate_node_label_value(const std::string& field, const std::string& value);

/// At most 16 labels, each name and value as above (errors name
/// "FIELD.NAME" for a bad value). Used for an environment's required labels
/// and a node's own.
caf::error validate_node_labels(const std::string& field,
                                const std::map<std::string, std::string>& labels);

/// Resource limits and health check; zero / empty means "server default".
/// memoryMb 16..262144, cpus 0.01..256, pids 16..1048576, healthCheck.path an
/// absolute URL path of at most 1024 printable characters without whitespace,
/// healthCheck.timeoutSeconds 1..3600; buildNodeLabels and runNodeLabels as
/// validate_node_labels.
caf::error validate_environment_settings(const environment_settings& s);

/// The most an environment may ask for (server settings --max-memory-mb,
/// --max-cpus, --max-pids).
struct resource_maxima {
  int64_t memory_mb = 2048;
  double cpus = 2.0;
  int64_t pids = 512;
};

/// Refuses resources above the server's maxima: errc::invalid_argument
/// "resources.memoryMb: must be at most 2048 (this server's maximum)".
caf::error validate_resource_maxima(const environment_settings& s, const resource_maxima& max);

/// Refuses a repository URL whose host is an IP literal or a name of this
/// machine unless `allow_private_targets` (see protocol/network_address; names
/// are resolved and checked again where git runs). Local sources pass.
caf::error validate_repository_target(const std::string& field, const std::string& value,
                                      bool allow_private_targets);

/// Parses the query parameters `page` and `limit` (each may be absent: nullptr).
/// Only plain decimal digits are accepted; page >= 1, 1 <= limit <= 100.
caf::expected<page_request> parse_page_request(const std::string* page,
                                               const std::string* limit);

} // namespace gilgal
