// Releases on config change (issue 12, item 3) end to end: a real `gilgal
// serve` and Docker. A PATCH of environmentVariables or resources of a
// deployed environment creates a deployment of kind "config" that runs the
// live image with the new settings, health-gated; ?deploy=false, an unchanged
// value, other fields and bad input release nothing; the console's
// `env set/unset/show`. (Under load through the proxy: proxy.serving.)
#define CAF_SUITE http.config_release
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <thread>
#include <tuple>

#include "nodes/docker_client.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"
#include "tests/http/app_server.hpp"

using namespace gilgal;
using namespace gilgal::test;
using namespace std::chrono_literals;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

const bool config_release_watchdog = [] {
  caf::test::engine::max_runtime(240);
  return true;
}();

// CRASH=yes makes the app exit at start: its health check fails.
const char* app_dockerfile = R"(FROM gilgal-test/busybox:latest
COPY www /www
RUN chmod 755 /www/cgi-bin/greeting
CMD ["/bin/sh", "-c", "[ \"$CRASH\" = yes ] && exit 3; trap 'exit 0' TERM; httpd -f -p $PORT -h /www & wait"]
)";

// The CGI sees the container's environment. Headers with CRLF for httplib.
const char* greeting_script = "#!/bin/sh\n"
                              "printf 'Content-Type: text/plain\\r\\nContent-Length: %d\\r\\n\\r\\n%s' "
                              "${#GREETING} \"$GREETING\"\n";

std::string greeting(int port) {
  httplib::Client cli{"127.0.0.1", port};
  cli.set_connection_timeout(1, 0);
  cli.set_read_timeout(3, 0);
  auto res = cli.Get("/cgi-bin/greeting");
  return res && res->status == 200 ? res->body : "(no answer)";
}

struct fixture : app_server {
  std::unique_ptr<git_repo> repo = std::make_unique<git_repo>();
  std::string project_id;
  std::string env_id;

  fixture() {
    server_options opts;
    opts.allow_local_sources = true;
    start(opts);
  }

  /// The project "config" and its environment "production" (GREETING=hello),
  /// nothing deployed.
  void create_app() {
    std::tie(project_id, env_id) =
      app_server::create_app("config", repo->path(), json::object(),
                             json{{"environmentVariables", {{"GREETING", "hello"}}}});
  }

  /// Creates the app if needed and deploys it; returns the final record.
  json deploy_app() {
    if (project_id.empty())
      create_app();
    auto sha = repo->commit({{"Dockerfile", app_dockerfile},
                             {"www/index.html", "ok\n"},
                             {"www/cgi-bin/greeting", greeting_script}},
                            "app");
    auto end = deploy(project_id, env_id, sha);
    CAF_REQUIRE_EQUAL(end["status"], "success");
    return end;
  }

  size_t deployment_count() {
    auto r = api("GET", "/api/projects/" + project_id + "/deployments?limit=100");
    CAF_REQUIRE_EQUAL(r.status, 200);
    return r.body["items"].size();
  }

  std::string live_deployment_id() {
    auto r = api("GET", "/api/environments/" + env_id);
    CAF_REQUIRE_EQUAL(r.status, 200);
    return r.body["liveDeploymentId"].is_string() ? r.body["liveDeploymentId"].get<std::string>()
                                                  : std::string{};
  }

