#define CAF_SUITE cli.admin
#include <caf/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/api_token.hpp"
#include "tests/fixtures/gilgal_server.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;
using namespace gilgal::test;

namespace {

server_options no_server() {
  server_options opts;
  opts.start = false; // the admin commands need no running server
  return opts;
}

// Every byte of the SQLite database (main file, journal and WAL).
std::string database_bytes(const std::string& data_dir) {
  std::string all;
  for (auto& entry : std::filesystem::directory_iterator(data_dir)) {
    if (entry.path().filename().string().rfind("gilgal.db", 0) != 0)
      continue;
    std::ifstream in{entry.path(), std::ios::binary};
    std::ostringstream buf;
    buf << in.rdbuf();
    all += buf.str();
  }
  return all;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

CAF_TEST(create-user prints the token alone on the last line) {
  gilgal_server srv{no_server()};
  auto res = srv.admin({"create-user", "bob"});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  auto token = res.last_line();
  CAF_CHECK(token.rfind("glg_", 0) == 0);
  CAF_CHECK(!token_id_of(token).empty());
  CAF_CHECK_EQUAL(token.find(' '), std::string::npos);
  // Printed once: the token text appears exactly once in all output.
  CAF_CHECK_EQUAL(res.out.find(token), res.out.rfind(token));
  CAF_CHECK(!contains(res.err, token));
  // The fixture's first user was created the same way.
  CAF_CHECK(srv.token().rfind("glg_", 0) == 0);
  CAF_CHECK_NOT_EQUAL(srv.token(), token);
}

CAF_TEST(only the token hash is stored) {
  gilgal_server srv{no_server()};
  auto token = srv.token();
  auto second = srv.create_token("alice");
  auto bytes = database_bytes(srv.data_dir());
  CAF_REQUIRE(!bytes.empty());
  for (auto& t : {token, second}) {
    CAF_CHECK(!contains(bytes, t));
    CAF_CHECK(!contains(bytes, t.substr(t.rfind('_') + 1))); // the secret part
    CAF_CHECK(contains(bytes, sha256_hex(t)));
  }
}

CAF_TEST(create-token issues another token for an existing user) {
  gilgal_server srv{no_server()};
  auto res = srv.admin({"create-token", "alice"});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK(res.last_line().rfind("glg_", 0) == 0);
  CAF_CHECK_NOT_EQUAL(res.last_line(), srv.token());
  res = srv.admin({"create-token", "nobody"});
  CAF_CHECK_NOT_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.err, "nobody"));
  CAF_CHECK(!contains(res.out, "glg_"));
}

CAF_TEST(list-users shows every user) {
  gilgal_server srv{no_server()};
  srv.create_user("bob");
  srv.create_user("carol.smith");
  auto res = srv.admin({"list-users"});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  for (auto* name : {"alice", "bob", "carol.smith"})
    CAF_CHECK(contains(res.out, name));
  CAF_CHECK(!contains(res.out, "glg_"));
}

CAF_TEST(a duplicate user is a clear error) {
  gilgal_server srv{no_server()};
  auto res = srv.admin({"create-user", "alice"});
  CAF_CHECK_NOT_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.err, "already exists"));
  CAF_CHECK(!contains(res.out, "glg_"));
}

CAF_TEST(bad user names are rejected) {
  gilgal_server srv{no_server()};
  std::vector<std::string> bad = {"Alice",      "a b",      ".hidden",           "x/y",
                                  "semi;colon", "tab\tname", std::string(65, 'a')};
  for (auto& name : bad) {
    auto res = srv.admin({"create-user", name});
    CAF_CHECK_NOT_EQUAL(res.exit_code, 0);
    CAF_CHECK(contains(res.err, "invalid user name"));
  }
  auto res = srv.admin({"create-user", std::string(64, 'a')});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  res = srv.admin({"create-user", "0k_name-1.x"});
  CAF_CHECK_EQUAL(res.exit_code, 0);
}

