#include "storage/migrations.hpp"

#include "protocol/ids.hpp"

namespace gilgal {

namespace {

// Dialect placeholders used in the migration text:
//   {ord_column}  PostgreSQL: "ord BIGSERIAL NOT NULL," — SQLite: nothing
//                 (its implicit rowid already grows with insertion order).
std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
  return s;
}

std::string render_ddl(const std::string& sql, sql_dialect dialect) {
  return replace_all(sql, "{ord_column}",
                     dialect == sql_dialect::postgres ? "ord BIGSERIAL NOT NULL," : "");
}

struct migration_text {
  int64_t version;
  const char* name;
  std::vector<const char*> statements;
};

const std::vector<migration_text>& migration_texts() {
  static const std::vector<migration_text> texts = {
    {1,
     "initial schema",
     {
       R"(CREATE TABLE users (
            id TEXT PRIMARY KEY,
            {ord_column}
            name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            CONSTRAINT users_name_unique UNIQUE (name)))",
       R"(CREATE TABLE api_tokens (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id),
            secret_hash TEXT NOT NULL,
            created_at TEXT NOT NULL))",
       R"(CREATE INDEX api_tokens_user ON api_tokens (user_id))",
       R"(CREATE TABLE projects (
            id TEXT PRIMARY KEY,
            {ord_column}
            owner_id TEXT NOT NULL REFERENCES users(id),
            name TEXT NOT NULL,
            repository_url TEXT NOT NULL,
            branch TEXT NOT NULL,
            framework TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            deleted_at TEXT))",
       R"(CREATE INDEX projects_owner_live ON projects (owner_id, created_at)
            WHERE deleted_at IS NULL)",
       R"(CREATE TABLE environments (
            id TEXT PRIMARY KEY,
            {ord_column}
            project_id TEXT NOT NULL REFERENCES projects(id),
            name TEXT NOT NULL,
            type TEXT NOT NULL,
            domain TEXT NOT NULL,
            variables TEXT NOT NULL,
            settings TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            deleted_at TEXT))",
       R"(CREATE UNIQUE INDEX environments_live_name ON environments (project_id, name)
            WHERE deleted_at IS NULL)",
       R"(CREATE INDEX environments_project_live ON environments (project_id, created_at)
            WHERE deleted_at IS NULL)",
       R"(CREATE TABLE deployments (
            id TEXT PRIMARY KEY,
            {ord_column}
            project_id TEXT NOT NULL REFERENCES projects(id),
            environment_id TEXT NOT NULL REFERENCES environments(id),
            commit_sha TEXT NOT NULL,
            commit_message TEXT NOT NULL,
            status TEXT NOT NULL,
            duration_seconds DOUBLE PRECISION,
            deployed_at TEXT NOT NULL,
            container_id TEXT NOT NULL,
            image_name TEXT NOT NULL,
            port BIGINT NOT NULL,
            error_message TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            kind TEXT NOT NULL,
            rollback_of TEXT NOT NULL,
            build_node TEXT NOT NULL,
            run_node TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL))",
       R"(CREATE UNIQUE INDEX deployments_idempotency ON deployments (project_id, idempotency_key)
            WHERE idempotency_key <> '')",
       R"(CREATE INDEX deployments_project ON deployments (project_id, created_at))",
       R"(CREATE INDEX deployments_environment ON deployments (environment_id, status))",
       R"(CREATE INDEX deployments_unfinished ON deployments (status)
            WHERE status IN ('pending', 'building'))",
       R"(CREATE TABLE deployment_logs (
            id TEXT PRIMARY KEY,
            deployment_id TEXT NOT NULL REFERENCES deployments(id),
            seq BIGINT NOT NULL,
            log_level TEXT NOT NULL,
            message TEXT NOT NULL,
            timestamp TEXT NOT NULL,
            CONSTRAINT deployment_logs_seq_unique UNIQUE (deployment_id, seq)))",
     }},
    {2,
     "build variables of environments",
     {
       // A JSON object of NAME -> value, stored as it is (not secret).
       R"(ALTER TABLE environments ADD COLUMN build_variables TEXT NOT NULL DEFAULT '{}')",
     }},
    {3,
     "environment hosts: aliases, and domains unique across all owners",
     {
       R"(ALTER TABLE environments ADD COLUMN aliases TEXT NOT NULL DEFAULT '[]')",
       // One row per host an environment claims (its domain and aliases,
       // lower-case): the primary key keeps a host to one environment.
       R"(CREATE TABLE environment_hosts (
            host TEXT PRIMARY KEY,
            environment_id TEXT NOT NULL REFERENCES environments(id)))",
       R"(CREATE INDEX environment_hosts_environment ON environment_hosts (environment_id))",
       // Domains set before: the oldest environment keeps a shared one.
       R"(INSERT INTO environment_hosts (host, environment_id)
            SELECT LOWER(domain), id FROM environments
            WHERE deleted_at IS NULL AND domain <> ''
            ORDER BY created_at
            ON CONFLICT DO NOTHING)",
     }},
    {4,
     "incoming webhooks: auto-deploy branches, webhook secrets, deliveries, triggers",
     {
       // 1: a push to `branch` (empty: the project's) deploys the environment.
       R"(ALTER TABLE environments ADD COLUMN auto_deploy BIGINT NOT NULL DEFAULT 0)",
       R"(ALTER TABLE environments ADD COLUMN branch TEXT NOT NULL DEFAULT '')",
       // What created a deployment (set once): api | webhook, and which delivery.
       R"(ALTER TABLE deployments ADD COLUMN trigger_kind TEXT NOT NULL DEFAULT 'api')",
       R"(ALTER TABLE deployments ADD COLUMN trigger_provider TEXT NOT NULL DEFAULT '')",
       R"(ALTER TABLE deployments ADD COLUMN trigger_delivery_id TEXT NOT NULL DEFAULT '')",
       // One webhook secret per project, sealed like variable values.
       R"(CREATE TABLE project_webhooks (
            project_id TEXT PRIMARY KEY REFERENCES projects(id),
            secret TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL))",
       // Deliveries received: a redelivered id conflicts and deploys nothing.
       R"(CREATE TABLE webhook_deliveries (
            id TEXT PRIMARY KEY,
            {ord_column}
            project_id TEXT NOT NULL REFERENCES projects(id),
            provider TEXT NOT NULL,
            delivery_id TEXT NOT NULL,
            event TEXT NOT NULL,
            received_at TEXT NOT NULL,
            CONSTRAINT webhook_deliveries_unique UNIQUE (project_id, provider, delivery_id)))",
     }},
    {5,
     "private repositories of projects",
     {
       // Sealed with the secret key (config/secret_box), '' when none.
       R"(ALTER TABLE projects ADD COLUMN repository_token TEXT NOT NULL DEFAULT '')",
       R"(ALTER TABLE projects ADD COLUMN deploy_key TEXT NOT NULL DEFAULT '')",
       // Not secret: the deploy key's public half and the ssh host keys seen.
       R"(ALTER TABLE projects ADD COLUMN deploy_public_key TEXT NOT NULL DEFAULT '')",
       R"(ALTER TABLE projects ADD COLUMN known_hosts TEXT NOT NULL DEFAULT '')",
     }},
    {6,
     "revocable API tokens",
     {
       R"(ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT)",
     }},
    {7,
     "notifications: targets and a secret per project, the history of attempts",
     {
       // A JSON array of {"url", "events"}.
       R"(ALTER TABLE projects ADD COLUMN notifications TEXT NOT NULL DEFAULT '[]')",
       // Sealed like variable values; empty until one is made.
       R"(ALTER TABLE projects ADD COLUMN notification_secret TEXT NOT NULL DEFAULT '')",
       R"(CREATE TABLE notification_attempts (
            id TEXT PRIMARY KEY,
            {ord_column}
            project_id TEXT NOT NULL REFERENCES projects(id),
            deployment_id TEXT NOT NULL REFERENCES deployments(id),
            delivery_id TEXT NOT NULL,
            event TEXT NOT NULL,
            url TEXT NOT NULL,
            attempt BIGINT NOT NULL,
            status_code BIGINT NOT NULL,
            error TEXT NOT NULL,
            success BIGINT NOT NULL,
            created_at TEXT NOT NULL))",
       R"(CREATE INDEX notification_attempts_project ON notification_attempts (project_id, created_at))",
     }},
    {8,
     "preview environments of pull requests",
     {
       // The project's preview settings as camelCase JSON ('' : previews off).
       R"(ALTER TABLE projects ADD COLUMN previews TEXT NOT NULL DEFAULT '')",
       // The pull request (merge request) an environment previews; 0: none.
       R"(ALTER TABLE environments ADD COLUMN preview_pull_request BIGINT NOT NULL DEFAULT 0)",
       R"(ALTER TABLE environments ADD COLUMN preview_provider TEXT NOT NULL DEFAULT '')",
       R"(ALTER TABLE environments ADD COLUMN preview_branch TEXT NOT NULL DEFAULT '')",
       R"(CREATE INDEX environments_previews ON environments (project_id, preview_pull_request)
            WHERE deleted_at IS NULL AND preview_pull_request > 0)",
     }},
    {9,
     "the stopped container of an environment",
     {
       // The live deployment whose container was stopped through the API
       // ('' none); written only by the deployment manager. Its route then
       // answers Gilgal's 503 page; a newer live deployment is routed again.
       R"(ALTER TABLE environments ADD COLUMN stopped_deployment_id TEXT NOT NULL DEFAULT '')",
     }},
  };
  return texts;
}

} // namespace

