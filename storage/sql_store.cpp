#include "storage/sql_store.hpp"

#include <mutex>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "protocol/ids.hpp"
#include "storage/migrations.hpp"

namespace gilgal {

namespace {

// -- column lists and row readers ----------------------------------------------

constexpr const char* user_cols = "id, name, created_at";
#define GILGAL_TOKEN_COLS "id, user_id, secret_hash, created_at, revoked_at"

const std::string& text_at(const sql_row& row, size_t i) {
  static const std::string empty;
  auto& cell = row.at(i);
  return cell ? *cell : empty;
}

int64_t int_at(const sql_row& row, size_t i) {
  auto& cell = row.at(i);
  return cell && !cell->empty() ? std::stoll(*cell) : 0;
}

/// The status or kind stored in row[i] (`what` names it), read with `parse`;
/// an unknown text is an internal error naming the deployment `id` (the
/// database holds only what to_string writes).
template <class Parse>
auto enum_at(const sql_row& row, size_t i, const std::string& id, const char* what,
             Parse parse) {
  auto x = parse(text_at(row, i));
  if (!x)
    throw db_error(errc::internal, "deployment " + id + " has an unknown " + what + " \""
                                     + text_at(row, i) + "\" in the database");
  return *x;
}

deployment_status status_at(const sql_row& row, size_t i, const std::string& id) {
  return enum_at(row, i, id, "status", parse_deployment_status);
}

deployment_kind kind_at(const sql_row& row, size_t i, const std::string& id) {
  return enum_at(row, i, id, "kind", parse_deployment_kind);
}

user user_of(const sql_row& r) {
  return user{text_at(r, 0), text_at(r, 1), text_at(r, 2)};
}

api_token token_of(const sql_row& r) {
  return api_token{text_at(r, 0), text_at(r, 1), text_at(r, 2), text_at(r, 3), text_at(r, 4)};
}

/// Notification targets as stored: [{"url": ..., "events": [...]}].
std::string encode_notifications(const std::vector<notification_target>& targets) {
  auto j = nlohmann::json::array();
  for (auto& t : targets)
    j.push_back({{"url", t.url}, {"events", t.events}});
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<notification_target> decode_notifications(const std::string& text) {
  std::vector<notification_target> out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array())
    return out;
  for (auto& item : j) {
    if (!item.is_object() || !item.contains("url") || !item["url"].is_string())
      continue;
    notification_target t;
    t.url = item["url"].get<std::string>();
    if (auto ev = item.find("events"); ev != item.end() && ev->is_array())
      for (auto& e : *ev)
        if (e.is_string())
          t.events.push_back(e.get<std::string>());
    out.push_back(std::move(t));
  }
  return out;
}

notification_attempt attempt_of(const sql_row& r) {
  notification_attempt a;
  a.id = text_at(r, 0);
  a.project_id = text_at(r, 1);
  a.deployment_id = text_at(r, 2);
  a.delivery_id = text_at(r, 3);
  a.event = text_at(r, 4);
  a.url = text_at(r, 5);
  a.attempt = int_at(r, 6);
  a.status_code = int_at(r, 7);
  a.error = text_at(r, 8);
  a.success = int_at(r, 9) != 0;
  a.created_at = text_at(r, 10);
  return a;
}

/// A project's preview settings as stored: camelCase JSON, '' for the defaults.
std::string encode_previews(const preview_settings& x) {
  preview_settings defaults;
  if (!x.enabled && x.base_environment_id.empty() && x.domain.empty()
      && x.ttl_hours == defaults.ttl_hours && x.max_previews == defaults.max_previews)
    return {};
  return nlohmann::json{{"enabled", x.enabled},
                        {"baseEnvironmentId", x.base_environment_id},
                        {"domain", x.domain},
                        {"ttlHours", x.ttl_hours},
                        {"maxPreviews", x.max_previews}}
    .dump();
}

preview_settings decode_previews(const std::string& text) {
  preview_settings x;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object())
    return x;
  x.enabled = j.value("enabled", false);
  x.base_environment_id = j.value("baseEnvironmentId", std::string{});
  x.domain = j.value("domain", std::string{});
  x.ttl_hours = j.value("ttlHours", x.ttl_hours);
  x.max_previews = j.value("maxPreviews", x.max_previews);
  return x;
}

project project_of(const sql_row& r) {
  project p;
  p.id = text_at(r, 0);
  p.owner_id = text_at(r, 1);
  p.name = text_at(r, 2);
  p.repository_url = text_at(r, 3);
  p.branch = text_at(r, 4);
  p.framework = text_at(r, 5);
  p.created_at = text_at(r, 6);
  p.updated_at = text_at(r, 7);
  p.has_repository_token = int_at(r, 8) != 0;
  p.deploy_public_key = text_at(r, 9);
  p.notifications = decode_notifications(text_at(r, 10));
  p.previews = decode_previews(text_at(r, 11));
  return p;
}

#define GILGAL_PROJECT_COLS \
  "id, owner_id, name, repository_url, branch, framework, created_at, updated_at"
// What project_of reads: the columns, whether a token is stored (never the
// token itself), the deploy key's public half and the notification targets.
#define GILGAL_PROJECT_SELECT \
  GILGAL_PROJECT_COLS ", CASE WHEN repository_token = '' THEN 0 ELSE 1 END, deploy_public_key, " \
  "notifications, previews"
#define GILGAL_ATTEMPT_COLS                                                                 \
  "id, project_id, deployment_id, delivery_id, event, url, attempt, status_code, error, "  \
  "success, created_at"
#define GILGAL_ENV_COLS                                                                  \
  "id, project_id, name, type, domain, variables, settings, created_at, updated_at, " \
  "build_variables, aliases, auto_deploy, branch, preview_pull_request, preview_provider, " \
  "preview_branch"
#define GILGAL_DEP_COLS                                                                     \
  "id, project_id, environment_id, commit_sha, commit_message, status, duration_seconds, " \
  "deployed_at, container_id, image_name, port, error_message, idempotency_key, kind, "    \
  "rollback_of, build_node, run_node, created_at, updated_at, trigger_kind, "              \
  "trigger_provider, trigger_delivery_id"
#define GILGAL_LOG_COLS "deployment_id, seq, log_level, message, timestamp"

deployment deployment_of(const sql_row& r) {
  deployment d;
  d.id = text_at(r, 0);
  d.project_id = text_at(r, 1);
  d.environment_id = text_at(r, 2);
  d.commit_sha = text_at(r, 3);
  d.commit_message = text_at(r, 4);
  d.status = status_at(r, 5, d.id);
  if (r.at(6))
    d.duration_seconds = parse_real(*r.at(6));
  d.deployed_at = text_at(r, 7);
  d.container_id = text_at(r, 8);
  d.image_name = text_at(r, 9);
  d.port = int_at(r, 10);
  d.error_message = text_at(r, 11);
  d.idempotency_key = text_at(r, 12);
  d.kind = kind_at(r, 13, d.id);
  d.rollback_of = text_at(r, 14);
  d.build_node = text_at(r, 15);
  d.run_node = text_at(r, 16);
  d.created_at = text_at(r, 17);
  d.updated_at = text_at(r, 18);
  d.trigger.kind = text_at(r, 19);
  d.trigger.provider = text_at(r, 20);
  d.trigger.delivery_id = text_at(r, 21);
  return d;
}

log_line log_of(const sql_row& r) {
  log_line l;
  l.deployment_id = text_at(r, 0);
  l.seq = int_at(r, 1);
  l.level = text_at(r, 2);
  l.message = text_at(r, 3);
  l.timestamp = text_at(r, 4);
  return l;
}

std::string encode_settings(const environment_settings& s) {
  nlohmann::json j = {{"memoryMb", s.memory_mb},
                      {"cpus", s.cpus},
                      {"pids", s.pids},
                      {"healthCheckPath", s.health_check_path},
                      {"healthCheckTimeoutSeconds", s.health_check_timeout_seconds},
                      {"buildLabels", s.build_labels},
                      {"runLabels", s.run_labels}};
  return j.dump();
}

/// Build variables as they are: a JSON object of strings (not secret).
std::string encode_build_variables(const std::map<std::string, std::string>& vars) {
  return nlohmann::json(vars).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

environment_settings decode_settings(const std::string& text) {
  environment_settings s;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object())
    return s;
  s.memory_mb = j.value("memoryMb", int64_t{0});
  s.cpus = j.value("cpus", 0.0);
  s.pids = j.value("pids", int64_t{0});
  s.health_check_path = j.value("healthCheckPath", std::string{});
  s.health_check_timeout_seconds = j.value("healthCheckTimeoutSeconds", int64_t{0});
  // Absent in settings written before the build farm: no labels required.
  for (auto key : {"buildLabels", "runLabels"}) {
    auto& out = key[0] == 'b' ? s.build_labels : s.run_labels;
    if (auto it = j.find(key); it != j.end() && it->is_object())
      for (auto l = it->begin(); l != it->end(); ++l)
        if (l->is_string())
          out[l.key()] = l->get<std::string>();
  }
  return s;
}

/// Reads one JSON string starting at text[pos] == '"'; advances pos past it.
bool scan_json_string(const std::string& text, size_t& pos, std::string& out) {
  if (pos >= text.size() || text[pos] != '"')
    return false;
  size_t start = ++pos;
  bool escaped = false;
  while (pos < text.size() && text[pos] != '"') {
    if (text[pos] == '\\') {
      escaped = true;
      ++pos;
    }
    ++pos;
  }
  if (pos >= text.size())
    return false;
  auto raw = text.substr(start, pos - start);
  ++pos;
  if (!escaped) {
    out = std::move(raw);
    return true;
  }
  auto j = nlohmann::json::parse("\"" + raw + "\"", nullptr, false);
  if (!j.is_string())
    return false;
  out = j.get<std::string>();
  return true;
}

void skip_ws(const std::string& text, size_t& pos) {
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n' || text[pos] == '\t'
                               || text[pos] == '\r'))
    ++pos;
}

