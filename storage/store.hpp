// The storage interface. Two implementations: SQLite (embedded default) and
// PostgreSQL (libpqxx, pooled). Both pass the same conformance suite
// (tests/storage/store_conformance_test.cpp).
//
// Contract:
//  - Every method is thread-safe and blocking; call it from a detached actor,
//    an HTTP worker thread or another dedicated thread, never from an
//    event-based actor's handler.
//  - Errors are values: errc::not_found for missing or soft-deleted rows,
//    errc::conflict for uniqueness violations, errc::unavailable when the
//    database cannot be reached (after one reconnect attempt).
//  - create_* assign `id` (UUID v4), `created_at` and `updated_at`; update_*
//    set `updated_at`. The caller's values of those fields are ignored.
//  - Environment variable values, repository tokens and private deploy keys
//    are encrypted at rest with the cipher given at open; variables are
//    plaintext in the returned records, the repository secrets only in
//    find_repository_access's answer.
//  - Ownership is NOT checked here: callers compare project.owner_id.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "config/secret_box.hpp"
#include "protocol/model.hpp"

namespace gilgal {

/// A pull request opened or updated: what its preview deployment needs.
struct preview_request {
  std::string project_id;
  std::string name;   // pr-<number>
  std::string domain; // pr-<number>.<previews domain>, or empty: a generated host
  preview_source source;
  /// The environment copied from (variables as sealed, build variables,
  /// settings); empty: none. It must be a live environment of the project.
  std::string base_environment_id;
  int64_t max_previews = 0;
  /// The deployment wanted: commit, message, trigger (its project and
  /// environment are filled in by the store).
  deployment wanted;
};

/// What open_preview did.
struct preview_opening {
  enum outcome_kind {
    deployed,   // env (created when `created`) and dep were stored
    duplicate,  // the delivery was recorded before: nothing done
    over_limit, // max_previews previews are open and this one is not: nothing done
    up_to_date, // the preview's newest deployment already is (or goes) live at
                // that commit: the delivery is recorded, nothing deployed
  };
  outcome_kind outcome = deployed;
  bool created = false;
  environment env;           // variables in plaintext (deployed, up_to_date)
  deployment dep;            // deployed only
  int64_t open_previews = 0; // over_limit: how many are open
};

class store {
public:
  virtual ~store() = default;

  // -- change tracking -------------------------------------------------------

  /// A number that grows after every write through this store object that may
  /// change a user, token, project, environment, deployment, webhook delivery
  /// or preview (log lines and notification attempts do not count). A view
  /// computed from reads begun after reading N is current while this stays N:
  /// the API's caches (http/view_cache.hpp) are keyed on it. Writes from other
  /// processes are not counted (`gilgal admin` writes only users and tokens).
  virtual uint64_t write_epoch() const = 0;

  // -- users and tokens ------------------------------------------------------

  /// errc::conflict if the name is taken.
  virtual caf::expected<user> create_user(const std::string& name) = 0;
  virtual caf::expected<user> find_user(const std::string& id) = 0;
  virtual caf::expected<user> find_user_by_name(const std::string& name) = 0;
  virtual caf::expected<std::vector<user>> list_users() = 0;
  /// Stores a token (id and hash given by the caller; created_at assigned).
  virtual caf::expected<api_token> add_token(const api_token& token) = 0;
  /// The token, revoked or not (callers check revoked_at).
  virtual caf::expected<api_token> find_token(const std::string& token_id) = 0;
  /// Every token of one user, revoked ones included, oldest first.
  virtual caf::expected<std::vector<api_token>> list_tokens(const std::string& user_id) = 0;
  /// Marks the token revoked (it stays listed). Revoking a revoked token keeps
  /// its first revocation time. errc::not_found for an unknown id.
  virtual caf::expected<api_token> revoke_token(const std::string& token_id) = 0;

  // -- projects (soft delete) ------------------------------------------------

