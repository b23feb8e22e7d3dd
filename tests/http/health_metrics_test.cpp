// GET /api/deployments/:id/health and GET /metrics over real HTTP against a
// real `gilgal serve` deploying a local git repository on the real Docker
// daemon.
#define CAF_SUITE http.health_metrics
#include <caf/test/unit_test.hpp>

#include <map>
#include <regex>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "nodes/docker_client.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"
#include "tests/http/api_support.hpp"

using namespace gilgal;
using namespace gilgal::test;
using namespace std::chrono_literals;

namespace {

const char* web_dockerfile = R"(FROM gilgal-test/busybox:latest
CMD ["/bin/sh", "-c", "mkdir -p /tmp/w && echo ok > /tmp/w/index.html && exec httpd -f -p $PORT -h /tmp/w"]
)";

/// One parsed exposition: samples by "name{labels}" and TYPE per family.
struct exposition {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
  std::vector<std::string> errors;
  std::vector<std::pair<std::string, double>> ordered; // in text order
};

exposition parse(const std::string& text) {
  exposition out;
  static const std::regex sample{R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$)"};
  static const std::regex type{R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)"};
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.empty() || line.rfind("# HELP ", 0) == 0)
      continue;
    if (std::regex_match(line, m, type)) {
      out.types[m[1]] = m[2];
      continue;
    }
    if (!std::regex_match(line, m, sample)) {
      out.errors.push_back("bad line: " + line);
      continue;
    }
    std::string name = m[1];
    std::string family = name;
    for (auto* suffix : {"_bucket", "_sum", "_count"})
      if (out.types.count(family) == 0 && name.size() > strlen(suffix)
          && name.compare(name.size() - strlen(suffix), strlen(suffix), suffix) == 0)
        family = name.substr(0, name.size() - strlen(suffix));
    if (out.types.count(family) == 0)
      out.errors.push_back("sample before its TYPE line: " + line);
    double v = m[3] == "+Inf" ? INFINITY : std::stod(m[3]);
    out.samples[name + std::string{m[2]}] = v;
    out.ordered.emplace_back(name + std::string{m[2]}, v);
  }
  return out;
}

/// Buckets of a histogram rise monotonically and end in +Inf == _count.
void check_histogram(const exposition& e, const std::string& name) {
  CAF_CHECK_EQUAL(e.types.at(name), "histogram");
  double last = -1;
  int buckets = 0;
  for (auto& [key, v] : e.ordered)
    if (key.rfind(name + "_bucket{", 0) == 0) {
      CAF_CHECK_GREATER_OR_EQUAL(v, last);
      last = v;
      ++buckets;
    }
  CAF_CHECK_GREATER(buckets, 2);
  CAF_CHECK_EQUAL(e.samples.at(name + "_bucket{le=\"+Inf\"}"), e.samples.at(name + "_count"));
  CAF_CHECK(e.samples.count(name + "_sum") == 1);
}

struct fixture {
  git_repo repo;
  std::unique_ptr<gilgal_server> srv;
  std::unique_ptr<httplib::Client> cli;
  docker_client docker{docker_host_or_default()};
  std::string env_id;

  fixture() {
    CAF_REQUIRE(ensure_busybox_image(docker));
    server_options opts;
    opts.allow_local_sources = true;
    auto begin = 36000 + static_cast<int>(::getpid() % 400) * 4;
    opts.extra_args = {"--port-range-begin", std::to_string(begin), "--port-range-end",
                       std::to_string(begin + 100), "--health-check-timeout", "20"};
    srv = std::make_unique<gilgal_server>(opts);
    cli = srv->client();
  }

  ~fixture() {
    if (!env_id.empty())
      if (auto list = docker.list_containers({"gilgal.environment=" + env_id}, true))
        for (auto& c : *list)
          docker.remove_container(c.id, true, true);
  }

  api_response metrics() {
    return call(*cli, "GET", "/metrics", "");
  }