/// A JSON object whose values are all strings, as (key, value) pairs; a fast
/// path for the variables column (list views read many of them). Falls back
/// to the full parser for anything unusual; nullopt if it is not such an object.
std::optional<std::vector<std::pair<std::string, std::string>>>
parse_string_object(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  skip_ws(text, pos);
  bool ok = pos < text.size() && text[pos] == '{';
  if (ok) {
    ++pos;
    skip_ws(text, pos);
    if (pos < text.size() && text[pos] == '}') {
      ++pos;
    } else {
      for (;;) {
        std::string key, value;
        skip_ws(text, pos);
        if (!scan_json_string(text, pos, key)) {
          ok = false;
          break;
        }
        skip_ws(text, pos);
        if (pos >= text.size() || text[pos++] != ':') {
          ok = false;
          break;
        }
        skip_ws(text, pos);
        if (!scan_json_string(text, pos, value)) {
          ok = false;
          break;
        }
        out.emplace_back(std::move(key), std::move(value));
        skip_ws(text, pos);
        if (pos < text.size() && text[pos] == ',') {
          ++pos;
          continue;
        }
        ok = pos < text.size() && text[pos] == '}';
        ++pos;
        break;
      }
    }
    skip_ws(text, pos);
    ok = ok && pos == text.size();
  }
  if (ok)
    return out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object())
    return std::nullopt;
  out.clear();
  for (auto& [key, value] : j.items()) {
    if (!value.is_string())
      return std::nullopt;
    out.emplace_back(key, value.get<std::string>());
  }
  return out;
}

void check_page(page_request req) {
  if (req.page < 1)
    throw db_error(errc::invalid_argument, "page must be at least 1");
  if (req.limit < 1)
    throw db_error(errc::invalid_argument, "limit must be at least 1");
}

std::string encode_hosts(const std::vector<std::string>& hosts) {
  return nlohmann::json(hosts).dump();
}

std::vector<std::string> decode_hosts(const std::string& text) {
  std::vector<std::string> out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_array())
    for (auto& h : j)
      if (h.is_string())
        out.push_back(h.get<std::string>());
  return out;
}

std::string lower_case(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return s;
}

/// Runs `f`; a conflict thrown by it gets `message` (naming the field).
template <class F>
auto on_conflict(const std::string& message, F f) {
  try {
    return f();
  } catch (db_error& e) {
    if (e.code == errc::conflict)
      throw db_error(errc::conflict, message);
    throw;
  }
}

} // namespace

// -- plumbing -----------------------------------------------------------------

sql_store::sql_store(sql_dialect dialect, std::shared_ptr<const secret_box> cipher)
  : dialect_(dialect), cipher_(std::move(cipher)) {
}

const std::string& sql_store::q(const char* sql) {
  // Rendered once per query text; unordered_map keeps references stable.
  static std::mutex mtx;
  static std::unordered_map<const char*, std::string> cache[2];
  std::lock_guard<std::mutex> guard{mtx};
  auto& map = cache[dialect_ == sql_dialect::postgres ? 1 : 0];
  auto i = map.find(sql);
  if (i == map.end())
    i = map.emplace(sql, render_query(sql, dialect_)).first;
  return i->second;
}

template <class T>
caf::expected<T> sql_store::run(bool write, const std::function<T(sql_session&)>& body,
                                bool unseen) {
  std::optional<T> out;
  auto err = run_void(write, [&](sql_session& s) { out = body(s); }, unseen);
  if (!err)
    return std::move(err.error());
  return std::move(*out);
}

uint64_t sql_store::write_epoch() const {
  return epoch_.load(std::memory_order_acquire);
}

caf::expected<void> sql_store::run_void(bool write,
                                        const std::function<void(sql_session&)>& body,
                                        bool unseen) {
  // After the transaction, never before: a reader that saw the old epoch
  // must not cache what it read before this commit under the new one.
  struct advance {
    std::atomic<uint64_t>* epoch;
    ~advance() {
      if (epoch)
        epoch->fetch_add(1, std::memory_order_acq_rel);
    }
  } after{write && !unseen ? &epoch_ : nullptr};
  try {
    in_transaction(write, body);
    return {};
  } catch (db_error& e) {
    return make_error(e.code, e.what());
  } catch (db_broken& e) {
    return make_error(errc::unavailable, std::string{"database unavailable: "} + e.what());
  } catch (std::exception& e) {
    return make_error(errc::internal, std::string{"storage failure: "} + e.what());
  }
}

caf::expected<int64_t> sql_store::migrate() {
  return run<int64_t>(true, [](sql_session& s) { return apply_migrations(s); });
}