  virtual caf::expected<project> create_project(const project& p) = 0;
  virtual caf::expected<project> find_project(const std::string& id) = 0;
  /// Projects of one owner, oldest first.
  virtual caf::expected<page<project>> list_projects(const std::string& owner_id,
                                                     page_request req) = 0;
  /// Replaces name, repository_url, branch, framework, notifications, previews, and the
  /// repository token when p.repository_token is set ("" removes it).
  virtual caf::expected<project> update_project(const project& p) = 0;
  virtual caf::expected<void> delete_project(const std::string& id) = 0;

  // -- private repositories (secrets sealed at rest like variables) ----------

  /// Replaces the project's deploy key pair (private key sealed).
  virtual caf::expected<project> set_deploy_key(const std::string& project_id,
                                                const std::string& private_key,
                                                const std::string& public_key) = 0;
  /// The token, private deploy key (decrypted) and known_hosts of a project.
  virtual caf::expected<repository_access>
  find_repository_access(const std::string& project_id) = 0;
  /// Replaces the known_hosts with `replacement` if they still are
  /// `expected` (false otherwise: another deployment recorded first).
  virtual caf::expected<bool> record_known_hosts(const std::string& project_id,
                                                 const std::string& expected,
                                                 const std::string& replacement) = 0;
  /// Forgets every host key recorded (the next connection records anew).
  virtual caf::expected<void> reset_known_hosts(const std::string& project_id) = 0;

  // -- environments (soft delete; name unique among live ones per project) ---

  virtual caf::expected<environment> create_environment(const environment& e) = 0;
  virtual caf::expected<environment> find_environment(const std::string& id) = 0;
  /// Environments of one project, oldest first.
  virtual caf::expected<page<environment>> list_environments(const std::string& project_id,
                                                             page_request req) = 0;
  /// Like list_environments, but each variable's value is left empty (names
  /// only, nothing decrypted): for list views that mask values anyway.
  virtual caf::expected<page<environment>>
  list_environments_masked(const std::string& project_id, page_request req) {
    return list_environments(project_id, req);
  }
  /// Replaces name, type, domain, aliases, variables, build variables,
  /// settings, auto_deploy and branch (never `preview`, set at creation).
  /// A domain or alias is unique among live environments of all owners
  /// (case-insensitive): another environment's host is errc::conflict.
  virtual caf::expected<environment> update_environment(const environment& e) = 0;
  virtual caf::expected<void> delete_environment(const std::string& id) = 0;
  /// Every live environment of a live project with its live deployment (the
  /// newest successful one), oldest environment first: what the proxy serves.
  virtual caf::expected<std::vector<environment_route>> list_environment_routes() = 0;
  /// Records that the container of the environment's live deployment
  /// `deployment_id` is stopped (empty: running again). Written only by the
  /// deployment manager (through the deployment store actor).
  virtual caf::expected<void> set_stopped_deployment(const std::string& environment_id,
                                                     const std::string& deployment_id) = 0;

  // -- deployments -----------------------------------------------------------

  /// errc::conflict if (project_id, idempotency_key) already exists.
  virtual caf::expected<deployment> create_deployment(const deployment& d) = 0;
  virtual caf::expected<deployment> find_deployment(const std::string& id) = 0;
  virtual caf::expected<deployment> find_deployment_by_key(const std::string& project_id,
                                                           const std::string& idempotency_key) = 0;
  /// Deployments of one project, newest first.
  virtual caf::expected<page<deployment>> list_deployments(const std::string& project_id,
                                                           page_request req) = 0;
  /// Replaces every mutable field (all but id, project_id, environment_id, created_at).
  virtual caf::expected<deployment> update_deployment(const deployment& d) = 0;
  /// Deployments whose status is pending or building, oldest first.
  virtual caf::expected<std::vector<deployment>> list_unfinished_deployments() = 0;
  /// Successful deployments of one environment, newest first.
  virtual caf::expected<std::vector<deployment>>
  list_successful_deployments(const std::string& environment_id) = 0;
  /// How many deployments have each status (statuses without any are absent).
  virtual caf::expected<std::map<deployment_status, int64_t>> count_deployments_by_status() = 0;

  // -- webhooks --------------------------------------------------------------

