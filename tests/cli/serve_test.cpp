#define CAF_SUITE cli.serve
#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "tests/fixtures/gilgal_server.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;
using namespace gilgal::test;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Creates a project through the API and returns its id.
std::string create_project(gilgal_server& srv, const std::string& name) {
  nlohmann::json body = {{"name", name}, {"repositoryUrl", "https://example.com/acme/app.git"}};
  auto res = srv.client()->Post("/api/projects", gilgal_server::bearer(srv.token()), body.dump(),
                                "application/json");
  if (!res || res->status != 201)
    throw std::runtime_error("POST /api/projects failed: "
                             + (res ? std::to_string(res->status) + " " + res->body
                                    : std::string{"no response"}));
  return nlohmann::json::parse(res->body).at("id").get<std::string>();
}

void check_restart_keeps_data(gilgal_server& srv) {
  auto id = create_project(srv, "survivor");
  CAF_CHECK_EQUAL(srv.restart(), 0);
  auto res = srv.client()->Get("/api/projects/" + id, gilgal_server::bearer(srv.token()));
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->status, 200);
  CAF_CHECK_EQUAL(nlohmann::json::parse(res->body).value("name", ""), "survivor");
}

} // namespace

CAF_TEST(help explains every option) {
  auto top = run_gilgal({"--help"});
  CAF_CHECK_EQUAL(top.exit_code, 0);
  CAF_CHECK(contains(top.out, "serve"));
  CAF_CHECK(contains(top.out, "admin"));
  auto res = run_gilgal({"serve", "--help"});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, "--config"));
  auto serve_keys = setting_keys_for(setting_command::serve);
  auto node_help = run_gilgal({"node", "--help"});
  CAF_CHECK_EQUAL(node_help.exit_code, 0);
  auto node_keys = setting_keys_for(setting_command::node);
  auto offered = [](const std::vector<std::string>& keys, const std::string& key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  for (auto& info : describe_settings()) {
    CAF_CHECK(offered(serve_keys, info.key) || offered(node_keys, info.key));
    if (info.flag.empty()) {
      CAF_CHECK(!contains(res.out, "--" + info.key)); // secrets have no flag
      continue;
    }
    // An option line of CLI11's help starts with two spaces and the flag.
    auto flag = "\n  --" + info.flag + " ";
    CAF_MESSAGE("flag --" << info.flag);
    CAF_CHECK_EQUAL(contains(res.out, flag), offered(serve_keys, info.key));
    CAF_CHECK_EQUAL(contains(node_help.out, flag), offered(node_keys, info.key));
    if (offered(serve_keys, info.key))
      CAF_CHECK(contains(res.out, info.env));
  }
  // The node's own flags are not the control plane's, and the reverse.
  for (auto* flag : {"\n  --join ", "\n  --name ", "\n  --capacity ", "\n  --labels "}) {
    CAF_CHECK(!contains(res.out, flag));
    CAF_CHECK(contains(node_help.out, flag));
  }
  for (auto* flag : {"\n  --listen ", "\n  --database-url ", "\n  --cluster-listen ",
                     "\n  --no-local-node "})
    CAF_CHECK(!contains(node_help.out, flag));
  for (auto* flag : {"--listen", "--data-dir", "--database-url", "--allow-local-sources",
                     "--log-level", "--docker-host", "--bind-address"})
    CAF_CHECK(contains(res.out, flag));
  res = run_gilgal({"admin", "create-user", "--help"});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, "--data-dir"));
  CAF_CHECK(contains(res.out, "--database-url"));
  CAF_CHECK(contains(res.out, "--config"));
}

CAF_TEST(no subcommand or an unknown flag is a usage error) {
  CAF_CHECK_NOT_EQUAL(run_gilgal({}).exit_code, 0);
  CAF_CHECK_NOT_EQUAL(run_gilgal({"serve", "--no-such-flag"}).exit_code, 0);
}