std::string sql_store::encode_variables(const std::map<std::string, std::string>& vars) const {
  nlohmann::json j = nlohmann::json::object();
  for (auto& [name, value] : vars)
    j[name] = cipher_->seal(value);
  return j.dump();
}

std::string sql_store::seal_or_empty(const std::string& secret) const {
  return secret.empty() ? std::string{} : cipher_->seal(secret);
}

std::string sql_store::open_or_empty(const std::string& sealed, const char* what,
                                     const std::string& project_id) const {
  if (sealed.empty())
    return {};
  auto plain = cipher_->open(sealed);
  if (!plain)
    throw db_error(errc::internal, std::string{"cannot decrypt the "} + what + " of project "
                                     + project_id + " (wrong secret key?)");
  return std::move(*plain);
}

std::map<std::string, std::string> sql_store::decode_variables(const std::string& env_id,
                                                               const std::string& text) const {
  auto pairs = parse_string_object(text);
  if (!pairs)
    throw db_error(errc::internal,
                   "variables of environment " + env_id + " are not a JSON object of strings");
  std::map<std::string, std::string> out;
  for (auto& [name, sealed] : *pairs) {
    auto plain = cipher_->open(sealed);
    if (!plain)
      throw db_error(errc::internal, "cannot decrypt variable " + name + " of environment "
                                       + env_id + " (wrong secret key?)");
    out.emplace(name, std::move(*plain));
  }
  return out;
}

environment sql_store::environment_of(const sql_row& r, bool decrypt) const {
  environment e;
  e.id = text_at(r, 0);
  e.project_id = text_at(r, 1);
  e.name = text_at(r, 2);
  e.type = text_at(r, 3);
  e.domain = text_at(r, 4);
  if (decrypt) {
    e.variables = decode_variables(e.id, text_at(r, 5));
  } else {
    auto pairs = parse_string_object(text_at(r, 5));
    if (!pairs)
      throw db_error(errc::internal, "variables of environment " + e.id
                                       + " are not a JSON object of strings");
    for (auto& item : *pairs)
      e.variables.emplace(item.first, std::string{});
  }
  e.settings = decode_settings(text_at(r, 6));
  e.created_at = text_at(r, 7);
  e.updated_at = text_at(r, 8);
  auto build = parse_string_object(text_at(r, 9));
  if (!build)
    throw db_error(errc::internal, "build variables of environment " + e.id
                                     + " are not a JSON object of strings");
  e.build_variables.insert(build->begin(), build->end());
  e.aliases = decode_hosts(text_at(r, 10));
  e.auto_deploy = int_at(r, 11) != 0;
  e.branch = text_at(r, 12);
  e.preview.pull_request = int_at(r, 13);
  e.preview.provider = text_at(r, 14);
  e.preview.branch = text_at(r, 15);
  return e;
}

// -- users and tokens -----------------------------------------------------------

caf::expected<user> sql_store::create_user(const std::string& name) {
  return run<user>(true, [&](sql_session& s) {
    user u{new_uuid(), name, now_rfc3339()};
    on_conflict("user name already exists", [&] {
      return s.exec(q("INSERT INTO users (id, name, created_at) VALUES ($1, $2, $3)"),
                    {u.id, u.name, u.created_at});
    });
    return u;
  });
}

caf::expected<user> sql_store::find_user(const std::string& id) {
  return run<user>(false, [&](sql_session& s) {
    auto res = s.exec(q("SELECT id, name, created_at FROM users WHERE id = $1"), {id});
    if (res.rows.empty())
      throw db_error(errc::not_found, "user not found");
    return user_of(res.rows[0]);
  });
}

caf::expected<user> sql_store::find_user_by_name(const std::string& name) {
  return run<user>(false, [&](sql_session& s) {
    auto res = s.exec(q("SELECT id, name, created_at FROM users WHERE name = $1"), {name});
    if (res.rows.empty())
      throw db_error(errc::not_found, "user not found");
    return user_of(res.rows[0]);
  });
}

caf::expected<std::vector<user>> sql_store::list_users() {
  return run<std::vector<user>>(false, [&](sql_session& s) {
    auto res = s.exec(q("SELECT id, name, created_at FROM users ORDER BY created_at, {ord}"));
    std::vector<user> out;
    for (auto& r : res.rows)
      out.push_back(user_of(r));
    return out;
  });
}

caf::expected<api_token> sql_store::add_token(const api_token& token) {
  return run<api_token>(true, [&](sql_session& s) {
    api_token t = token;
    t.created_at = now_rfc3339();
    try {
      on_conflict("token id already exists", [&] {
        return s.exec(q("INSERT INTO api_tokens (id, user_id, secret_hash, created_at) "
                        "VALUES ($1, $2, $3, $4)"),
                      {t.id, t.user_id, t.secret_hash, t.created_at});
      });
    } catch (db_error& e) {
      if (e.code == errc::not_found)
        throw db_error(errc::not_found, "user not found");
      throw;
    }
    return t;
  });
}

caf::expected<api_token> sql_store::find_token(const std::string& token_id) {
  return run<api_token>(false, [&](sql_session& s) {
    auto res = s.exec(q("SELECT " GILGAL_TOKEN_COLS " FROM api_tokens WHERE id = $1"),
                      {token_id});
    if (res.rows.empty())
      throw db_error(errc::not_found, "token not found");
    return token_of(res.rows[0]);
  });
}

caf::expected<std::vector<api_token>> sql_store::list_tokens(const std::string& user_id) {
  return run<std::vector<api_token>>(false, [&](sql_session& s) {
    auto res = s.exec(q("SELECT " GILGAL_TOKEN_COLS " FROM api_tokens WHERE user_id = $1 "
                        "ORDER BY created_at, id"),
                      {user_id});
    std::vector<api_token> out;
    for (auto& r : res.rows)
      out.push_back(token_of(r));
    return out;
  });
}

caf::expected<api_token> sql_store::revoke_token(const std::string& token_id) {
  return run<api_token>(true, [&](sql_session& s) {
    s.exec(q("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL"),
           {now_rfc3339(), token_id});
    auto res = s.exec(q("SELECT " GILGAL_TOKEN_COLS " FROM api_tokens WHERE id = $1"),
                      {token_id});
    if (res.rows.empty())
      throw db_error(errc::not_found, "token not found");
    return token_of(res.rows[0]);
  });
}

// -- projects -------------------------------------------------------------------

caf::expected<project> sql_store::create_project(const project& in) {
  return run<project>(true, [&](sql_session& s) {
    project p = in;
    p.id = new_uuid();
    p.created_at = p.updated_at = now_rfc3339();
    auto token = p.repository_token ? *p.repository_token : std::string{};
    try {
      s.exec(q("INSERT INTO projects (" GILGAL_PROJECT_COLS ", repository_token, notifications, "
               "previews) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"),
             {p.id, p.owner_id, p.name, p.repository_url, p.branch, p.framework, p.created_at,
              p.updated_at, seal_or_empty(token), encode_notifications(p.notifications),
              encode_previews(p.previews)});
    } catch (db_error& e) {
      if (e.code == errc::not_found)
        throw db_error(errc::not_found, "owner not found");
      throw;
    }
    p.repository_token = caf::none;
    p.has_repository_token = !token.empty();
    p.deploy_public_key.clear();
    return p;
  });
}