CAF_TEST(the data dir is private) {
  gilgal_server srv{no_server()};
  namespace fs = std::filesystem;
  auto perms = fs::status(srv.data_dir()).permissions();
  CAF_CHECK((perms & fs::perms::all) == fs::perms::owner_all);
  auto key = fs::status(srv.data_dir() + "/secret.key").permissions();
  CAF_CHECK((key & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
}

CAF_TEST(admin commands honour GILGAL_DATA_DIR) {
  auto dir = make_temp_dir("gilgal-admin-env");
  process_options env;
  env.env["GILGAL_DATA_DIR"] = dir + "/d";
  auto res = run_gilgal({"admin", "create-user", "dave"}, env);
  CAF_CHECK_EQUAL(res.exit_code, 0);
  res = run_gilgal({"admin", "list-users"}, env);
  CAF_CHECK(contains(res.out, "dave"));
  CAF_CHECK(std::filesystem::exists(dir + "/d/gilgal.db"));
  // A flag beats the variable; given twice, the last one counts.
  res = run_gilgal({"admin", "list-users", "--data-dir", dir + "/d", "--data-dir", dir + "/e"},
                   env);
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK(!contains(res.out, "dave"));
  CAF_CHECK(std::filesystem::exists(dir + "/e/gilgal.db"));
  remove_tree(dir);
}

CAF_TEST(admin commands work on PostgreSQL) {
  auto url = postgres_url();
  if (url.empty()) {
    CAF_MESSAGE("GILGAL_TEST_DATABASE_URL not set: skipped");
    return;
  }
  server_options opts = no_server();
  opts.database_url = url;
  gilgal_server srv{opts};
  CAF_CHECK(srv.token().rfind("glg_", 0) == 0);
  srv.create_user("erin");
  auto res = srv.admin({"list-users"});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, "alice"));
  CAF_CHECK(contains(res.out, "erin"));
  res = srv.admin({"create-user", "erin"});
  CAF_CHECK_NOT_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.err, "already exists"));
  // No SQLite file appears when PostgreSQL is the store.
  CAF_CHECK(!std::filesystem::exists(srv.data_dir() + "/gilgal.db"));
}

CAF_TEST(list-tokens shows ids and revocations but never a token) {
  gilgal_server srv{no_server()};
  auto first = srv.token(); // before create_token makes the new one the fixture's
  auto second = srv.create_token("alice");
  auto res = srv.admin({"list-tokens", "alice"});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  auto first_id = token_id_of(first);
  auto second_id = token_id_of(second);
  CAF_CHECK(contains(res.out, first_id));
  CAF_CHECK(contains(res.out, second_id));
  CAF_CHECK(!contains(res.out, "glg_"));
  CAF_CHECK(!contains(res.out, "revoked "));
  res = srv.admin({"revoke-token", second_id});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, "Revoked token " + second_id));
  res = srv.admin({"list-tokens", "alice"});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  // Exactly the revoked one is marked.
  auto line_of = [&](const std::string& id) {
    auto at = res.out.find(id);
    return at == std::string::npos ? std::string{} : res.out.substr(at, res.out.find('\n', at) - at);
  };
  CAF_CHECK(contains(line_of(second_id), "revoked 20"));
  CAF_CHECK(contains(line_of(first_id), "active"));
  res = srv.admin({"list-tokens", "nobody"});
  CAF_CHECK_NOT_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.err, "nobody"));
}

CAF_TEST(revoke-token refuses unknown ids and whole tokens) {
  gilgal_server srv{no_server()};
  auto res = srv.admin({"revoke-token", "0123456789abcdef"});
  CAF_CHECK_NOT_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.err, "no token with id 0123456789abcdef"));
  res = srv.admin({"revoke-token", "not-an-id"});
  CAF_CHECK_NOT_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.err, "invalid token id"));
  // A whole token on a command line is refused, and not echoed.
  res = srv.admin({"revoke-token", srv.token()});
  CAF_CHECK_NOT_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.err, "not the token itself"));
  CAF_CHECK(!contains(res.err, srv.token()));
}

CAF_TEST(a revoked token is refused by a running server within a second) {
  gilgal_server srv; // started
  auto revoked = srv.token();
  auto other = srv.create_token("alice");
  auto cli = srv.client();
  auto get = [&](const std::string& token) {
    auto r = cli->Get("/api/projects", gilgal_server::bearer(token));
    return r ? r->status : 0;
  };
  // Both work, and the server has cached the token about to be revoked.
  CAF_REQUIRE_EQUAL(get(revoked), 200);
  CAF_REQUIRE_EQUAL(get(other), 200);
  auto res = srv.admin({"revoke-token", token_id_of(revoked)});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto revoked_at = std::chrono::steady_clock::now();
  int status = 200;
  while (status == 200 && std::chrono::steady_clock::now() - revoked_at < std::chrono::seconds(2))
    status = get(revoked);
  auto took = std::chrono::steady_clock::now() - revoked_at;
  CAF_CHECK_EQUAL(status, 401);
  CAF_CHECK_LESS(took, std::chrono::seconds(1));
  // For good; the user's other token is untouched.
  CAF_CHECK_EQUAL(get(revoked), 401);
  CAF_CHECK_EQUAL(get(other), 200);
}