CAF_TEST(serve answers healthz and stops on sigterm) {
  gilgal_server srv;
  auto res = srv.client()->Get("/healthz");
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->status, 200);
  CAF_CHECK(srv.wait_for_log("listening on " + srv.base_url()));
  CAF_CHECK(srv.wait_for_log("gilgal admin create-user NAME --data-dir " + srv.data_dir()));
  auto started = std::chrono::steady_clock::now();
  CAF_CHECK_EQUAL(srv.stop(), 0);
  CAF_CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds{10});
  CAF_CHECK(!srv.client()->Get("/healthz"));
  CAF_CHECK(!contains(srv.log(), srv.token()));
}

CAF_TEST(serve stops on sigint) {
  gilgal_server srv;
  ::kill(srv.pid(), SIGINT);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (srv.running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  CAF_CHECK(!srv.running());
  CAF_CHECK(contains(srv.log(), "SIGINT"));
}

CAF_TEST(tokens from admin create-user authenticate) {
  gilgal_server srv;
  auto cli = srv.client();
  auto res = cli->Get("/api/projects", gilgal_server::bearer(srv.token()));
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->status, 200);
  res = cli->Get("/api/projects");
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->status, 401);
  // A token issued while the server runs works at once.
  auto bob = srv.create_user("bob");
  res = cli->Get("/api/projects", gilgal_server::bearer(bob));
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->status, 200);
  CAF_CHECK(!contains(srv.log(), bob));
}

CAF_TEST(data survives a restart) {
  gilgal_server srv;
  check_restart_keeps_data(srv);
}

CAF_TEST(data survives a restart on PostgreSQL) {
  auto url = postgres_url();
  if (url.empty()) {
    CAF_MESSAGE("GILGAL_TEST_DATABASE_URL not set: skipped");
    return;
  }
  server_options opts;
  opts.database_url = url;
  gilgal_server srv{opts};
  CAF_CHECK(srv.wait_for_log("PostgreSQL"));
  check_restart_keeps_data(srv);
  CAF_CHECK(!contains(srv.log(), srv.database_url()));
}

CAF_TEST(flags win over the environment and the file) {
  auto dir = make_temp_dir("gilgal-precedence");
  auto file = dir + "/gilgal.toml";
  std::ofstream{file} << "listen = \"127.0.0.1:1\"\nlog_level = \"error\"\n";
  // The fixture passes --listen and --data-dir, which must beat the
  // environment and the file; GILGAL_LOG_LEVEL must beat the file's level
  // (else the info line below would not be logged).
  server_options o;
  o.config_file = file;
  o.env["GILGAL_LISTEN"] = "127.0.0.1:2";
  o.env["GILGAL_DATA_DIR"] = "/nonexistent/gilgal";
  o.env["GILGAL_LOG_LEVEL"] = "info";
  gilgal_server srv{o};
  CAF_CHECK(srv.wait_for_log("listening on " + srv.base_url()));
  CAF_CHECK(!contains(srv.log(), "/nonexistent"));
  CAF_CHECK_EQUAL(srv.stop(), 0);
  remove_tree(dir);
}

CAF_TEST(a bad config file stops serve with an error naming the key) {
  auto dir = make_temp_dir("gilgal-badconf");
  auto file = dir + "/bad.toml";
  std::ofstream{file} << "listen = \"127.0.0.1:0\"\nlisten_port = 8080\n";
  auto res = run_gilgal({"serve", "--config", file, "--data-dir", dir + "/data"});
  CAF_CHECK_NOT_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.err, "listen_port"));
  process_options env;
  env.env["GILGAL_CONFIG"] = file;
  res = run_gilgal({"serve", "--data-dir", dir + "/data"}, env);
  CAF_CHECK_NOT_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.err, "listen_port"));
  remove_tree(dir);
}

CAF_TEST(a taken port is a clean startup error) {
  gilgal_server first;
  auto res = run_gilgal({"serve", "--listen", "127.0.0.1:" + std::to_string(first.port()),
                         "--data-dir", first.data_dir() + "-other"});
  CAF_CHECK_NOT_EQUAL(res.exit_code, 0);
  CAF_CHECK(!res.timed_out);
  remove_tree(first.data_dir() + "-other");
}

CAF_TEST(a hard kill loses no committed data) {
  gilgal_server srv;
  auto id = create_project(srv, "durable");
  srv.kill_hard();
  srv.start();
  auto res = srv.client()->Get("/api/projects/" + id, gilgal_server::bearer(srv.token()));
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->status, 200);
}