caf::expected<project> sql_store::find_project(const std::string& id) {
  return run<project>(false, [&](sql_session& s) {
    auto res = s.exec(q("SELECT " GILGAL_PROJECT_SELECT
                        " FROM projects WHERE id = $1 AND deleted_at IS NULL"),
                      {id});
    if (res.rows.empty())
      throw db_error(errc::not_found, "project not found");
    return project_of(res.rows[0]);
  });
}

caf::expected<page<project>> sql_store::list_projects(const std::string& owner_id,
                                                      page_request req) {
  return run<page<project>>(false, [&](sql_session& s) {
    check_page(req);
    page<project> out;
    out.page = req.page;
    out.limit = req.limit;
    auto count = s.exec(
      q("SELECT COUNT(*) FROM projects WHERE owner_id = $1 AND deleted_at IS NULL"), {owner_id});
    out.total = int_at(count.rows.at(0), 0);
    auto res = s.exec(q("SELECT " GILGAL_PROJECT_SELECT " FROM projects "
                        "WHERE owner_id = $1 AND deleted_at IS NULL "
                        "ORDER BY created_at, {ord} LIMIT $2 OFFSET $3"),
                      {owner_id, req.limit, req.offset()});
    for (auto& r : res.rows)
      out.items.push_back(project_of(r));
    return out;
  });
}

caf::expected<project> sql_store::update_project(const project& p) {
  return run<project>(true, [&](sql_session& s) {
    auto res = s.exec(q("UPDATE projects SET name = $2, repository_url = $3, branch = $4, "
                        "framework = $5, updated_at = $6, notifications = $7, previews = $8 "
                        "WHERE id = $1 AND deleted_at IS NULL"),
                      {p.id, p.name, p.repository_url, p.branch, p.framework, now_rfc3339(),
                       encode_notifications(p.notifications), encode_previews(p.previews)});
    if (res.affected == 0)
      throw db_error(errc::not_found, "project not found");
    if (p.repository_token)
      s.exec(q("UPDATE projects SET repository_token = $2 WHERE id = $1"),
             {p.id, seal_or_empty(*p.repository_token)});
    auto row = s.exec(q("SELECT " GILGAL_PROJECT_SELECT " FROM projects WHERE id = $1"), {p.id});
    return project_of(row.rows.at(0));
  });
}

caf::expected<project> sql_store::set_deploy_key(const std::string& project_id,
                                                 const std::string& private_key,
                                                 const std::string& public_key) {
  return run<project>(true, [&](sql_session& s) {
    auto res = s.exec(q("UPDATE projects SET deploy_key = $2, deploy_public_key = $3, "
                        "updated_at = $4 WHERE id = $1 AND deleted_at IS NULL"),
                      {project_id, seal_or_empty(private_key), public_key, now_rfc3339()});
    if (res.affected == 0)
      throw db_error(errc::not_found, "project not found");
    auto row = s.exec(q("SELECT " GILGAL_PROJECT_SELECT " FROM projects WHERE id = $1"),
                      {project_id});
    return project_of(row.rows.at(0));
  });
}

caf::expected<repository_access>
sql_store::find_repository_access(const std::string& project_id) {
  return run<repository_access>(false, [&](sql_session& s) {
    auto res = s.exec(q("SELECT repository_token, deploy_key, known_hosts FROM projects "
                        "WHERE id = $1 AND deleted_at IS NULL"),
                      {project_id});
    if (res.rows.empty())
      throw db_error(errc::not_found, "project not found");
    auto& r = res.rows[0];
    repository_access out;
    out.token = open_or_empty(text_at(r, 0), "repository token", project_id);
    out.deploy_key = open_or_empty(text_at(r, 1), "deploy key", project_id);
    out.known_hosts = text_at(r, 2);
    return out;
  });
}

caf::expected<bool> sql_store::record_known_hosts(const std::string& project_id,
                                                  const std::string& expected,
                                                  const std::string& replacement) {
  return run<bool>(true, [&](sql_session& s) {
    auto res = s.exec(q("UPDATE projects SET known_hosts = $3 "
                        "WHERE id = $1 AND known_hosts = $2 AND deleted_at IS NULL"),
                      {project_id, expected, replacement});
    if (res.affected > 0)
      return true;
    auto live = s.exec(q("SELECT 1 FROM projects WHERE id = $1 AND deleted_at IS NULL"),
                       {project_id});
    if (live.rows.empty())
      throw db_error(errc::not_found, "project not found");
    return false;
  });
}

caf::expected<void> sql_store::reset_known_hosts(const std::string& project_id) {
  return run_void(true, [&](sql_session& s) {
    auto res = s.exec(q("UPDATE projects SET known_hosts = '', updated_at = $2 "
                        "WHERE id = $1 AND deleted_at IS NULL"),
                      {project_id, now_rfc3339()});
    if (res.affected == 0)
      throw db_error(errc::not_found, "project not found");
  });
}

caf::expected<void> sql_store::delete_project(const std::string& id) {
  return run_void(true, [&](sql_session& s) {
    auto now = now_rfc3339();
    auto res = s.exec(q("UPDATE projects SET deleted_at = $2, updated_at = $2 "
                        "WHERE id = $1 AND deleted_at IS NULL"),
                      {id, now});
    if (res.affected == 0)
      throw db_error(errc::not_found, "project not found");
    // A deleted project's environments go with it, and so do their hosts.
    s.exec(q("DELETE FROM environment_hosts WHERE environment_id IN "
             "(SELECT id FROM environments WHERE project_id = $1 AND deleted_at IS NULL)"),
           {id});
    s.exec(q("UPDATE environments SET deleted_at = $2, updated_at = $2 "
             "WHERE project_id = $1 AND deleted_at IS NULL"),
           {id, now});
  });
}

// -- environments ------------------------------------------------------------------

caf::expected<environment> sql_store::create_environment(const environment& in) {
  return run<environment>(true, [&](sql_session& s) {
    environment e = in;
    e.id = new_uuid();
    e.created_at = e.updated_at = now_rfc3339();
    auto live = s.exec(q("SELECT 1 FROM projects WHERE id = $1 AND deleted_at IS NULL"),
                       {e.project_id});
    if (live.rows.empty())
      throw db_error(errc::not_found, "project not found");
    on_conflict("environment name already exists in this project", [&] {
      return s.exec(q("INSERT INTO environments (" GILGAL_ENV_COLS ") "
                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
                      "$16)"),
                    {e.id, e.project_id, e.name, e.type, e.domain, encode_variables(e.variables),
                     encode_settings(e.settings), e.created_at, e.updated_at,
                     encode_build_variables(e.build_variables), encode_hosts(e.aliases),
                     e.auto_deploy ? 1 : 0, e.branch, e.preview.pull_request,
                     e.preview.provider, e.preview.branch});
    });
    claim_hosts(s, e);
    return e;
  });
}

caf::expected<environment> sql_store::find_environment(const std::string& id) {
  return run<environment>(false, [&](sql_session& s) {
    auto res = s.exec(q("SELECT " GILGAL_ENV_COLS
                        " FROM environments WHERE id = $1 AND deleted_at IS NULL"),
                      {id});
    if (res.rows.empty())
      throw db_error(errc::not_found, "environment not found");
    return environment_of(res.rows[0]);
  });
}

caf::expected<page<environment>> sql_store::list_environments(const std::string& project_id,
                                                              page_request req) {
  return list_environments_impl(project_id, req, true);
}

