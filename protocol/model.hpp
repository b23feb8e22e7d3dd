// Gilgal's records, as stored and as sent between actors. Field names are
// snake_case here; their camelCase JSON form lives in protocol/json.hpp.
// Timestamps are RFC 3339 UTC strings with milliseconds ("2026-11-27T04:31:17.123Z")
// so that they sort as text and travel as they are.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>

#include "protocol/deployment_state.hpp"
#include "protocol/error.hpp"

namespace gilgal {

struct user {
  std::string id;
  std::string name;
  std::string created_at;
};

/// An API token as stored: only the SHA-256 of its secret part (hex).
struct api_token {
  std::string id;        // public token id, part of the token text
  std::string user_id;
  std::string secret_hash; // hex SHA-256 of the whole token text
  std::string created_at;
  std::string revoked_at;  // empty while the token is valid
};

/// Deployment events a project can be notified of.
namespace notification_event {
constexpr const char* started = "deployment.started";
constexpr const char* succeeded = "deployment.succeeded";
constexpr const char* failed = "deployment.failed";
constexpr const char* cancelled = "deployment.cancelled";
} // namespace notification_event

/// Where a project's deployment events are POSTed, and which of them.
struct notification_target {
  std::string url;                 // http(s)://host[:port]/path
  std::vector<std::string> events; // notification_event names
};

/// A project's preview environments: one environment `pr-<number>` per
/// open pull request (merge request), created, deployed and removed by the
/// project's webhook. The defaults are what an unset project has.
struct preview_settings {
  bool enabled = false;
  /// The environment whose variables (copied sealed), build variables,
  /// resources, health check and node labels a preview starts from. Empty:
  /// none (no variables, the server's defaults).
  std::string base_environment_id;
  /// Previews are served at pr-<number>.<domain>; empty: at the generated
  /// host pr-<number>-<project>.<apps domain>.
  std::string domain;
  /// A preview without a deployment or a change for this long is removed.
  double ttl_hours = 72;
  /// Open previews at most; a pull request past them gets none.
  int64_t max_previews = 10;
};

struct project {
  std::string id;
  std::string owner_id;
  std::string name;
  std::string repository_url;
  std::string branch = "main";
  std::string framework = "auto";
  /// Signed notifications of deployment events (actors/notifier.hpp). Only
  /// the control plane uses them: not inspected, so a project sent to a node
  /// (in a build_job) carries none and the cluster protocol is unchanged.
  std::vector<notification_target> notifications;
  std::string created_at;
  std::string updated_at;
  // Private repositories (what may be shown; the secrets are only ever in a
  // repository_access): whether an HTTPS token is stored, and the public half
  // of the project's deploy key (OpenSSH one-line form; empty: none).
  bool has_repository_token = false;
  std::string deploy_public_key;
  /// The HTTPS token to store, on create and update only: absent keeps the
  /// stored one, "" removes it. Write-only: reads never fill it, and it is
  /// not sent between actors (not inspected).
  caf::optional<std::string> repository_token;
  /// Preview environments (read from and written to the store with the
  /// project; not inspected: no actor message needs them).
  preview_settings previews;
};

/// What git needs to read a project's private repository. Secret: sealed at
/// rest (config/secret_box), never logged, never in an API answer; it travels
/// only inside a build_job, to the node that fetches the source.
struct repository_access {
  std::string token;       // HTTPS token ("TOKEN" or "USER:TOKEN"); empty: none
  std::string deploy_key;  // OpenSSH private key (ed25519); empty: none
  std::string known_hosts; // the project's ssh known_hosts, recorded by Gilgal on first use
};

/// What makes an environment the preview of a pull request (merge request).
struct preview_source {
  int64_t pull_request = 0; // its number (GitLab: the iid); 0: not a preview
  std::string provider;     // github | gitlab | gitea
  std::string branch;       // the pull request's head (source) branch
};

/// Resource limits and health check of an environment's containers.
/// Zero / empty means "use the server's default".
struct environment_settings {
  int64_t memory_mb = 0;
  double cpus = 0;
  int64_t pids = 0;
  std::string health_check_path;   // e.g. "/"; empty: server default
  int64_t health_check_timeout_seconds = 0;
  // Labels a node must carry to build / to run this environment's deployments
  // (build farm). Empty: any node.
  std::map<std::string, std::string> build_labels;
  std::map<std::string, std::string> run_labels;
};

struct environment {
  std::string id;
  std::string project_id;
  std::string name;
  std::string type = "development"; // production | staging | development
  std::string domain;               // may be empty
  std::vector<std::string> aliases; // more hosts of the same app; only with a domain
  std::map<std::string, std::string> variables; // plaintext in memory; encrypted at rest
  /// Build-time variables: passed to the image build as Docker build args.
  /// Not secret: stored as they are, shown in full, visible in the image history.
  std::map<std::string, std::string> build_variables;
  environment_settings settings;
  /// A push to `branch` (empty: the project's branch) received by the
  /// project's webhook deploys this environment.
  bool auto_deploy = false;
  std::string branch;
  /// Set only on environments the webhook created for a pull request
  /// (written once, at creation; not inspected: no actor message needs it).
  preview_source preview;
  std::string created_at;
  std::string updated_at;
};

/// A preview as listed: its environment (variable values masked), when it
/// last saw a deployment or a change, and its newest deployment.
struct preview_view {
  environment env;
  std::string last_activity_at;
  std::string latest_deployment_id; // empty: none
  deployment_status latest_status = deployment_status::pending; // meaningless without one
  std::string latest_commit_sha;
};

/// What the preview reaper needs to know of one preview.
struct preview_activity {
  std::string environment_id;
  std::string project_id;
  std::string name;
  int64_t pull_request = 0;
  double ttl_hours = 0;          // its project's
  std::string last_activity_at;  // the latest of its own and its deployments' updated_at
  bool busy = false;             // a deployment of it is pending or building
};

/// An environment as the proxy sees it: its names, its hosts and the container
/// of its live deployment (the newest successful one; empty when none).
struct environment_route {
  std::string environment_id;
  std::string environment_name;
  std::string project_id;
  std::string project_name;
  std::string domain;
  std::vector<std::string> aliases;
  std::string created_at; // of the environment
  std::string live_deployment_id;
  std::string live_created_at; // of that deployment
  std::string container_id;
  int64_t port = 0;
  std::string run_node;
  /// The live deployment's container was stopped through the API: no upstream.
  bool stopped = false;
};

/// What created a deployment: "api" (a user's request, rollbacks included)
/// or "webhook" (a push received from a git host). Set once, at creation.
struct deployment_trigger {
  std::string kind = "api";
  std::string provider;    // webhook: github | gitlab | gitea
  std::string delivery_id; // webhook: the git host's id of the delivery
};

struct deployment {
  std::string id;
  std::string project_id;
  std::string environment_id;
  std::string commit_sha;
  std::string commit_message;
  deployment_status status = deployment_status::pending;
  caf::optional<double> duration_seconds;
  std::string deployed_at;     // empty until success
  std::string container_id;    // empty until a container runs
  std::string image_name;
  int64_t port = 0;            // host port, 0 until running
  std::string error_message;
  std::string idempotency_key; // empty if none was given
  deployment_kind kind = deployment_kind::deploy;
  std::string rollback_of;     // kind rollback: the deployment brought back
  std::string build_node;
  std::string run_node;
  deployment_trigger trigger;
  std::string created_at;
  std::string updated_at;
};

/// One webhook delivery received for a project (its id is unique per
/// project and provider: a redelivery is recognised and does nothing).
struct webhook_delivery {
  std::string id;
  std::string project_id;
  std::string provider;    // github | gitlab | gitea
  std::string delivery_id; // X-GitHub-Delivery, GitLab's Idempotency-Key, ...
  std::string event;       // push, ...
  std::string received_at;
};

/// One attempt at delivering a notification (the delivery history). A
/// delivery is retried under the same delivery id; each attempt is a row.
struct notification_attempt {
  std::string id;
  std::string project_id;
  std::string deployment_id;
  std::string delivery_id; // X-Gilgal-Delivery
  std::string event;
  std::string url;
  int64_t attempt = 1;     // 1, 2, ...
  int64_t status_code = 0; // 0: no HTTP answer
  std::string error;       // empty when delivered
  bool success = false;    // a 2xx answer
  std::string created_at;
};

/// One line of a deployment's log. `seq` is 1, 2, 3 ... per deployment and is
/// the SSE event id.
struct log_line {
  std::string deployment_id;
  int64_t seq = 0;
  std::string level = "info"; // info | warning | error | debug
  std::string message;
  std::string timestamp;
};

struct page_request {
  int64_t page = 1;   // 1-based
  int64_t limit = 20; // 1..100
  int64_t offset() const { return (page - 1) * limit; }
};

template <class T>
struct page {
  std::vector<T> items;
  int64_t total = 0;
  int64_t page = 1;
  int64_t limit = 20;
  bool has_more() const { return page * limit < total; }
};

// -- CAF inspection (for messages between actors and across nodes) ----------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, environment_settings& x) {
  return f(caf::meta::type_name("environment_settings"), x.memory_mb, x.cpus, x.pids,
           x.health_check_path, x.health_check_timeout_seconds, x.build_labels, x.run_labels);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, project& x) {
  return f(caf::meta::type_name("project"), x.id, x.owner_id, x.name, x.repository_url,
           x.branch, x.framework, x.created_at, x.updated_at, x.has_repository_token,
           x.deploy_public_key);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, repository_access& x) {
  return f(caf::meta::type_name("repository_access"), x.token, x.deploy_key, x.known_hosts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, environment& x) {
  return f(caf::meta::type_name("environment"), x.id, x.project_id, x.name, x.type,
           x.domain, x.aliases, x.variables, x.build_variables, x.settings, x.auto_deploy,
           x.branch, x.created_at, x.updated_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, deployment_trigger& x) {
  return f(caf::meta::type_name("deployment_trigger"), x.kind, x.provider, x.delivery_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, deployment& x) {
  return f(caf::meta::type_name("deployment"), x.id, x.project_id, x.environment_id,
           x.commit_sha, x.commit_message, x.status, x.duration_seconds, x.deployed_at,
           x.container_id, x.image_name, x.port, x.error_message, x.idempotency_key,
           x.kind, x.rollback_of, x.build_node, x.run_node, x.trigger, x.created_at,
           x.updated_at, caf::meta::load_callback([&x]() -> caf::error {
             // CAF loads an enum's integer as it is: refuse one out of range.
             if (!is_valid(x.status) || !is_valid(x.kind))
               return make_error(errc::invalid_argument,
                                 "deployment " + x.id + ": unknown status or kind");
             return caf::none;
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, log_line& x) {
  return f(caf::meta::type_name("log_line"), x.deployment_id, x.seq, x.level, x.message,
           x.timestamp);
}

} // namespace gilgal
