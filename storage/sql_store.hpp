// The store written once in SQL over sql_session; the SQLite and PostgreSQL
// backends only supply connections and transactions (in_transaction).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

#include "storage/sql_session.hpp"
#include "storage/store.hpp"

namespace gilgal {

class sql_store : public store {
public:
  caf::expected<user> create_user(const std::string& name) override;
  caf::expected<user> find_user(const std::string& id) override;
  caf::expected<user> find_user_by_name(const std::string& name) override;
  caf::expected<std::vector<user>> list_users() override;
  caf::expected<api_token> add_token(const api_token& token) override;
  caf::expected<api_token> find_token(const std::string& token_id) override;
  caf::expected<std::vector<api_token>> list_tokens(const std::string& user_id) override;
  caf::expected<api_token> revoke_token(const std::string& token_id) override;

  caf::expected<project> create_project(const project& p) override;
  caf::expected<project> find_project(const std::string& id) override;
  caf::expected<page<project>> list_projects(const std::string& owner_id,
                                             page_request req) override;
  caf::expected<project> update_project(const project& p) override;
  caf::expected<void> delete_project(const std::string& id) override;
  caf::expected<project> set_deploy_key(const std::string& project_id,
                                        const std::string& private_key,
                                        const std::string& public_key) override;
  caf::expected<repository_access>
  find_repository_access(const std::string& project_id) override;
  caf::expected<bool> record_known_hosts(const std::string& project_id,
                                         const std::string& expected,
                                         const std::string& replacement) override;
  caf::expected<void> reset_known_hosts(const std::string& project_id) override;

  caf::expected<environment> create_environment(const environment& e) override;
  caf::expected<environment> find_environment(const std::string& id) override;
  caf::expected<page<environment>> list_environments(const std::string& project_id,
                                                     page_request req) override;
  caf::expected<page<environment>> list_environments_masked(const std::string& project_id,
                                                            page_request req) override;
  caf::expected<environment> update_environment(const environment& e) override;
  caf::expected<void> delete_environment(const std::string& id) override;
  caf::expected<std::vector<environment_route>> list_environment_routes() override;
  caf::expected<void> set_stopped_deployment(const std::string& environment_id,
                                             const std::string& deployment_id) override;

  caf::expected<deployment> create_deployment(const deployment& d) override;
  caf::expected<deployment> find_deployment(const std::string& id) override;
  caf::expected<deployment> find_deployment_by_key(const std::string& project_id,
                                                   const std::string& idempotency_key) override;
  caf::expected<page<deployment>> list_deployments(const std::string& project_id,
                                                   page_request req) override;
  caf::expected<deployment> update_deployment(const deployment& d) override;
  caf::expected<std::vector<deployment>> list_unfinished_deployments() override;
  caf::expected<std::vector<deployment>>
  list_successful_deployments(const std::string& environment_id) override;
  caf::expected<std::map<deployment_status, int64_t>> count_deployments_by_status() override;

  caf::expected<void> set_webhook_secret(const std::string& project_id,
                                         const std::string& secret) override;
  caf::expected<std::string> find_webhook_secret(const std::string& project_id) override;
  caf::expected<std::vector<deployment>>
  record_webhook_delivery(const webhook_delivery& delivery,
                          const std::vector<deployment>& deployments) override;

  caf::expected<void> set_notification_secret(const std::string& project_id,
                                              const std::string& secret) override;
  caf::expected<std::string> find_notification_secret(const std::string& project_id) override;
  caf::expected<notification_attempt>
  add_notification_attempt(const notification_attempt& attempt) override;
  caf::expected<page<notification_attempt>>
  list_notification_attempts(const std::string& project_id, page_request req) override;
  caf::expected<preview_opening> open_preview(const webhook_delivery& delivery,
                                              const preview_request& req) override;
  caf::expected<environment> find_preview(const std::string& project_id,
                                          int64_t number) override;
  caf::expected<page<preview_view>> list_previews(const std::string& project_id,
                                                  page_request req) override;
  caf::expected<std::vector<preview_activity>> list_preview_activity() override;

  caf::expected<void> append_logs(const std::vector<log_line>& lines) override;
  caf::expected<page<log_line>> list_logs(const std::string& deployment_id,
                                          page_request req) override;
  caf::expected<std::vector<log_line>> logs_after(const std::string& deployment_id,
                                                  int64_t after_seq, int64_t limit) override;
  caf::expected<int64_t> last_log_seq(const std::string& deployment_id) override;

  caf::expected<int64_t> schema_version() override;

  uint64_t write_epoch() const override;

protected:
  sql_store(sql_dialect dialect, std::shared_ptr<const secret_box> cipher);

  /// Runs `body` on one connection inside one transaction and commits when it
  /// returns; rolls back when it throws and rethrows. `write` transactions may
  /// be serialised by the backend. A backend may run `body` a second time on a
  /// fresh connection after the first broke. Throws db_error / db_broken.
  virtual void in_transaction(bool write, const std::function<void(sql_session&)>& body) = 0;

  /// Applies pending migrations (call once from the backend's open).
  caf::expected<int64_t> migrate();

private:
  /// Runs `body` in a transaction. A `write` advances the write epoch once it
  /// has ended (committed or not), unless `unseen` (log lines, notification
  /// attempts: nothing the API's cached views show).
  template <class T>
  caf::expected<T> run(bool write, const std::function<T(sql_session&)>& body,
                       bool unseen = false);
  caf::expected<void> run_void(bool write, const std::function<void(sql_session&)>& body,
                               bool unseen = false);

  /// Makes the environment's domain and aliases its hosts (errc::conflict
  /// naming "domain" when another environment has one of them).
  void claim_hosts(sql_session& s, const environment& e);

  /// The query rendered for this backend's dialect.
  const std::string& q(const char* sql);

  /// A secret sealed with the cipher; "" stays "" (none stored).
  std::string seal_or_empty(const std::string& secret) const;
  /// The plaintext of seal_or_empty's text; throws db_error when it cannot
  /// be opened with this key.
  std::string open_or_empty(const std::string& sealed, const char* what,
                            const std::string& project_id) const;

  std::string encode_variables(const std::map<std::string, std::string>& vars) const;
  std::map<std::string, std::string> decode_variables(const std::string& env_id,
                                                      const std::string& text) const;
  /// `decrypt` false: variable names with empty values.
  environment environment_of(const sql_row& row, bool decrypt = true) const;
  /// Inserts a deployment in an open session (assigns id and times).
  deployment insert_deployment(sql_session& s, const deployment& in);
  caf::expected<page<environment>> list_environments_impl(const std::string& project_id,
                                                          page_request req, bool decrypt);

  sql_dialect dialect_;
  std::shared_ptr<const secret_box> cipher_;
  std::atomic<uint64_t> epoch_{0};
};

} // namespace gilgal