caf::expected<page<environment>>
sql_store::list_environments_masked(const std::string& project_id, page_request req) {
  return list_environments_impl(project_id, req, false);
}

caf::expected<page<environment>>
sql_store::list_environments_impl(const std::string& project_id, page_request req,
                                  bool decrypt) {
  return run<page<environment>>(false, [&](sql_session& s) {
    check_page(req);
    page<environment> out;
    out.page = req.page;
    out.limit = req.limit;
    auto count = s.exec(
      q("SELECT COUNT(*) FROM environments WHERE project_id = $1 AND deleted_at IS NULL"),
      {project_id});
    out.total = int_at(count.rows.at(0), 0);
    auto res = s.exec(q("SELECT " GILGAL_ENV_COLS " FROM environments "
                        "WHERE project_id = $1 AND deleted_at IS NULL "
                        "ORDER BY created_at, {ord} LIMIT $2 OFFSET $3"),
                      {project_id, req.limit, req.offset()});
    for (auto& r : res.rows)
      out.items.push_back(environment_of(r, decrypt));
    return out;
  });
}

caf::expected<environment> sql_store::update_environment(const environment& e) {
  return run<environment>(true, [&](sql_session& s) {
    auto res = on_conflict("environment name already exists in this project", [&] {
      return s.exec(q("UPDATE environments SET name = $2, type = $3, domain = $4, "
                      "variables = $5, settings = $6, updated_at = $7, build_variables = $8, "
                      "aliases = $9, auto_deploy = $10, branch = $11 "
                      "WHERE id = $1 AND deleted_at IS NULL"),
                    {e.id, e.name, e.type, e.domain, encode_variables(e.variables),
                     encode_settings(e.settings), now_rfc3339(),
                     encode_build_variables(e.build_variables), encode_hosts(e.aliases),
                     e.auto_deploy ? 1 : 0, e.branch});
    });
    if (res.affected == 0)
      throw db_error(errc::not_found, "environment not found");
    claim_hosts(s, e);
    auto row = s.exec(q("SELECT " GILGAL_ENV_COLS " FROM environments WHERE id = $1"), {e.id});
    return environment_of(row.rows.at(0));
  });
}

caf::expected<void> sql_store::delete_environment(const std::string& id) {
  return run_void(true, [&](sql_session& s) {
    auto now = now_rfc3339();
    auto res = s.exec(q("UPDATE environments SET deleted_at = $2, updated_at = $2 "
                        "WHERE id = $1 AND deleted_at IS NULL"),
                      {id, now});
    if (res.affected == 0)
      throw db_error(errc::not_found, "environment not found");
    s.exec(q("DELETE FROM environment_hosts WHERE environment_id = $1"), {id});
  });
}

void sql_store::claim_hosts(sql_session& s, const environment& e) {
  s.exec(q("DELETE FROM environment_hosts WHERE environment_id = $1"), {e.id});
  std::vector<std::string> hosts;
  if (!e.domain.empty())
    hosts.push_back(e.domain);
  hosts.insert(hosts.end(), e.aliases.begin(), e.aliases.end());
  for (auto& h : hosts) {
    auto host = lower_case(h);
    on_conflict("domain: " + host + " is already used by another environment", [&] {
      return s.exec(q("INSERT INTO environment_hosts (host, environment_id) VALUES ($1, $2)"),
                    {host, e.id});
    });
  }
}

caf::expected<std::vector<environment_route>> sql_store::list_environment_routes() {
  return run<std::vector<environment_route>>(false, [&](sql_session& s) {
    auto res = s.exec(q(
      "SELECT e.id, e.name, p.id, p.name, e.domain, e.aliases, e.created_at, "
      "d.id, d.created_at, d.container_id, d.port, d.run_node, e.stopped_deployment_id "
      "FROM environments e JOIN projects p ON p.id = e.project_id "
      "LEFT JOIN deployments d ON d.id = ("
      "  SELECT l.id FROM deployments l WHERE l.environment_id = e.id AND l.status = 'success' "
      "  ORDER BY l.created_at DESC, l.{ord} DESC LIMIT 1) "
      "WHERE e.deleted_at IS NULL AND p.deleted_at IS NULL "
      "ORDER BY e.created_at, e.{ord}"));
    std::vector<environment_route> out;
    for (auto& r : res.rows) {
      environment_route x;
      x.environment_id = text_at(r, 0);
      x.environment_name = text_at(r, 1);
      x.project_id = text_at(r, 2);
      x.project_name = text_at(r, 3);
      x.domain = text_at(r, 4);
      x.aliases = decode_hosts(text_at(r, 5));
      x.created_at = text_at(r, 6);
      x.live_deployment_id = text_at(r, 7);
      x.live_created_at = text_at(r, 8);
      x.container_id = text_at(r, 9);
      x.port = int_at(r, 10);
      x.run_node = text_at(r, 11);
      x.stopped = !x.live_deployment_id.empty() && text_at(r, 12) == x.live_deployment_id;
      out.push_back(std::move(x));
    }
    return out;
  });
}

caf::expected<void> sql_store::set_stopped_deployment(const std::string& environment_id,
                                                     const std::string& deployment_id) {
  return run_void(true, [&](sql_session& s) {
    auto res = s.exec(q("UPDATE environments SET stopped_deployment_id = $2 "
                        "WHERE id = $1 AND deleted_at IS NULL"),
                      {environment_id, deployment_id});
    if (res.affected == 0)
      throw db_error(errc::not_found, "environment not found");
  });
}

// -- deployments -------------------------------------------------------------------

namespace {

sql_param duration_param(const deployment& d) {
  if (d.duration_seconds)
    return sql_param{*d.duration_seconds};
  return sql_param{nullptr};
}

} // namespace

deployment sql_store::insert_deployment(sql_session& s, const deployment& in) {
  deployment d = in;
  d.id = new_uuid();
  d.created_at = d.updated_at = now_rfc3339();
  auto env = s.exec(q("SELECT project_id FROM environments "
                      "WHERE id = $1 AND deleted_at IS NULL"),
                    {d.environment_id});
  if (env.rows.empty() || text_at(env.rows[0], 0) != d.project_id)
    throw db_error(errc::not_found, "environment not found in this project");
  auto live = s.exec(q("SELECT 1 FROM projects WHERE id = $1 AND deleted_at IS NULL"),
                     {d.project_id});
  if (live.rows.empty())
    throw db_error(errc::not_found, "project not found");
  on_conflict("idempotency key already used in this project", [&] {
    return s.exec(q("INSERT INTO deployments (" GILGAL_DEP_COLS ") VALUES ($1, $2, $3, $4, "
                    "$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, "
                    "$20, $21, $22)"),
                  {d.id, d.project_id, d.environment_id, d.commit_sha, d.commit_message,
                   to_string(d.status), duration_param(d), d.deployed_at, d.container_id,
                   d.image_name, d.port, d.error_message, d.idempotency_key, to_string(d.kind),
                   d.rollback_of,
                   d.build_node, d.run_node, d.created_at, d.updated_at, d.trigger.kind,
                   d.trigger.provider, d.trigger.delivery_id});
  });
  return d;
}

caf::expected<deployment> sql_store::create_deployment(const deployment& in) {
  return run<deployment>(true, [&](sql_session& s) { return insert_deployment(s, in); });
}

