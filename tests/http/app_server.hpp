// The part the HTTP tests that deploy apps with real Docker share: a `gilgal
// serve`, its API called as its user, the projects a test creates, waiting
// for a deployment's end, and the removal of all those projects left on the
// daemon. Header-only, like api_support.hpp; a test's fixture derives from it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <caf/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "nodes/docker_client.hpp"
#include "tests/fixtures/gilgal_server.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"
#include "tests/http/api_support.hpp"

namespace gilgal::test {

class app_server {
public:
  docker_client docker{docker_host_or_default()};
  std::unique_ptr<gilgal_server> srv;

  /// The busybox base image the test apps build on is made if missing; the
  /// server starts with start().
  app_server() {
    CAF_REQUIRE(ensure_busybox_image(docker));
  }

  /// Removes the containers of every project the test made, then stops the
  /// server (a server stopping while one of its containers is live can take
  /// 20 s), then removes what a build that ended meanwhile left, and the images.
  ~app_server() {
    remove_containers();
    srv.reset();
    remove_containers();
    for (auto& id : projects_)
      if (auto images = docker.list_images({"gilgal.project=" + id}))
        for (auto& img : *images)
          docker.remove_image(img.id, true);
  }

  app_server(const app_server&) = delete;
  app_server& operator=(const app_server&) = delete;

  void start(const server_options& opts) {
    srv = std::make_unique<gilgal_server>(opts);
  }

  /// One API call as the server's user (or as `token`'s), answered within 120 s.
  api_response api(const std::string& method, const std::string& path,
                   const std::optional<nlohmann::json>& body = std::nullopt,
                   std::string token = {}) {
    auto cli = srv->client();
    cli->set_read_timeout(120, 0);
    if (token.empty())
      token = srv->token();
    return body ? call(*cli, method, path, token, *body) : call(*cli, method, path, token);
  }

  /// A project named `name` on `repository_url` with one environment,
  /// "production" (health check timeout 30 s). `project` and `environment`
  /// are merged into the two request bodies. Returns (project id, environment
  /// id); what the project leaves on Docker goes at the end of the test.
  std::pair<std::string, std::string>
  create_app(const std::string& name, const std::string& repository_url,
             const nlohmann::json& project = nlohmann::json::object(),
             const nlohmann::json& environment = nlohmann::json::object()) {
    nlohmann::json pbody{{"name", name}, {"repositoryUrl", repository_url}};
    pbody.update(project);
    auto p = api("POST", "/api/projects", pbody);
    CAF_REQUIRE_EQUAL(p.status, 201);
    auto project_id = p.body["id"].get<std::string>();
    projects_.push_back(project_id);
    nlohmann::json ebody{{"name", "production"},
                         {"type", "production"},
                         {"healthCheck", {{"timeoutSeconds", 30}}}};
    ebody.update(environment);
    auto e = api("POST", "/api/projects/" + project_id + "/environments", ebody);
    CAF_REQUIRE_EQUAL(e.status, 201);
    return {project_id, e.body["id"].get<std::string>()};
  }

  /// Starts a deployment of `sha` (the branch's head when empty); its id.
  std::string start_deployment(const std::string& project_id, const std::string& env_id,
                               const std::string& sha = {}) {
    nlohmann::json body{{"environmentId", env_id}};
    if (!sha.empty())
      body["commitSha"] = sha;
    auto r = api("POST", "/api/projects/" + project_id + "/deployments", body);
    CAF_REQUIRE_EQUAL(r.status, 201);
    return r.body["id"].get<std::string>();
  }

  /// The deployment's record once it has ended (fails the test after `limit`).
  nlohmann::json await_end(const std::string& id,
                           std::chrono::seconds limit = std::chrono::seconds{180}) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      auto d = api("GET", "/api/deployments/" + id);
      CAF_REQUIRE_EQUAL(d.status, 200);
      auto status = d.body["status"].get<std::string>();
      if (status != "pending" && status != "building")
        return d.body;
      if (std::chrono::steady_clock::now() > deadline)
        CAF_FAIL("deployment " << id << " still " << status);
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
  }

  /// Deploys and waits for the end; the final record.
  nlohmann::json deploy(const std::string& project_id, const std::string& env_id,
                        const std::string& sha = {}) {
    return await_end(start_deployment(project_id, env_id, sha));
  }

private:
  void remove_containers() {
    for (auto& id : projects_)
      if (auto list = docker.list_containers({"gilgal.project=" + id}, true))
        for (auto& c : *list)
          docker.remove_container(c.id, true, true);
  }

  std::vector<std::string> projects_;
};

} // namespace gilgal::test