  /// Sets (or replaces) the project's webhook secret, sealed at rest like
  /// variable values. errc::not_found if the project is not live.
  virtual caf::expected<void> set_webhook_secret(const std::string& project_id,
                                                 const std::string& secret) = 0;
  /// The project's webhook secret in plaintext. errc::not_found if none was
  /// set or the project is not live.
  virtual caf::expected<std::string> find_webhook_secret(const std::string& project_id) = 0;
  /// Records a delivery and creates `deployments` (of its project) in one
  /// transaction; returns them as stored, in the given order. errc::conflict
  /// if the same (project, provider, delivery id) was recorded before: then
  /// nothing is created. errc::not_found if the project or an environment is
  /// not live.
  virtual caf::expected<std::vector<deployment>>
  record_webhook_delivery(const webhook_delivery& delivery,
                          const std::vector<deployment>& deployments) = 0;

  // -- notifications ---------------------------------------------------------

  /// Sets (or replaces) the secret that signs the project's notifications,
  /// sealed at rest. errc::not_found if the project is not live.
  virtual caf::expected<void> set_notification_secret(const std::string& project_id,
                                                      const std::string& secret) = 0;
  /// The secret in plaintext. errc::not_found if none was set or the project
  /// is not live.
  virtual caf::expected<std::string>
  find_notification_secret(const std::string& project_id) = 0;
  /// Records one attempt at a delivery (assigns id and created_at).
  virtual caf::expected<notification_attempt>
  add_notification_attempt(const notification_attempt& attempt) = 0;
  /// Attempts for a project's notifications, newest first.
  virtual caf::expected<page<notification_attempt>>
  list_notification_attempts(const std::string& project_id, page_request req) = 0;

  // -- preview environments (pull requests) ----------------------------------

  /// In one transaction, serialised per project: records the delivery,
  /// creates the preview environment `req.name` if it is missing (type
  /// development, `req.domain`, copied from the base environment: its
  /// variables exactly as sealed, never decrypted) and stores the wanted
  /// deployment of it; see preview_opening for what else can happen.
  /// errc::conflict if a live environment of that name is not this pull
  /// request's preview, or the domain is another environment's;
  /// errc::not_found if the project is not live; errc::conflict naming
  /// previews.baseEnvironmentId if the base environment is gone.
  virtual caf::expected<preview_opening> open_preview(const webhook_delivery& delivery,
                                                      const preview_request& req) = 0;
  /// The live preview of pull request `number` (variable values masked).
  /// errc::not_found if there is none.
  virtual caf::expected<environment> find_preview(const std::string& project_id,
                                                  int64_t number) = 0;
  /// The live previews of a project, by pull request number.
  virtual caf::expected<page<preview_view>> list_previews(const std::string& project_id,
                                                          page_request req) = 0;
  /// Every live preview of a live project, with its activity (for the reaper).
  virtual caf::expected<std::vector<preview_activity>> list_preview_activity() = 0;

  // -- deployment logs -------------------------------------------------------

  /// Appends lines in one transaction. Their seq values are given by the caller.
  virtual caf::expected<void> append_logs(const std::vector<log_line>& lines) = 0;
  /// Lines of one deployment in seq order, paginated.
  virtual caf::expected<page<log_line>> list_logs(const std::string& deployment_id,
                                                  page_request req) = 0;
  /// Up to `limit` lines with seq > after_seq, in seq order.
  virtual caf::expected<std::vector<log_line>>
  logs_after(const std::string& deployment_id, int64_t after_seq, int64_t limit) = 0;
  /// The highest seq stored for a deployment, 0 if none.
  virtual caf::expected<int64_t> last_log_seq(const std::string& deployment_id) = 0;

  // -- schema ----------------------------------------------------------------

  /// The highest migration version applied.
  virtual caf::expected<int64_t> schema_version() = 0;
};

/// Opens the store named by `database_url`: "postgresql://..." or "postgres://..."
/// selects PostgreSQL, anything else is the path of an SQLite file (created if
/// missing). Applies pending migrations before returning.
caf::expected<std::unique_ptr<store>> open_store(const std::string& database_url,
                                                 std::shared_ptr<const secret_box> cipher);

} // namespace gilgal