caf::expected<deployment> sql_store::find_deployment(const std::string& id) {
  return run<deployment>(false, [&](sql_session& s) {
    auto res = s.exec(q("SELECT " GILGAL_DEP_COLS " FROM deployments WHERE id = $1"), {id});
    if (res.rows.empty())
      throw db_error(errc::not_found, "deployment not found");
    return deployment_of(res.rows[0]);
  });
}

caf::expected<deployment>
sql_store::find_deployment_by_key(const std::string& project_id,
                                  const std::string& idempotency_key) {
  return run<deployment>(false, [&](sql_session& s) {
    if (idempotency_key.empty())
      throw db_error(errc::not_found, "deployment not found");
    auto res = s.exec(q("SELECT " GILGAL_DEP_COLS " FROM deployments "
                        "WHERE project_id = $1 AND idempotency_key = $2"),
                      {project_id, idempotency_key});
    if (res.rows.empty())
      throw db_error(errc::not_found, "deployment not found");
    return deployment_of(res.rows[0]);
  });
}

caf::expected<page<deployment>> sql_store::list_deployments(const std::string& project_id,
                                                            page_request req) {
  return run<page<deployment>>(false, [&](sql_session& s) {
    check_page(req);
    page<deployment> out;
    out.page = req.page;
    out.limit = req.limit;
    auto count = s.exec(q("SELECT COUNT(*) FROM deployments WHERE project_id = $1"),
                        {project_id});
    out.total = int_at(count.rows.at(0), 0);
    auto res = s.exec(q("SELECT " GILGAL_DEP_COLS " FROM deployments WHERE project_id = $1 "
                        "ORDER BY created_at DESC, {ord} DESC LIMIT $2 OFFSET $3"),
                      {project_id, req.limit, req.offset()});
    for (auto& r : res.rows)
      out.items.push_back(deployment_of(r));
    return out;
  });
}

caf::expected<deployment> sql_store::update_deployment(const deployment& d) {
  return run<deployment>(true, [&](sql_session& s) {
    auto res = on_conflict("idempotency key already used in this project", [&] {
      return s.exec(q("UPDATE deployments SET commit_sha = $2, commit_message = $3, "
                      "status = $4, duration_seconds = $5, deployed_at = $6, "
                      "container_id = $7, image_name = $8, port = $9, error_message = $10, "
                      "idempotency_key = $11, kind = $12, rollback_of = $13, "
                      "build_node = $14, run_node = $15, updated_at = $16 WHERE id = $1"),
                    {d.id, d.commit_sha, d.commit_message, to_string(d.status),
                     duration_param(d), d.deployed_at, d.container_id, d.image_name, d.port,
                     d.error_message, d.idempotency_key, to_string(d.kind), d.rollback_of,
                     d.build_node, d.run_node, now_rfc3339()});
    });
    if (res.affected == 0)
      throw db_error(errc::not_found, "deployment not found");
    auto row = s.exec(q("SELECT " GILGAL_DEP_COLS " FROM deployments WHERE id = $1"), {d.id});
    return deployment_of(row.rows.at(0));
  });
}

caf::expected<std::vector<deployment>> sql_store::list_unfinished_deployments() {
  return run<std::vector<deployment>>(false, [&](sql_session& s) {
    auto res = s.exec(q("SELECT " GILGAL_DEP_COLS " FROM deployments "
                        "WHERE status IN ('pending', 'building') ORDER BY created_at, {ord}"));
    std::vector<deployment> out;
    for (auto& r : res.rows)
      out.push_back(deployment_of(r));
    return out;
  });
}

caf::expected<std::vector<deployment>>
sql_store::list_successful_deployments(const std::string& environment_id) {
  return run<std::vector<deployment>>(false, [&](sql_session& s) {
    auto res = s.exec(q("SELECT " GILGAL_DEP_COLS " FROM deployments "
                        "WHERE environment_id = $1 AND status = 'success' "
                        "ORDER BY created_at DESC, {ord} DESC"),
                      {environment_id});
    std::vector<deployment> out;
    for (auto& r : res.rows)
      out.push_back(deployment_of(r));
    return out;
  });
}

caf::expected<std::map<deployment_status, int64_t>> sql_store::count_deployments_by_status() {
  return run<std::map<deployment_status, int64_t>>(false, [&](sql_session& s) {
    auto res = s.exec(q("SELECT status, COUNT(*) FROM deployments GROUP BY status"));
    std::map<deployment_status, int64_t> out;
    for (auto& r : res.rows) {
      auto x = parse_deployment_status(text_at(r, 0));
      if (!x)
        throw db_error(errc::internal, "a deployment has an unknown status \"" + text_at(r, 0)
                                         + "\" in the database");
      out[*x] = int_at(r, 1);
    }
    return out;
  });
}

// -- webhooks ----------------------------------------------------------------------

caf::expected<void> sql_store::set_webhook_secret(const std::string& project_id,
                                                  const std::string& secret) {
  return run_void(true, [&](sql_session& s) {
    auto live = s.exec(q("SELECT 1 FROM projects WHERE id = $1 AND deleted_at IS NULL"),
                       {project_id});
    if (live.rows.empty())
      throw db_error(errc::not_found, "project not found");
    auto now = now_rfc3339();
    auto sealed = cipher_->seal(secret);
    auto res = s.exec(q("UPDATE project_webhooks SET secret = $2, updated_at = $3 "
                        "WHERE project_id = $1"),
                      {project_id, sealed, now});
    if (res.affected == 0)
      s.exec(q("INSERT INTO project_webhooks (project_id, secret, created_at, updated_at) "
               "VALUES ($1, $2, $3, $3)"),
             {project_id, sealed, now});
  });
}

caf::expected<std::string> sql_store::find_webhook_secret(const std::string& project_id) {
  return run<std::string>(false, [&](sql_session& s) {
    auto res = s.exec(q("SELECT w.secret FROM project_webhooks w "
                        "JOIN projects p ON p.id = w.project_id "
                        "WHERE w.project_id = $1 AND p.deleted_at IS NULL"),
                      {project_id});
    if (res.rows.empty())
      throw db_error(errc::not_found, "no webhook for this project");
    auto plain = cipher_->open(text_at(res.rows[0], 0));
    if (!plain)
      throw db_error(errc::internal, "cannot decrypt the webhook secret of project "
                                       + project_id + " (wrong secret key?)");
    return std::move(*plain);
  });
}

caf::expected<std::vector<deployment>>
sql_store::record_webhook_delivery(const webhook_delivery& delivery,
                                   const std::vector<deployment>& deployments) {
  return run<std::vector<deployment>>(true, [&](sql_session& s) {
    on_conflict("delivery " + delivery.delivery_id + " was already received", [&] {
      return s.exec(q("INSERT INTO webhook_deliveries (id, project_id, provider, delivery_id, "
                      "event, received_at) VALUES ($1, $2, $3, $4, $5, $6)"),
                    {new_uuid(), delivery.project_id, delivery.provider, delivery.delivery_id,
                     delivery.event, now_rfc3339()});
    });
    std::vector<deployment> out;
    for (auto& d : deployments)
      out.push_back(insert_deployment(s, d));
    return out;
  });
}

// -- notifications -------------------------------------------------------------------