  nlohmann::json deploy_and_wait(const std::string& project_id) {
    auto r = call(*cli, "POST", "/api/projects/" + project_id + "/deployments", srv->token(),
                  nlohmann::json{{"environmentId", env_id}});
    CAF_REQUIRE_EQUAL(r.status, 201);
    auto id = r.body["id"].get<std::string>();
    auto deadline = std::chrono::steady_clock::now() + 240s;
    for (;;) {
      auto d = call(*cli, "GET", "/api/deployments/" + id, srv->token());
      CAF_REQUIRE_EQUAL(d.status, 200);
      auto st = d.body["status"].get<std::string>();
      if (st != "pending" && st != "building")
        return d.body;
      if (std::chrono::steady_clock::now() > deadline)
        CAF_FAIL("deployment still " << st);
      std::this_thread::sleep_for(100ms);
    }
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(health_metrics_tests, fixture)

CAF_TEST(metrics and health of a deployment) {
  // Unauthenticated, Prometheus text.
  auto m0 = metrics();
  CAF_REQUIRE_EQUAL(m0.status, 200);
  CAF_CHECK(m0.header("Content-Type").find("text/plain; version=0.0.4") == 0);
  auto e0 = parse(m0.raw);
  for (auto& err : e0.errors)
    CAF_ERROR(err);
  CAF_CHECK_EQUAL(e0.types.at("gilgal_deployments"), "gauge");
  CAF_CHECK_EQUAL(e0.samples.at("gilgal_deployments{status=\"success\"}"), 0);
  CAF_CHECK_EQUAL(e0.types.at("gilgal_log_lines_written_total"), "counter");
  CAF_CHECK_EQUAL(e0.types.at("gilgal_container_restarts_total"), "counter");
  CAF_CHECK_EQUAL(e0.types.at("gilgal_build_queue_length"), "gauge");
  check_histogram(e0, "gilgal_build_duration_seconds");
  check_histogram(e0, "gilgal_deploy_duration_seconds");

  // A deployment that runs.
  repo.commit({{"Dockerfile", web_dockerfile}});
  auto pr = call(*cli, "POST", "/api/projects", srv->token(),
                 nlohmann::json{{"name", "health"}, {"repositoryUrl", repo.path()}});
  CAF_REQUIRE_EQUAL(pr.status, 201);
  auto project_id = pr.body["id"].get<std::string>();
  env_id = make_environment(*cli, srv->token(), project_id, "production");
  auto ok = deploy_and_wait(project_id);
  CAF_REQUIRE_EQUAL(ok["status"], "success");
  auto id = ok["id"].get<std::string>();
  auto h = call(*cli, "GET", "/api/deployments/" + id + "/health", srv->token());
  CAF_REQUIRE_EQUAL(h.status, 200);
  CAF_MESSAGE("health: " << h.raw);
  CAF_CHECK_EQUAL(h.body["deploymentId"], id);
  CAF_CHECK_EQUAL(h.body["containerId"], ok["containerId"]);
  CAF_CHECK_EQUAL(h.body["state"], "running");
  CAF_CHECK_EQUAL(h.body["running"], true);
  CAF_CHECK_EQUAL(h.body["restartCount"], 0);
  CAF_CHECK_EQUAL(h.body["oomKilled"], false);
  CAF_CHECK(h.body["cpuPercent"].is_number());
  CAF_CHECK_GREATER(h.body["memoryBytes"].get<int64_t>(), 0);
  CAF_CHECK_EQUAL(h.body["memoryLimitBytes"].get<int64_t>(), int64_t{512} * 1024 * 1024);
  CAF_CHECK(h.body["startedAt"].is_string());
  CAF_CHECK(h.body["finishedAt"].is_null());

  // Another user's deployment is not found; so is an unknown one.
  auto bob = srv->create_user("bob");
  CAF_CHECK_EQUAL(call(*cli, "GET", "/api/deployments/" + id + "/health", bob).status, 404);
  CAF_CHECK_EQUAL(call(*cli, "GET", "/api/deployments/00000000-0000-4000-8000-000000000000/health",
                       srv->token())
                    .status,
                  404);
  CAF_CHECK_EQUAL(call(*cli, "GET", "/api/deployments/" + id + "/health", "").status, 401);

  // A deployment whose build failed has no container: 409.
  repo.commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\nRUN false\n"}});
  auto failed = deploy_and_wait(project_id);
  CAF_REQUIRE_EQUAL(failed["status"], "failed");
  auto nc = call(*cli, "GET", "/api/deployments/" + failed["id"].get<std::string>() + "/health",
                 srv->token());
  CAF_CHECK_EQUAL(nc.status, 409);
  CAF_CHECK(nc.error_message().find("has no container") != std::string::npos);

  // The counters moved.
  auto m1 = metrics();
  CAF_REQUIRE_EQUAL(m1.status, 200);
  auto e1 = parse(m1.raw);
  for (auto& err : e1.errors)
    CAF_ERROR(err);
  CAF_CHECK_EQUAL(e1.samples.at("gilgal_deployments{status=\"success\"}"), 1);
  CAF_CHECK_EQUAL(e1.samples.at("gilgal_deployments{status=\"failed\"}"), 1);
  CAF_CHECK_GREATER(e1.samples.at("gilgal_log_lines_written_total"),
                    e0.samples.at("gilgal_log_lines_written_total"));
  check_histogram(e1, "gilgal_build_duration_seconds");
}

CAF_TEST_FIXTURE_SCOPE_END()
