// The deployments API through a real `gilgal serve`: bad input, ownership,
// idempotency, a real deployment from a local repository, its log as JSON and
// as Server-Sent Events (with Last-Event-ID resume).
#define CAF_SUITE http.deployments
#include <caf/test/unit_test.hpp>

#include <thread>

#include "nodes/docker_client.hpp"
#include "protocol/ids.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/test_images.hpp"
#include "tests/http/api_support.hpp"

using namespace gilgal;
using namespace gilgal::test;
using nlohmann::json;

namespace {

server_options local_sources() {
  server_options o;
  o.allow_local_sources = true;
  o.extra_args = {"--docker-host", docker_host_or_default()};
  return o;
}

struct fixture {
  docker_client docker{docker_host_or_default()};
  git_repo repo;
  std::string sha;
  gilgal_server srv{local_sources()};
  std::unique_ptr<httplib::Client> cli = srv.client();
  std::string alice = srv.token();
  std::string bob = srv.create_user("bob");
  std::string project_id;
  std::string environment_id;

  fixture() {
    CAF_REQUIRE(ensure_busybox_image(docker));
    sha = repo.commit(
      {{"Dockerfile", "FROM gilgal-test/busybox:latest\nCOPY www /www\n"
                      "CMD [\"/bin/sh\", \"-c\", \"echo serving; exec httpd -f -p $PORT -h /www\"]\n"},
       {"www/index.html", "deployed by gilgal\n"}});
    auto p = call(*cli, "POST", "/api/projects", alice,
                  json{{"name", "app"}, {"repositoryUrl", repo.path()}});
    CAF_REQUIRE_EQUAL(p.status, 201);
    project_id = p.body["id"];
    environment_id = make_environment(*cli, alice, project_id, "production");
  }

  ~fixture() {
    if (auto list = docker.list_containers({"gilgal.project=" + project_id}, true))
      for (auto& c : *list)
        docker.remove_container(c.id, true, true);
  }

  std::string deployments_path() const {
    return "/api/projects/" + project_id + "/deployments";
  }