std::string render_query(const std::string& sql, sql_dialect dialect) {
  if (dialect == sql_dialect::postgres)
    return replace_all(sql, "{ord}", "ord");
  return to_sqlite_placeholders(replace_all(sql, "{ord}", "rowid"));
}

std::vector<migration> all_migrations(sql_dialect dialect) {
  std::vector<migration> out;
  for (auto& text : migration_texts()) {
    migration m{text.version, text.name, {}};
    for (auto stmt : text.statements)
      m.statements.push_back(render_ddl(stmt, dialect));
    out.push_back(std::move(m));
  }
  return out;
}

int64_t apply_migrations(sql_session& session) {
  auto dialect = session.dialect();
  if (dialect == sql_dialect::postgres)
    session.exec("SELECT pg_advisory_xact_lock(7164151)"); // "gilgal" migrations lock
  session.exec(R"(CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY,
                    applied_at TEXT NOT NULL))");
  auto res = session.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  int64_t current = std::stoll(res.rows.at(0).at(0).value_or("0"));
  for (auto& m : all_migrations(dialect)) {
    if (m.version <= current)
      continue;
    for (auto& stmt : m.statements)
      session.exec(stmt);
    session.exec(render_query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                              dialect),
                 {m.version, now_rfc3339()});
    current = m.version;
  }
  return current;
}

} // namespace gilgal
