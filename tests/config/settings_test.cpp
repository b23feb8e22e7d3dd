#define CAF_SUITE config.settings
#include <caf/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>

#include "config/settings.hpp"
#include "config/settings_file.hpp"
#include "protocol/error.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;

namespace {

// Every GILGAL_* variable a test sets; cleared before and after each test.
const char* touched_env[] = {"GILGAL_LISTEN",     "GILGAL_DATA_DIR",   "GILGAL_DATABASE_URL",
                             "GILGAL_CONFIG",     "GILGAL_DOCKER_HOST", "GILGAL_ALLOW_LOCAL_SOURCES",
                             "GILGAL_LOG_LEVEL",  "GILGAL_IMAGE_NODE", "GILGAL_DEFAULT_CPUS",
                             "GILGAL_GIT_RETRIES"};

struct fixture {
  std::string dir = test::make_temp_dir("gilgal-settings");

  fixture() {
    clear_env();
  }

  ~fixture() {
    clear_env();
    test::remove_tree(dir);
  }

  static void clear_env() {
    for (auto* name : touched_env)
      ::unsetenv(name);
  }

  std::string write(const std::string& name, const std::string& text) {
    auto path = dir + "/" + name;
    std::ofstream{path} << text;
    return path;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(settings_tests, fixture)

CAF_TEST(defaults) {
  auto s = resolve_settings("", {});
  CAF_REQUIRE(s);
  CAF_CHECK_EQUAL(s->listen, "127.0.0.1:8080");
  CAF_CHECK_EQUAL(s->data_dir, "./data");
  CAF_CHECK_EQUAL(s->effective_database_url(), "./data/gilgal.db");
  CAF_CHECK_EQUAL(s->allow_local_sources, false);
  CAF_CHECK_EQUAL(s->docker_host, "unix:///var/run/docker.sock");
}

CAF_TEST(file overrides defaults including tables) {
  auto path = write("a.toml", R"(
listen = "0.0.0.0:9000"
data_dir = "/srv/gilgal"
allow_local_sources = true
default_cpus = 2
git_retries = 5
[images]
node = "local/node:1"
[registry]
url = "registry.local:5000"
password = "hunter2"
)");
  settings s;
  auto res = apply_config_file(path, s);
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(s.listen, "0.0.0.0:9000");
  CAF_CHECK_EQUAL(s.effective_database_url(), "/srv/gilgal/gilgal.db");
  CAF_CHECK_EQUAL(s.allow_local_sources, true);
  CAF_CHECK_EQUAL(s.default_cpus, 2.0);
  CAF_CHECK_EQUAL(s.git_retries, 5);
  CAF_CHECK_EQUAL(s.images.node, "local/node:1");
  CAF_CHECK_EQUAL(s.images.python, "python:3.12-slim-bookworm");
  CAF_CHECK_EQUAL(s.registry_url, "registry.local:5000");
  CAF_CHECK_EQUAL(s.registry_password, "hunter2");
}

CAF_TEST(precedence flags over environment over file over defaults) {
  auto path = write("p.toml", R"(
listen = "127.0.0.1:1111"
data_dir = "/from/file"
docker_host = "unix:///from/file.sock"
log_level = "debug"
)");
  ::setenv("GILGAL_CONFIG", path.c_str(), 1);
  ::setenv("GILGAL_LISTEN", "127.0.0.1:2222", 1);
  ::setenv("GILGAL_DATA_DIR", "/from/env", 1);
  auto s = resolve_settings("", {{"listen", "127.0.0.1:3333"}});
  CAF_REQUIRE(s);
  CAF_CHECK_EQUAL(s->listen, "127.0.0.1:3333");              // flag
  CAF_CHECK_EQUAL(s->data_dir, "/from/env");                 // environment
  CAF_CHECK_EQUAL(s->docker_host, "unix:///from/file.sock"); // file
  CAF_CHECK_EQUAL(s->log_level, "debug");                    // file
  CAF_CHECK_EQUAL(s->bind_address, "127.0.0.1");             // default
}

CAF_TEST(config flag wins over GILGAL_CONFIG) {
  auto a = write("a.toml", "listen = \"127.0.0.1:1\"\n");
  auto b = write("b.toml", "listen = \"127.0.0.1:2\"\n");
  ::setenv("GILGAL_CONFIG", a.c_str(), 1);
  auto s = resolve_settings(b, {});
  CAF_REQUIRE(s);
  CAF_CHECK_EQUAL(s->listen, "127.0.0.1:2");
}

CAF_TEST(environment booleans and numbers) {
  ::setenv("GILGAL_ALLOW_LOCAL_SOURCES", "1", 1);
  ::setenv("GILGAL_DEFAULT_CPUS", "0.5", 1);
  ::setenv("GILGAL_IMAGE_NODE", "mine/node", 1);
  settings s;
  CAF_REQUIRE(apply_environment(s));
  CAF_CHECK_EQUAL(s.allow_local_sources, true);
  CAF_CHECK_EQUAL(s.default_cpus, 0.5);
  CAF_CHECK_EQUAL(s.images.node, "mine/node");
  ::setenv("GILGAL_ALLOW_LOCAL_SOURCES", "true", 1);
  CAF_REQUIRE(apply_environment(s));
  CAF_CHECK_EQUAL(s.allow_local_sources, true);
  ::setenv("GILGAL_ALLOW_LOCAL_SOURCES", "maybe", 1);
  auto res = apply_environment(s);
  CAF_REQUIRE(!res);
  CAF_CHECK_EQUAL(code_of(res.error()), errc::invalid_argument);
  CAF_CHECK(message_of(res.error()).find("GILGAL_ALLOW_LOCAL_SOURCES") != std::string::npos);
  CAF_CHECK(message_of(res.error()).find("maybe") == std::string::npos);
}

CAF_TEST(environment errors never echo the value) {
  ::setenv("GILGAL_GIT_RETRIES", "secret-looking-value", 1);
  settings s;
  auto res = apply_environment(s);
  CAF_REQUIRE(!res);
  CAF_CHECK(message_of(res.error()).find("GILGAL_GIT_RETRIES") != std::string::npos);
  CAF_CHECK(message_of(res.error()).find("secret-looking-value") == std::string::npos);
}

CAF_TEST(unknown keys are rejected by name) {
  settings s;
  auto res = apply_config_file(write("u.toml", "lisen = \"x:1\"\n"), s);
  CAF_REQUIRE(!res);
  CAF_CHECK_EQUAL(code_of(res.error()), errc::invalid_argument);
  CAF_CHECK(message_of(res.error()).find("lisen") != std::string::npos);
  res = apply_config_file(write("t.toml", "[images]\nruby = \"ruby:3\"\n"), s);
  CAF_REQUIRE(!res);
  CAF_CHECK(message_of(res.error()).find("images.ruby") != std::string::npos);
  res = apply_config_file(write("v.toml", "[volumes]\na = 1\n"), s);
  CAF_REQUIRE(!res);
  CAF_CHECK(message_of(res.error()).find("volumes") != std::string::npos);
}

CAF_TEST(wrong types are rejected by name) {
  settings s;
  auto res = apply_config_file(write("w.toml", "allow_local_sources = \"yes\"\n"), s);
  CAF_REQUIRE(!res);
  CAF_CHECK(message_of(res.error()).find("allow_local_sources") != std::string::npos);
  res = apply_config_file(write("x.toml", "git_retries = 1.5\n"), s);
  CAF_REQUIRE(!res);
  CAF_CHECK(message_of(res.error()).find("git_retries") != std::string::npos);
  res = apply_config_file(write("y.toml", "images = \"node\"\n"), s);
  CAF_REQUIRE(!res);
  CAF_CHECK(message_of(res.error()).find("images") != std::string::npos);
  res = apply_config_file(write("z.toml", "log_level = \"loud\"\n"), s);
  CAF_REQUIRE(!res);
  CAF_CHECK(message_of(res.error()).find("log_level") != std::string::npos);
  // Nothing of a rejected file is applied.
  res = apply_config_file(write("partial.toml", "listen = \"1.2.3.4:5\"\nbogus = 1\n"), s);
  CAF_REQUIRE(!res);
  CAF_CHECK_EQUAL(s.listen, "127.0.0.1:8080");
}

CAF_TEST(syntax errors and missing files) {
  settings s;
  auto res = apply_config_file(write("bad.toml", "listen = \n"), s);
  CAF_REQUIRE(!res);
  CAF_CHECK_EQUAL(code_of(res.error()), errc::invalid_argument);
  res = apply_config_file(dir + "/missing.toml", s);
  CAF_REQUIRE(!res);
  CAF_CHECK(message_of(res.error()).find("missing.toml") != std::string::npos);
}

CAF_TEST(broken utf8 is refused before parsing) {
  // Found by fuzz/settings_file_fuzz.cpp: toml11 read past its buffer on a
  // broken UTF-8 sequence in a literal string.
  settings s;
  auto broken = apply_config_text("listen = 'ab\x90" "c'\n", "broken.toml", s);
  CAF_REQUIRE(!broken);
  CAF_CHECK_EQUAL(code_of(broken.error()), errc::invalid_argument);
  CAF_CHECK_EQUAL(message_of(broken.error()), "config file broken.toml: not valid UTF-8");
  // Valid multi-byte UTF-8 still parses.
  CAF_CHECK(apply_config_text("data_dir = '/srv/gilgal-\xc3\xa9t\xc3\xa9'\n", "ok.toml", s));
}

CAF_TEST(deep nesting is refused before parsing) {
  // Found by fuzz/settings_file_fuzz.cpp: toml11 recursed until the stack overflowed.
  settings s;
  auto deep = apply_config_text("x = " + std::string(100000, '['), "deep.toml", s);
  CAF_REQUIRE(!deep);
  CAF_CHECK_EQUAL(code_of(deep.error()), errc::invalid_argument);
  CAF_CHECK_EQUAL(message_of(deep.error()), "config file deep.toml: nested too deeply");
  auto tables = apply_config_text("x = " + std::string(1000, '{'), "t.toml", s);
  CAF_REQUIRE(!tables);
  CAF_CHECK_EQUAL(message_of(tables.error()), "config file t.toml: nested too deeply");
  // Brackets in strings and comments do not nest.
  auto text = "listen = \"" + std::string(100, '[') + ":1\" # " + std::string(100, '{')
              + "\ndata_dir = '''" + std::string(100, '[') + "'''\n";
  auto ok = apply_config_text(text, "strings.toml", s);
  CAF_REQUIRE(ok);
  CAF_CHECK_EQUAL(s.listen, std::string(100, '[') + ":1");
}

CAF_TEST(validation of listen address and flags) {
  auto s = resolve_settings("", {{"listen", "no-port"}});
  CAF_CHECK(!s);
  s = resolve_settings("", {{"git_retries", "x"}});
  CAF_REQUIRE(!s);
  CAF_CHECK(message_of(s.error()).find("--git-retries") != std::string::npos);
  s = resolve_settings("", {{"database_url", "postgresql://u@h/db"}});
  CAF_REQUIRE(s);
  CAF_CHECK_EQUAL(s->effective_database_url(), "postgresql://u@h/db");
}

CAF_TEST(every setting is described with an environment variable) {
  for (auto& info : describe_settings()) {
    CAF_CHECK(info.env.rfind("GILGAL_", 0) == 0);
    CAF_CHECK(!info.help.empty());
  }
}

CAF_TEST(recipes dir defaults to the source tree) {
  CAF_CHECK_EQUAL(default_recipes_dir(), std::string{GILGAL_SOURCE_DIR} + "/config/recipes");
}

CAF_TEST_FIXTURE_SCOPE_END()
