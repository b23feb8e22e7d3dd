// The operator console's client of the Gilgal API (over cli/console_http:
// libcurl, http or https): JSON requests with the bearer token, the server's
// error messages as errors, name-or-id resolution of projects and
// environments, and a live log follower over Server-Sent Events that
// reconnects with Last-Event-ID.
//
// Errors are gilgal errors: the API's {"error":{"code","message"}} becomes
// make_error(code of the HTTP status, message); a server that cannot be
// reached becomes errc::unavailable "cannot reach Gilgal at URL (...)".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "cli/console_options.hpp"

namespace gilgal::cli {

class api_client {
public:
  using json = nlohmann::json;

  explicit api_client(console_target target) : target_(std::move(target)) {
  }

  const console_target& target() const { return target_; }

  /// GET `path` (with its query); the body as JSON.
  caf::expected<json> get(const std::string& path) const;

  /// POST `path` with a JSON body; `idempotency_key` is sent if not empty.
  /// `read_timeout` bounds the wait for the answer (0: the default, 60 s).
  caf::expected<json> post(const std::string& path, const json& body,
                           const std::string& idempotency_key = {},
                           std::chrono::seconds read_timeout = std::chrono::seconds{0}) const;

  /// PATCH `path` with a JSON body.
  caf::expected<json> patch(const std::string& path, const json& body) const;

  /// DELETE `path`.
  caf::expected<json> del(const std::string& path) const;

  /// Any method with a JSON body (`read_timeout` 0: the default, 60 s).
  caf::expected<json> send(const std::string& method, const std::string& path, const json& body,
                           const std::string& idempotency_key = {},
                           std::chrono::seconds read_timeout = std::chrono::seconds{0}) const;

  /// Every item of a paginated list (pages of 100).
  caf::expected<std::vector<json>> get_all(const std::string& path) const;

  /// The project whose id or name is `id_or_name` (an exact id wins; a name
  /// shared by several projects is an error listing their ids).
  caf::expected<json> resolve_project(const std::string& id_or_name) const;

  /// The environment of project `project_id` whose id or name is `id_or_name`.
  caf::expected<json> resolve_environment(const std::string& project_id,
                                          const std::string& id_or_name) const;

  /// Called with each log line object {seq,timestamp,level,message}.
  using line_handler = std::function<void(const json&)>;
  /// Called before each reconnect with the attempt number (1, 2, ...) and why.
  using reconnect_handler = std::function<void(int, const std::string&)>;

  /// Follows a deployment's log live from after `last_seq` until the server
  /// sends the end event; `last_seq` advances with every line delivered.
  /// A dropped connection (or a 5xx answer) is retried with backoff and
  /// Last-Event-ID, up to `max_retries` times in a row without progress.
  /// Returns the final status from the end event ("success", "failed", ...).
  caf::expected<std::string> follow_log(const std::string& deployment_id, int64_t& last_seq,
                                        const line_handler& on_line,
                                        const reconnect_handler& on_reconnect = nullptr,
                                        int max_retries = 12) const;

  /// Follows an environment's runtime log (GET /api/environments/:id/logs
  /// ?follow=1&tail=N; tail < 0: the server's default) until the server ends
  /// the stream (the environment was deleted: its reason is returned).
  /// Reconnects like follow_log, resuming after the last line's timestamp.
  caf::expected<std::string> follow_app_log(const std::string& environment_id, int tail,
                                            const line_handler& on_line,
                                            const reconnect_handler& on_reconnect = nullptr,
                                            int max_retries = 12) const;

private:
  console_target target_;
};

/// "/api/..." with each path segment percent-encoded by the caller's choice:
/// encodes one path segment (ids and names from the command line).
std::string path_segment(const std::string& text);

/// The console exit code for an error of api_client (unreachable: 4, else 1).
int exit_code_of(const caf::error& err);

/// The message of an error for the terminal ("error: " is added by the caller).
std::string error_text(const caf::error& err);

} // namespace gilgal::cli