caf::expected<void> sql_store::set_notification_secret(const std::string& project_id,
                                                       const std::string& secret) {
  return run_void(true, [&](sql_session& s) {
    auto res = s.exec(q("UPDATE projects SET notification_secret = $2 "
                        "WHERE id = $1 AND deleted_at IS NULL"),
                      {project_id, cipher_->seal(secret)});
    if (res.affected == 0)
      throw db_error(errc::not_found, "project not found");
  });
}

caf::expected<std::string> sql_store::find_notification_secret(const std::string& project_id) {
  return run<std::string>(false, [&](sql_session& s) {
    auto res = s.exec(q("SELECT notification_secret FROM projects "
                        "WHERE id = $1 AND deleted_at IS NULL"),
                      {project_id});
    if (res.rows.empty())
      throw db_error(errc::not_found, "project not found");
    auto sealed = text_at(res.rows[0], 0);
    if (sealed.empty())
      throw db_error(errc::not_found, "no notification secret for this project");
    auto plain = cipher_->open(sealed);
    if (!plain)
      throw db_error(errc::internal, "cannot decrypt the notification secret of project "
                                       + project_id + " (wrong secret key?)");
    return std::move(*plain);
  });
}

caf::expected<notification_attempt>
sql_store::add_notification_attempt(const notification_attempt& in) {
  return run<notification_attempt>(true, [&](sql_session& s) {
    auto a = in;
    a.id = new_uuid();
    a.created_at = now_rfc3339();
    s.exec(q("INSERT INTO notification_attempts (" GILGAL_ATTEMPT_COLS ") "
             "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"),
           {a.id, a.project_id, a.deployment_id, a.delivery_id, a.event, a.url, a.attempt,
            a.status_code, a.error, a.success ? 1 : 0, a.created_at});
    return a;
  }, /*unseen=*/true);
}

caf::expected<page<notification_attempt>>
sql_store::list_notification_attempts(const std::string& project_id, page_request req) {
  return run<page<notification_attempt>>(false, [&](sql_session& s) {
    check_page(req);
    page<notification_attempt> out;
    out.page = req.page;
    out.limit = req.limit;
    auto count = s.exec(q("SELECT COUNT(*) FROM notification_attempts WHERE project_id = $1"),
                        {project_id});
    out.total = int_at(count.rows.at(0), 0);
    auto res = s.exec(q("SELECT " GILGAL_ATTEMPT_COLS " FROM notification_attempts "
                        "WHERE project_id = $1 "
                        "ORDER BY created_at DESC, {ord} DESC LIMIT $2 OFFSET $3"),
                      {project_id, req.limit, req.offset()});
    for (auto& r : res.rows)
      out.items.push_back(attempt_of(r));
    return out;
  });
}

// -- preview environments ----------------------------------------------------------

caf::expected<preview_opening> sql_store::open_preview(const webhook_delivery& delivery,
                                                       const preview_request& req) {
  return run<preview_opening>(true, [&](sql_session& s) {
    preview_opening out;
    // The project's row lock serialises the previews of one project (the
    // count below and the insert stay true together on PostgreSQL too).
    auto locked = s.exec(q("UPDATE projects SET updated_at = updated_at "
                           "WHERE id = $1 AND deleted_at IS NULL"),
                         {req.project_id});
    if (locked.affected == 0)
      throw db_error(errc::not_found, "project not found");
    auto seen = s.exec(q("SELECT 1 FROM webhook_deliveries "
                         "WHERE project_id = $1 AND provider = $2 AND delivery_id = $3"),
                       {req.project_id, delivery.provider, delivery.delivery_id});
    if (!seen.rows.empty()) {
      out.outcome = preview_opening::duplicate;
      return out;
    }
    auto record_delivery = [&] {
      s.exec(q("INSERT INTO webhook_deliveries (id, project_id, provider, delivery_id, "
               "event, received_at) VALUES ($1, $2, $3, $4, $5, $6)"),
             {new_uuid(), req.project_id, delivery.provider, delivery.delivery_id,
              delivery.event, now_rfc3339()});
    };
    auto existing = s.exec(q("SELECT id, preview_pull_request FROM environments "
                             "WHERE project_id = $1 AND name = $2 AND deleted_at IS NULL"),
                           {req.project_id, req.name});
    std::string env_id;
    if (!existing.rows.empty()) {
      if (int_at(existing.rows[0], 1) != req.source.pull_request)
        throw db_error(errc::conflict, "environment " + req.name
                                         + " exists and is not this pull request's preview");
      env_id = text_at(existing.rows[0], 0);
      auto newest = s.exec(q("SELECT commit_sha, status, id FROM deployments "
                             "WHERE environment_id = $1 "
                             "ORDER BY created_at DESC, {ord} DESC LIMIT 1"),
                           {env_id});
      if (!newest.rows.empty() && text_at(newest.rows[0], 0) == req.wanted.commit_sha) {
        auto newest_status = status_at(newest.rows[0], 1, text_at(newest.rows[0], 2));
        if (newest_status != deployment_status::failed
            && newest_status != deployment_status::cancelled) {
          record_delivery();
          out.outcome = preview_opening::up_to_date;
        }
      }
    } else {
      auto open = s.exec(q("SELECT COUNT(*) FROM environments WHERE project_id = $1 "
                           "AND deleted_at IS NULL AND preview_pull_request > 0"),
                         {req.project_id});
      out.open_previews = int_at(open.rows.at(0), 0);
      if (out.open_previews >= req.max_previews) {
        out.outcome = preview_opening::over_limit;
        return out;
      }
      environment e;
      e.id = new_uuid();
      e.project_id = req.project_id;
      e.name = req.name;
      e.type = "development";
      e.domain = req.domain;
      e.preview = req.source;
      e.created_at = e.updated_at = now_rfc3339();
      on_conflict("environment " + req.name + " already exists in this project", [&] {
        if (req.base_environment_id.empty())
          return s.exec(q("INSERT INTO environments (" GILGAL_ENV_COLS ") "
                          "VALUES ($1, $2, $3, $4, $5, '{}', $6, $7, $7, '{}', '[]', 0, '', "
                          "$8, $9, $10)"),
                        {e.id, e.project_id, e.name, e.type, e.domain,
                         encode_settings(e.settings), e.created_at, e.preview.pull_request,
                         e.preview.provider, e.preview.branch});
        // Variables as the base has them: sealed values are copied, never opened.
        return s.exec(q("INSERT INTO environments (" GILGAL_ENV_COLS ") "
                        "SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), "
                        "CAST($4 AS TEXT), CAST($5 AS TEXT), variables, settings, "
                        "CAST($6 AS TEXT), CAST($6 AS TEXT), build_variables, '[]', 0, '', "
                        "CAST($7 AS BIGINT), CAST($8 AS TEXT), CAST($9 AS TEXT) FROM environments "
                        "WHERE id = $10 AND project_id = $2 AND deleted_at IS NULL"),
                      {e.id, e.project_id, e.name, e.type, e.domain, e.created_at,
                       e.preview.pull_request, e.preview.provider, e.preview.branch,
                       req.base_environment_id});
      });
      auto made = s.exec(q("SELECT 1 FROM environments WHERE id = $1"), {e.id});
      if (made.rows.empty())
        throw db_error(errc::conflict, "previews.baseEnvironmentId: environment "
                                         + req.base_environment_id
                                         + " no longer exists; choose another base");
      claim_hosts(s, e);
      env_id = e.id;
      out.created = true;
    }
    if (out.outcome == preview_opening::deployed) {
      record_delivery();
      auto d = req.wanted;
      d.project_id = req.project_id;
      d.environment_id = env_id;
      out.dep = insert_deployment(s, d);
    }
    auto row = s.exec(q("SELECT " GILGAL_ENV_COLS " FROM environments WHERE id = $1"), {env_id});
    out.env = environment_of(row.rows.at(0));
    return out;
  });
}

