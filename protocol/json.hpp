// The API's JSON: camelCase (de)serialisation of the records in
// protocol/model.hpp, and of pages {"items","total","page","limit","hasMore"}.
//
// Reading request bodies is strict: unknown fields, wrong types, missing
// required fields and invalid values are errc::invalid_argument whose message
// starts with the field name (see protocol/validation.hpp for value rules).
#pragma once

#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "protocol/cluster.hpp"
#include "protocol/json_writer.hpp"
#include "protocol/model.hpp"

namespace gilgal {

/// What list responses show instead of a variable's value.
constexpr const char* masked_value = "********";

// -- records -> JSON ---------------------------------------------------------

/// {"enabled", "baseEnvironmentId", "domain", "ttlHours", "maxPreviews"}.
nlohmann::json to_json(const preview_settings& x);

/// Carries "previews" (to_json of its preview_settings).
nlohmann::json to_json(const project& x);

/// `show_values`: false replaces every variable value with masked_value.
/// "preview" is null, or {"pullRequest", "provider", "branch"} for a preview.
nlohmann::json to_json(const environment& x, bool show_values);

/// camelCase fields plus the seed's snake_case `duration_seconds` (whole
/// seconds), `container_id` and `deployed_at` (null until known).
nlohmann::json to_json(const deployment& x);

/// One attempt of the notification history: {"id", "deliveryId", "event",
/// "deploymentId", "url", "attempt", "statusCode", "success", "error", "createdAt"}.
nlohmann::json to_json(const notification_attempt& x);

/// {"kind": "api"} or {"kind": "webhook", "provider", "deliveryId"}.
nlohmann::json to_json(const deployment_trigger& x);

nlohmann::json to_json(const log_line& x);

nlohmann::json to_json(const user& x);

/// A build-farm node: {"name", "state", "capacity", "runningBuilds",
/// "runningRuns", "labels", "lastHeartbeat", "joinedAt", "local"} (times null
/// when unknown).
nlohmann::json to_json(const node_status& x);

/// {"items": [f(item)...], "total", "page", "limit", "hasMore"}.
template <class T, class F>
nlohmann::json page_to_json(const page<T>& p, F f) {
  auto items = nlohmann::json::array();
  for (auto& item : p.items)
    items.push_back(f(item));
  return nlohmann::json{{"items", std::move(items)},
                        {"total", p.total},
                        {"page", p.page},
                        {"limit", p.limit},
                        {"hasMore", p.has_more()}};
}

/// to_json(x, show_values), written without building a document.
void write_json(json_writer& w, const environment& x, bool show_values,
                const std::string& url = {}, const std::string& live_deployment_id = {});

/// page_to_json(p, ...).dump(), written without building a document;
/// `write_item(w, item)` writes one item.
template <class T, class F>
std::string page_text(const page<T>& p, F write_item) {
  std::string out;
  out.reserve(256 + 512 * p.items.size());
  json_writer w{out};
  w.begin_object().key("hasMore").value(p.has_more()).key("items").begin_array();
  for (auto& item : p.items)
    write_item(w, item);
  w.end_array().key("limit").value(int64_t{p.limit}).key("page").value(int64_t{p.page});
  w.key("total").value(int64_t{p.total}).end_object();
  return out;
}

/// {"error": {"code": code, "message": message}}.
nlohmann::json error_json(const std::string& code, const std::string& message);

// -- request bodies -> records -----------------------------------------------

/// Parses a request body: a JSON object of at most a small nesting depth.
/// errc::invalid_argument naming "body" otherwise.
caf::expected<nlohmann::json> parse_json_object(const std::string& text);

/// Applies a create (`creating` = true: name and repositoryUrl required,
/// branch and framework defaulted) or PATCH body to `target`. Fields:
/// name, repositoryUrl, branch, framework, repositoryToken, notifications (an
/// array of {"url", "events"} replacing the list, or null; URLs are checked
/// here for form only: where they point is the caller's check, see
/// validate_notification_target), and previews (an object {enabled,
/// baseEnvironmentId, domain, ttlHours, maxPreviews} whose given members
/// replace the stored ones, or null for the defaults: off). Whether
/// baseEnvironmentId names an environment of the project is the caller's check.
caf::error apply_project_json(const nlohmann::json& body, project& target, bool creating,
                              bool allow_local_sources);

/// Applies a create (`creating` = true: name and type required) or PATCH body
/// to `target`. Fields: name, type, domain (string or null), environmentVariables
/// and buildVariables (objects of NAME -> string; in a PATCH the object MERGES
/// into the existing variables and a null value deletes that variable;
/// buildVariables are not secret and are always shown in full), resources {memoryMb,
/// cpus, pids} and healthCheck {path, timeoutSeconds} (a null member resets
/// it to the server default; in a PATCH absent members stay as they are),
/// buildNodeLabels and runNodeLabels (objects of string -> string: the labels
/// a node must carry to build / to run the environment's deployments; in a
/// PATCH the object MERGES like environmentVariables, a null value deletes
/// that label and a null object clears them all), autoDeploy (a boolean: a push
/// received by the project's webhook deploys it) and branch (the branch whose
/// pushes deploy it; null: the project's branch).
caf::error apply_environment_json(const nlohmann::json& body, environment& target,
                                  bool creating);

/// Reads a deployment trigger {environmentId, commitSha?, commitMessage?}
/// into `target` (unknown fields are errors; null means absent). The commit
/// SHA is stored in lower case.
caf::error apply_trigger_json(const nlohmann::json& body, deployment& target);

// -- response JSON -> records (for API clients such as the console) ----------

caf::expected<project> project_from_json(const nlohmann::json& j);
caf::expected<environment> environment_from_json(const nlohmann::json& j);
caf::expected<deployment> deployment_from_json(const nlohmann::json& j);
caf::expected<log_line> log_line_from_json(const nlohmann::json& j);
caf::expected<node_status> node_status_from_json(const nlohmann::json& j);

} // namespace gilgal
