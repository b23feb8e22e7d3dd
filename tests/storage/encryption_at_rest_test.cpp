// Environment variable values, repository tokens and private deploy keys are
// sealed before they reach the database: the plaintext appears neither in the
// SQLite file (nor its WAL) nor in the PostgreSQL row, while the store still
// returns it.
#define CAF_SUITE storage.encryption_at_rest
#include <caf/test/unit_test.hpp>

#include <fstream>
#include <iterator>

#include "tests/storage/store_backends.hpp"

using namespace gilgal;

namespace {

std::string file_bytes(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return std::string{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

/// The bytes of the database file and its -wal / -shm companions (if present).
std::string sqlite_bytes(const std::string& db_path) {
  return file_bytes(db_path) + file_bytes(db_path + "-wal") + file_bytes(db_path + "-shm");
}

struct canary {
  std::string env_name = "canary-env-" + new_uuid().substr(0, 8);
  std::string value = "gilgal-at-rest-canary-" + new_uuid();
  std::string token = "gilgal-token-canary-" + new_uuid();
  std::string key = "-----BEGIN OPENSSH PRIVATE KEY-----\ncanary-" + new_uuid() + "\n";
};

environment store_canary(store& st, const canary& c) {
  auto u = st.create_user("alice");
  CAF_REQUIRE(u);
  project p;
  p.owner_id = u->id;
  p.name = "web";
  p.repository_url = "https://example.invalid/web.git";
  p.repository_token = c.token + "-1";
  auto pr = st.create_project(p);
  CAF_REQUIRE(pr);
  CAF_CHECK(pr->has_repository_token);
  // An update writes the token again; a deploy key comes beside it.
  pr->repository_token = c.token;
  CAF_REQUIRE(st.update_project(*pr));
  CAF_REQUIRE(st.set_deploy_key(pr->id, c.key, "ssh-ed25519 AAAA public"));
  environment e;
  e.project_id = pr->id;
  e.name = c.env_name;
  e.variables = {{"API_SECRET", c.value}, {"OTHER", c.value + "-2"}};
  auto env = st.create_environment(e);
  CAF_REQUIRE(env);
  // An update writes the values again.
  env->variables["THIRD"] = c.value + "-3";
  auto updated = st.update_environment(*env);
  CAF_REQUIRE(updated);
  return *updated;
}

/// The store gives the repository secrets back, and only through
/// find_repository_access.
void check_repository_secrets(store& st, const std::string& project_id, const canary& c) {
  auto access = st.find_repository_access(project_id);
  CAF_REQUIRE(access);
  CAF_CHECK_EQUAL(access->token, c.token);
  CAF_CHECK_EQUAL(access->deploy_key, c.key);
  auto p = st.find_project(project_id);
  CAF_REQUIRE(p);
  CAF_CHECK(p->has_repository_token);
  CAF_CHECK(!p->repository_token);
  CAF_CHECK_EQUAL(p->deploy_public_key, "ssh-ed25519 AAAA public");
}

} // namespace

CAF_TEST(sqlite file and wal never hold a variable value) {
  test::backends all;
  auto& b = all.list.at(0);
  CAF_REQUIRE_EQUAL(b.name, "sqlite");
  canary c;
  std::string env_id;
  {
    auto st = b.open();
    env_id = store_canary(*st, c).id;
    // While open, the change may live in the WAL only.
    auto bytes = sqlite_bytes(b.url);
    CAF_CHECK(bytes.find(c.env_name) != std::string::npos); // the scan sees plain columns
    CAF_CHECK(bytes.find(c.value) == std::string::npos);
    CAF_CHECK(bytes.find(c.token) == std::string::npos);
    CAF_CHECK(bytes.find(c.key.substr(36)) == std::string::npos); // the key's own text
  }
  // Closed (WAL checkpointed into the file).
  auto bytes = sqlite_bytes(b.url);
  CAF_CHECK(bytes.find(c.env_name) != std::string::npos);
  CAF_CHECK(bytes.find(c.value) == std::string::npos);
  CAF_CHECK(bytes.find(c.token) == std::string::npos);
  CAF_CHECK(bytes.find(c.key.substr(36)) == std::string::npos);
  auto raw = b.raw_query("SELECT variables FROM environments WHERE id = '" + env_id + "'");
  CAF_REQUIRE_EQUAL(raw.size(), 1u);
  CAF_CHECK(raw[0][0].find("v1:") != std::string::npos);
  CAF_CHECK(raw[0][0].find(c.value) == std::string::npos);
  // And the store still gives the plaintext back.
  auto st = b.open();
  auto e = st->find_environment(env_id);
  CAF_REQUIRE(e);
  CAF_CHECK_EQUAL(e->variables.at("API_SECRET"), c.value);
  CAF_CHECK_EQUAL(e->variables.at("THIRD"), c.value + "-3");
  auto secrets = b.raw_query("SELECT repository_token, deploy_key FROM projects WHERE id = '"
                             + e->project_id + "'");
  CAF_REQUIRE_EQUAL(secrets.size(), 1u);
  CAF_CHECK_EQUAL(secrets[0][0].rfind("v1:", 0), 0u);
  CAF_CHECK_EQUAL(secrets[0][1].rfind("v1:", 0), 0u);
  check_repository_secrets(*st, e->project_id, c);
}

CAF_TEST(postgres row never holds a variable value) {
  test::backends all;
  if (all.list.size() < 2) {
    CAF_MESSAGE("GILGAL_TEST_DATABASE_URL not set: PostgreSQL part skipped");
    return;
  }
  auto& b = all.list.at(1);
  canary c;
  auto st = b.open();
  auto env = store_canary(*st, c);
  auto row = b.raw_query("SELECT row_to_json(e)::text, e.variables FROM environments e "
                         "WHERE e.id = '" + env.id + "'");
  CAF_REQUIRE_EQUAL(row.size(), 1u);
  CAF_CHECK(row[0][0].find(c.env_name) != std::string::npos);
  CAF_CHECK(row[0][0].find(c.value) == std::string::npos);
  CAF_CHECK(row[0][1].find("v1:") != std::string::npos);
  CAF_CHECK(row[0][1].find(c.value) == std::string::npos);
  auto e = st->find_environment(env.id);
  CAF_REQUIRE(e);
  CAF_CHECK_EQUAL(e->variables.at("API_SECRET"), c.value);
  auto project_row = b.raw_query("SELECT row_to_json(p)::text FROM projects p WHERE p.id = '"
                                 + env.project_id + "'");
  CAF_REQUIRE_EQUAL(project_row.size(), 1u);
  CAF_CHECK(project_row[0][0].find(c.token) == std::string::npos);
  CAF_CHECK(project_row[0][0].find(c.key.substr(36)) == std::string::npos);
  check_repository_secrets(*st, env.project_id, c);
}
