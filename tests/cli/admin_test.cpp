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