caf::expected<environment> sql_store::find_preview(const std::string& project_id,
                                                   int64_t number) {
  return run<environment>(false, [&](sql_session& s) {
    auto res = s.exec(q("SELECT " GILGAL_ENV_COLS " FROM environments "
                        "WHERE project_id = $1 AND preview_pull_request = $2 "
                        "AND deleted_at IS NULL"),
                      {project_id, number});
    if (res.rows.empty() || number <= 0)
      throw db_error(errc::not_found, "no preview of pull request " + std::to_string(number));
    return environment_of(res.rows[0], false);
  });
}

caf::expected<page<preview_view>> sql_store::list_previews(const std::string& project_id,
                                                           page_request req) {
  return run<page<preview_view>>(false, [&](sql_session& s) {
    check_page(req);
    page<preview_view> out;
    out.page = req.page;
    out.limit = req.limit;
    auto count = s.exec(q("SELECT COUNT(*) FROM environments WHERE project_id = $1 "
                          "AND deleted_at IS NULL AND preview_pull_request > 0"),
                        {project_id});
    out.total = int_at(count.rows.at(0), 0);
    auto res = s.exec(q("SELECT " GILGAL_ENV_COLS " FROM environments "
                        "WHERE project_id = $1 AND deleted_at IS NULL "
                        "AND preview_pull_request > 0 "
                        "ORDER BY preview_pull_request LIMIT $2 OFFSET $3"),
                      {project_id, req.limit, req.offset()});
    for (auto& r : res.rows) {
      preview_view v;
      v.env = environment_of(r, false);
      v.last_activity_at = v.env.updated_at;
      auto newest = s.exec(q("SELECT id, status, commit_sha, updated_at FROM deployments "
                             "WHERE environment_id = $1 "
                             "ORDER BY created_at DESC, {ord} DESC LIMIT 1"),
                           {v.env.id});
      auto last = s.exec(q("SELECT MAX(updated_at) FROM deployments WHERE environment_id = $1"),
                         {v.env.id});
      if (!newest.rows.empty()) {
        v.latest_deployment_id = text_at(newest.rows[0], 0);
        v.latest_status = status_at(newest.rows[0], 1, v.latest_deployment_id);
        v.latest_commit_sha = text_at(newest.rows[0], 2);
      }
      if (!last.rows.empty())
        v.last_activity_at = std::max(v.last_activity_at, text_at(last.rows[0], 0));
      out.items.push_back(std::move(v));
    }
    return out;
  });
}

caf::expected<std::vector<preview_activity>> sql_store::list_preview_activity() {
  return run<std::vector<preview_activity>>(false, [&](sql_session& s) {
    auto res = s.exec(q(
      "SELECT e.id, e.project_id, e.name, e.preview_pull_request, p.previews, e.updated_at, "
      "(SELECT MAX(d.updated_at) FROM deployments d WHERE d.environment_id = e.id), "
      "(SELECT COUNT(*) FROM deployments d WHERE d.environment_id = e.id "
      "   AND d.status IN ('pending', 'building')) "
      "FROM environments e JOIN projects p ON p.id = e.project_id "
      "WHERE e.deleted_at IS NULL AND p.deleted_at IS NULL AND e.preview_pull_request > 0 "
      "ORDER BY e.created_at, e.{ord}"));
    std::vector<preview_activity> out;
    for (auto& r : res.rows) {
      preview_activity a;
      a.environment_id = text_at(r, 0);
      a.project_id = text_at(r, 1);
      a.name = text_at(r, 2);
      a.pull_request = int_at(r, 3);
      a.ttl_hours = decode_previews(text_at(r, 4)).ttl_hours;
      a.last_activity_at = std::max(text_at(r, 5), text_at(r, 6));
      a.busy = int_at(r, 7) > 0;
      out.push_back(std::move(a));
    }
    return out;
  });
}

// -- deployment logs ---------------------------------------------------------------

caf::expected<void> sql_store::append_logs(const std::vector<log_line>& lines) {
  if (lines.empty())
    return {};
  return run_void(true, [&](sql_session& s) {
    for (auto& l : lines) {
      try {
        on_conflict("log line seq " + std::to_string(l.seq)
                      + " already exists for this deployment",
                    [&] {
                      return s.exec(q("INSERT INTO deployment_logs (id, " GILGAL_LOG_COLS ") "
                                      "VALUES ($1, $2, $3, $4, $5, $6)"),
                                    {new_uuid(), l.deployment_id, l.seq, l.level, l.message,
                                     l.timestamp.empty() ? now_rfc3339() : l.timestamp});
                    });
      } catch (db_error& e) {
        if (e.code == errc::not_found)
          throw db_error(errc::not_found, "deployment not found");
        throw;
      }
    }
  }, /*unseen=*/true);
}

caf::expected<page<log_line>> sql_store::list_logs(const std::string& deployment_id,
                                                   page_request req) {
  return run<page<log_line>>(false, [&](sql_session& s) {
    check_page(req);
    page<log_line> out;
    out.page = req.page;
    out.limit = req.limit;
    auto count = s.exec(q("SELECT COUNT(*) FROM deployment_logs WHERE deployment_id = $1"),
                        {deployment_id});
    out.total = int_at(count.rows.at(0), 0);
    auto res = s.exec(q("SELECT " GILGAL_LOG_COLS " FROM deployment_logs "
                        "WHERE deployment_id = $1 ORDER BY seq LIMIT $2 OFFSET $3"),
                      {deployment_id, req.limit, req.offset()});
    for (auto& r : res.rows)
      out.items.push_back(log_of(r));
    return out;
  });
}

caf::expected<std::vector<log_line>> sql_store::logs_after(const std::string& deployment_id,
                                                           int64_t after_seq, int64_t limit) {
  return run<std::vector<log_line>>(false, [&](sql_session& s) {
    if (limit < 1)
      throw db_error(errc::invalid_argument, "limit must be at least 1");
    auto res = s.exec(q("SELECT " GILGAL_LOG_COLS " FROM deployment_logs "
                        "WHERE deployment_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"),
                      {deployment_id, after_seq, limit});
    std::vector<log_line> out;
    for (auto& r : res.rows)
      out.push_back(log_of(r));
    return out;
  });
}

caf::expected<int64_t> sql_store::last_log_seq(const std::string& deployment_id) {
  return run<int64_t>(false, [&](sql_session& s) {
    auto res = s.exec(
      q("SELECT COALESCE(MAX(seq), 0) FROM deployment_logs WHERE deployment_id = $1"),
      {deployment_id});
    return int_at(res.rows.at(0), 0);
  });
}

// -- schema ------------------------------------------------------------------------

caf::expected<int64_t> sql_store::schema_version() {
  return run<int64_t>(false, [&](sql_session& s) {
    auto res = s.exec(q("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    return int_at(res.rows.at(0), 0);
  });
}

} // namespace gilgal