  /// The environment's containers once only `container` is left (bounded wait).
  std::vector<std::string> await_only(const std::string& container) {
    auto deadline = clock_type::now() + 30s;
    for (;;) {
      std::vector<std::string> ids;
      if (auto list = docker.list_containers({"gilgal.environment=" + env_id}, true))
        for (auto& c : *list)
          ids.push_back(c.id);
      if ((ids.size() == 1 && ids.front() == container) || clock_type::now() > deadline)
        return ids;
      std::this_thread::sleep_for(50ms);
    }
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(config_release_tests, fixture)

CAF_TEST(a variable change is released with the live image and the app answers the new value) {
  auto first = deploy_app();
  CAF_CHECK_EQUAL(greeting(first["port"].get<int>()), "hello");

  auto r = api("PATCH", "/api/environments/" + env_id,
               json{{"environmentVariables", {{"GREETING", "bonjour"}}}});
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_CHECK_EQUAL(r.body["environmentVariables"]["GREETING"], "bonjour");
  CAF_REQUIRE(r.body["deployment"].is_object());
  auto release = r.body["deployment"];
  CAF_CHECK_EQUAL(release["kind"], "config");
  CAF_CHECK_EQUAL(release["imageName"], first["imageName"]);
  CAF_CHECK_EQUAL(release["commitSha"], first["commitSha"]);
  auto message = release["commitMessage"].get<std::string>();
  CAF_CHECK_EQUAL(message, "Config change: set GREETING"); // names, never values
  auto end = await_end(release["id"].get<std::string>());
  CAF_REQUIRE_EQUAL(end["status"], "success");
  CAF_CHECK_EQUAL(end["imageName"], first["imageName"]);
  CAF_CHECK(end["buildNode"].is_null()); // nothing was built
  CAF_CHECK_EQUAL(greeting(end["port"].get<int>()), "bonjour");
  CAF_CHECK_EQUAL(live_deployment_id(), end["id"]);
  // The previous container is retired.
  auto left = await_only(end["containerId"].get<std::string>());
  CAF_CHECK_EQUAL(left.size(), 1u);
  auto log = api("GET", "/api/deployments/" + end["id"].get<std::string>() + "/logs");
  CAF_REQUIRE_EQUAL(log.status, 200);
  CAF_CHECK_EQUAL(log.body.dump().find("bonjour"), std::string::npos); // never a value

  // Nothing else releases: the same value, ?deploy=false, other fields.
  auto count = deployment_count();
  r = api("PATCH", "/api/environments/" + env_id,
          json{{"environmentVariables", {{"GREETING", "bonjour"}}}});
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_CHECK(r.body["deployment"].is_null());
  r = api("PATCH", "/api/environments/" + env_id + "?deploy=false",
          json{{"environmentVariables", {{"GREETING", "hola"}}}});
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_CHECK(r.body["deployment"].is_null());
  CAF_CHECK_EQUAL(r.body["environmentVariables"]["GREETING"], "hola");
  r = api("PATCH", "/api/environments/" + env_id,
          json{{"domain", "config.example.com"}, {"healthCheck", {{"timeoutSeconds", 40}}}});
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_CHECK(r.body["deployment"].is_null());
  CAF_CHECK_EQUAL(deployment_count(), count);
  CAF_CHECK_EQUAL(live_deployment_id(), end["id"]);
  CAF_CHECK_EQUAL(greeting(end["port"].get<int>()), "bonjour");

  // A resources change is released too: the new container has the new limit
  // (and the variable saved without a release comes with it).
  r = api("PATCH", "/api/environments/" + env_id, json{{"resources", {{"pids", 64}}}});
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_REQUIRE(r.body["deployment"].is_object());
  CAF_CHECK_EQUAL(r.body["deployment"]["commitMessage"], "Config change: resources");
  end = await_end(r.body["deployment"]["id"].get<std::string>());
  CAF_REQUIRE_EQUAL(end["status"], "success");
  CAF_CHECK_EQUAL(greeting(end["port"].get<int>()), "hola");
  auto info = docker.inspect_container(end["containerId"].get<std::string>());
  CAF_REQUIRE(info);
  CAF_CHECK_EQUAL(info->pids_limit, 64);
}

CAF_TEST(a release whose settings fail the health check ends failed and the old container answers) {
  auto first = deploy_app();
  auto r = api("PATCH", "/api/environments/" + env_id,
               json{{"environmentVariables", {{"CRASH", "yes"}, {"GREETING", "broken"}}}});
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_REQUIRE(r.body["deployment"].is_object());
  auto end = await_end(r.body["deployment"]["id"].get<std::string>());
  CAF_CHECK_EQUAL(end["status"], "failed");
  CAF_CHECK(end["errorMessage"].get<std::string>().find("exited") != std::string::npos);
  // The previous container stays live and keeps its settings; the failed
  // release leaves no container.
  CAF_CHECK_EQUAL(greeting(first["port"].get<int>()), "hello");
  CAF_CHECK_EQUAL(live_deployment_id(), first["id"]);
  auto left = await_only(first["containerId"].get<std::string>());
  CAF_CHECK_EQUAL(left.size(), 1u);
  // The settings are stored: unsetting CRASH is released and succeeds.
  r = api("PATCH", "/api/environments/" + env_id,
          json{{"environmentVariables", {{"CRASH", nullptr}}}});
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_REQUIRE(r.body["deployment"].is_object());
  CAF_CHECK_EQUAL(r.body["deployment"]["commitMessage"], "Config change: unset CRASH");
  end = await_end(r.body["deployment"]["id"].get<std::string>());
  CAF_REQUIRE_EQUAL(end["status"], "success");
  CAF_CHECK_EQUAL(greeting(end["port"].get<int>()), "broken");
}

CAF_TEST(a release queued behind a deployment runs the image that went live meanwhile) {
  auto first = deploy_app();
  // A build that takes a while (RUN sleep): the PATCH comes while it runs.
  auto sha = repo->commit({{"Dockerfile", std::string{app_dockerfile} + "RUN sleep 2\n"},
                           {"www/index.html", "v2\n"},
                           {"www/cgi-bin/greeting", greeting_script}},
                          "v2");
  auto d = api("POST", "/api/projects/" + project_id + "/deployments",
               json{{"environmentId", env_id}, {"commitSha", sha}});
  CAF_REQUIRE_EQUAL(d.status, 201);
  auto r = api("PATCH", "/api/environments/" + env_id,
               json{{"environmentVariables", {{"GREETING", "later"}}}});
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_REQUIRE(r.body["deployment"].is_object());
  CAF_CHECK_EQUAL(r.body["deployment"]["imageName"], first["imageName"]); // live when created
  auto built = await_end(d.body["id"].get<std::string>());
  CAF_REQUIRE_EQUAL(built["status"], "success");
  CAF_REQUIRE_NOT_EQUAL(built["imageName"], first["imageName"]);
  auto end = await_end(r.body["deployment"]["id"].get<std::string>());
  CAF_REQUIRE_EQUAL(end["status"], "success");
  // Not the older image: the release keeps the new code.
  CAF_CHECK_EQUAL(end["imageName"], built["imageName"]);
  CAF_CHECK_EQUAL(end["commitSha"], built["commitSha"]);
  CAF_CHECK_EQUAL(greeting(end["port"].get<int>()), "later");
  CAF_CHECK_EQUAL(live_deployment_id(), end["id"]);
}

CAF_TEST(a release brings a stopped environment back with the new settings) {
  auto first = deploy_app();
  auto stopped = api("POST", "/api/environments/" + env_id + "/stop");
  CAF_REQUIRE_EQUAL(stopped.status, 200);
  CAF_CHECK_EQUAL(stopped.body["state"], "stopped");
  CAF_CHECK_EQUAL(greeting(first["port"].get<int>()), "(no answer)");
  auto r = api("PATCH", "/api/environments/" + env_id,
               json{{"environmentVariables", {{"GREETING", "awake"}}}});
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_REQUIRE(r.body["deployment"].is_object());
  auto end = await_end(r.body["deployment"]["id"].get<std::string>());
  CAF_REQUIRE_EQUAL(end["status"], "success");
  CAF_CHECK_EQUAL(greeting(end["port"].get<int>()), "awake");
  auto left = await_only(end["containerId"].get<std::string>());
  CAF_CHECK_EQUAL(left.size(), 1u);
  // It is the environment's running container: stop and start act on it.
  stopped = api("POST", "/api/environments/" + env_id + "/stop");
  CAF_REQUIRE_EQUAL(stopped.status, 200);
  CAF_CHECK_EQUAL(stopped.body["containerId"], end["containerId"]);
  auto started = api("POST", "/api/environments/" + env_id + "/start");
  CAF_REQUIRE_EQUAL(started.status, 200);
  CAF_CHECK_EQUAL(started.body["state"], "running");
  CAF_CHECK_EQUAL(greeting(end["port"].get<int>()), "awake");
}

CAF_TEST(without a live deployment or with bad input a PATCH deploys nothing) {
  create_app();
  // Nothing runs: the settings are stored, nothing is released.
  auto r = api("PATCH", "/api/environments/" + env_id,
               json{{"environmentVariables", {{"GREETING", "early"}}}});
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_CHECK(r.body["deployment"].is_null());
  CAF_CHECK_EQUAL(deployment_count(), 0u);
  auto first = deploy_app();
  CAF_CHECK_EQUAL(greeting(first["port"].get<int>()), "early");
  auto count = deployment_count();
  // Wrong types, invalid names, a bad ?deploy: 400, nothing stored or released.
  std::vector<std::pair<std::string, json>> bad = {
    {"", json{{"environmentVariables", "GREETING=x"}}},
    {"", json{{"environmentVariables", {{"GREETING", 5}}}}},
    {"", json{{"environmentVariables", {{"1GREETING", "x"}}}}},
    {"", json{{"environmentVariables", {{"GREET-ING", "x"}}}}},
    {"", json{{"environmentVariables", {{"GREETING", "x"}, {"", "y"}}}}},
    {"", json{{"resources", {{"pids", "many"}}}}},
    {"", json{{"resources", "big"}}},
    {"", json{{"environmentVariables", {{"GREETING", "x"}}}, {"resources", {{"cpus", "two"}}}}},
    {"?deploy=maybe", json{{"environmentVariables", {{"GREETING", "x"}}}}},
  };
  for (auto& [query, body] : bad) {
    auto res = api("PATCH", "/api/environments/" + env_id + query, body);
    CAF_CHECK_EQUAL(res.status, 400);
    CAF_CHECK(res.body["error"]["message"].is_string());
  }
  CAF_CHECK_EQUAL(deployment_count(), count);
  auto now = api("GET", "/api/environments/" + env_id);
  CAF_REQUIRE_EQUAL(now.status, 200);
  CAF_CHECK_EQUAL(now.body["environmentVariables"], json({{"GREETING", "early"}}));
  CAF_CHECK(now.body["resources"]["pids"].is_null());
  CAF_CHECK_EQUAL(greeting(first["port"].get<int>()), "early");
}

CAF_TEST(the console sets unsets and shows variables) {
  deploy_app();
  std::vector<std::string> where = {"--url", srv->base_url(), "--token", srv->token()};
  auto args = [&](std::vector<std::string> a) {
    a.insert(a.end(), where.begin(), where.end());
    return a;
  };
  auto out = run_gilgal(args({"env", "set", "config", "production", "GREETING=hi", "EXTRA=a=b"}));
  CAF_CHECK_EQUAL(out.exit_code, 0);
  CAF_CHECK(out.out.find("ended: success") != std::string::npos);
  CAF_CHECK_EQUAL(out.out.find("=hi"), std::string::npos); // values are not echoed
  auto count = deployment_count();
  out = run_gilgal(args({"env", "unset", "config", "production", "EXTRA", "--no-deploy"}));
  CAF_CHECK_EQUAL(out.exit_code, 0);
  CAF_CHECK_EQUAL(deployment_count(), count);
  out = run_gilgal(args({"env", "show", "config", "production"}));
  CAF_CHECK_EQUAL(out.exit_code, 0);
  CAF_CHECK_EQUAL(out.out, "GREETING=hi\n");
  out = run_gilgal(args({"env", "show", "config", "production", "--json"}));
  CAF_CHECK_EQUAL(out.exit_code, 0);
  CAF_CHECK_EQUAL(json::parse(out.out, nullptr, false), json({{"GREETING", "hi"}}));
  auto live = api("GET", "/api/projects/" + project_id + "/deployments?limit=1");
  CAF_REQUIRE_EQUAL(live.status, 200);
  auto newest = live.body["items"][0];
  CAF_CHECK_EQUAL(newest["kind"], "config");
  CAF_CHECK_EQUAL(newest["status"], "success");
  CAF_CHECK_EQUAL(greeting(newest["port"].get<int>()), "hi");
  // --json: the final record of the release on stdout.
  out = run_gilgal(args({"env", "set", "config", "production", "GREETING=hey", "--json"}));
  CAF_CHECK_EQUAL(out.exit_code, 0);
  auto printed = json::parse(out.out, nullptr, false);
  CAF_CHECK_EQUAL(printed.value("kind", ""), "config");
  CAF_CHECK_EQUAL(printed.value("status", ""), "success");
  // Usage errors and refused input: nothing changes.
  count = deployment_count();
  out = run_gilgal(args({"env", "set", "config", "production", "NOEQUALS"}));
  CAF_CHECK_EQUAL(out.exit_code, 2);
  out = run_gilgal(args({"env", "set", "config", "production", "BAD-NAME=x"}));
  CAF_CHECK_NOT_EQUAL(out.exit_code, 0);
  CAF_CHECK(out.err.find("variable names") != std::string::npos);
  CAF_CHECK_EQUAL(deployment_count(), count);
}

CAF_TEST_FIXTURE_SCOPE_END()