  json await_end(const std::string& id) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    for (;;) {
      auto d = call(*cli, "GET", "/api/deployments/" + id, alice);
      CAF_REQUIRE_EQUAL(d.status, 200);
      auto st = d.body["status"].get<std::string>();
      if (st != "pending" && st != "building")
        return d.body;
      CAF_REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  /// The SSE stream of a deployment's log, read to its end.
  std::string follow(const std::string& id, const std::string& last_event_id = "") {
    httplib::Headers headers{{"Authorization", "Bearer " + alice}};
    if (!last_event_id.empty())
      headers.emplace("Last-Event-ID", last_event_id);
    std::string body;
    auto c = srv.client();
    c->set_read_timeout(120, 0);
    auto res = c->Get(("/api/deployments/" + id + "/logs?follow=1").c_str(), headers,
                      [&](const char* data, size_t n) {
                        body.append(data, n);
                        return true;
                      });
    CAF_REQUIRE(res);
    CAF_CHECK_EQUAL(res->status, 200);
    CAF_CHECK_EQUAL(res->get_header_value("Content-Type"), "text/event-stream");
    return body;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(deployments_api, fixture)

CAF_TEST(bad trigger bodies answer 400 naming the field) {
  auto path = deployments_path();
  struct bad_case {
    json body;
    const char* field;
  };
  std::vector<bad_case> cases{
    {json::object(), "environmentId"},
    {{{"environmentId", 42}}, "environmentId"},
    {{{"environmentId", environment_id}, {"commitSha", "xyz"}}, "commitSha"},
    {{{"environmentId", environment_id}, {"commitSha", "abc12"}}, "commitSha"},
    {{{"environmentId", environment_id}, {"commitSha", "$(reboot)"}}, "commitSha"},
    {{{"environmentId", environment_id}, {"commitSha", std::string(41, 'a')}}, "commitSha"},
    {{{"environmentId", environment_id}, {"commitMessage", 7}}, "commitMessage"},
    {{{"environmentId", environment_id}, {"commitMessage", "a\nb"}}, "commitMessage"},
    {{{"environmentId", environment_id}, {"branch", "main"}}, "branch"},
  };
  for (auto& c : cases) {
    auto r = call(*cli, "POST", path, alice, c.body);
    CAF_CHECK_EQUAL(r.status, 400);
    CAF_CHECK(r.names_field(c.field));
  }
  auto malformed = call(*cli, "POST", path, alice, std::optional<std::string>{"{\"environmentId\":"});
  CAF_CHECK_EQUAL(malformed.status, 400);
  // Nothing was created by any of them.
  auto list = call(*cli, "GET", path, alice);
  CAF_CHECK_EQUAL(list.body["total"], 0);
}

CAF_TEST(unknown environments and those of other projects answer 404) {
  auto other = make_project(*cli, alice, "other");
  auto other_env = make_environment(*cli, alice, other, "staging");
  for (auto& env : {new_uuid(), other_env, std::string{"not-a-uuid"}}) {
    auto r = call(*cli, "POST", deployments_path(), alice, json{{"environmentId", env}});
    CAF_CHECK_EQUAL(r.status, 404);
    CAF_CHECK_EQUAL(r.error_code(), "not_found");
  }
  auto as_bob = call(*cli, "POST", deployments_path(), bob, json{{"environmentId", environment_id}});
  CAF_CHECK_EQUAL(as_bob.status, 404);
  CAF_CHECK_EQUAL(call(*cli, "GET", "/api/deployments/" + new_uuid(), alice).status, 404);
}

CAF_TEST(a deployment runs and is idempotent and its log streams with resume) {
  httplib::Headers key{{"Idempotency-Key", "deploy-1"}};
  auto post = [&] {
    httplib::Request req;
    req.method = "POST";
    req.path = deployments_path();
    req.headers = {{"Authorization", "Bearer " + alice}, {"Idempotency-Key", "deploy-1"},
                   {"Content-Type", "application/json"}};
    req.body = json{{"environmentId", environment_id}}.dump();
    auto res = cli->send(req);
    CAF_REQUIRE(res);
    return std::make_pair(res->status, json::parse(res->body));
  };
  auto [status1, first] = post();
  CAF_REQUIRE_EQUAL(status1, 201);
  CAF_CHECK_EQUAL(first["status"], "pending");
  auto id = first["id"].get<std::string>();
  auto [status2, second] = post();
  CAF_CHECK_EQUAL(status2, 201);
  CAF_CHECK_EQUAL(second["id"], id);
  // Follow live from the start: every line once, in order, then the end event.
  auto stream = follow(id);
  CAF_CHECK(stream.find("Starting deployment pipeline...") != std::string::npos);
  CAF_CHECK(stream.find("Deployment completed successfully in") != std::string::npos);
  CAF_CHECK(stream.find("event: end\ndata: {\"status\":\"success\"}") != std::string::npos);
  CAF_CHECK(stream.find("id: 1\n") != std::string::npos);
  CAF_CHECK(stream.find("id: 1\n", stream.find("id: 1\n") + 1) == std::string::npos);
  auto d = await_end(id);
  CAF_REQUIRE_EQUAL(d["status"], "success");
  CAF_CHECK_EQUAL(d["commitSha"], sha);
  CAF_CHECK(d["durationSeconds"].is_number());
  CAF_CHECK(d["containerId"].is_string());
  CAF_CHECK(d["deployedAt"].is_string());
  // Only one deployment exists despite two POSTs.
  auto list = call(*cli, "GET", deployments_path(), alice);
  CAF_CHECK_EQUAL(list.body["total"], 1);
  // The JSON log, paginated.
  auto logs = call(*cli, "GET", "/api/deployments/" + id + "/logs?limit=2", alice);
  CAF_CHECK_EQUAL(logs.status, 200);
  CAF_CHECK_EQUAL(logs.body["items"].size(), 2u);
  CAF_CHECK_EQUAL(logs.body["items"][0]["message"], "Starting deployment pipeline...");
  CAF_CHECK_EQUAL(logs.body["items"][0]["level"], "info");
  CAF_CHECK(logs.body["hasMore"].get<bool>());
  auto total = logs.body["total"].get<int64_t>();
  // Resume after Last-Event-ID: only later lines, then the end.
  auto resumed = follow(id, std::to_string(total - 1));
  CAF_CHECK(resumed.find("id: " + std::to_string(total) + "\n") != std::string::npos);
  CAF_CHECK(resumed.find("id: " + std::to_string(total - 1) + "\n") == std::string::npos);
  CAF_CHECK(resumed.find("event: end") != std::string::npos);
  // Bad resume points are client errors.
  auto bad = call(*cli, "GET", "/api/deployments/" + id + "/logs?follow=1&after=-3", alice);
  CAF_CHECK_EQUAL(bad.status, 400);
  // The app answers on its port.
  httplib::Client app{"127.0.0.1", d["port"].get<int>()};
  auto page = app.Get("/");
  CAF_REQUIRE(page);
  CAF_CHECK_EQUAL(page->body, "deployed by gilgal\n");
  // A finished deployment cannot be cancelled.
  auto cancel = call(*cli, "DELETE", "/api/deployments/" + id, alice);
  CAF_CHECK_EQUAL(cancel.status, 409);
  // Rollback with no earlier success.
  auto rollback = call(*cli, "POST", "/api/deployments/" + id + "/rollback", alice);
  CAF_CHECK_EQUAL(rollback.status, 409);
}

CAF_TEST_FIXTURE_SCOPE_END()
