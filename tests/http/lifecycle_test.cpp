// Deployment lifecycle end to end: a real `gilgal serve` (its own data dir and
// port), real Docker, local git repositories. Cancel during a slow build,
// cancel errors, rollback, SIGKILL and SIGTERM of the server mid-build, and
// the build queue.
#define CAF_SUITE http.lifecycle
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <random>
#include <sstream>
#include <thread>
#include <tuple>
#include <unistd.h>

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

// Several tests wait for slow builds and drains: more than CAF test's default
// 30 s watchdog on a loaded machine. The command line's -r still wins.
const bool lifecycle_watchdog = [] {
  caf::test::engine::max_runtime(120);
  return true;
}();

/// A word no other build on this Docker host prints: marks this test's build
/// containers (their command is `/bin/sh -c echo MARKER && sleep 120`).
std::string make_marker() {
  std::random_device rd;
  std::ostringstream out;
  out << "slow-step-" << ::getpid() << "-" << std::hex << rd() << rd();
  return out.str();
}

std::string slow_dockerfile(const std::string& marker) {
  return "FROM gilgal-test/busybox:latest\nRUN echo " + marker + " && sleep 120\n";
}

const char* web_dockerfile = R"(FROM gilgal-test/busybox:latest
COPY www /www
CMD ["/bin/sh", "-c", "exec httpd -f -p $PORT -h /www"]
)";

std::string docker_cli() {
  for (auto p : {"/usr/bin/docker", "/usr/local/bin/docker", "/bin/docker"})
    if (::access(p, X_OK) == 0)
      return p;
  return {};
}

/// Ids of every container (any state) whose command mentions `marker`.
std::vector<std::string> containers_with(const std::string& marker) {
  auto r = run_process({docker_cli(), "ps", "-a", "--no-trunc", "--format",
                        "{{.ID}}\t{{.Command}}"},
                       {{}, std::chrono::seconds{20}});
  std::vector<std::string> ids;
  std::istringstream in{r.out};
  for (std::string line; std::getline(in, line);)
    if (line.find(marker) != std::string::npos)
      ids.push_back(line.substr(0, line.find('\t')));
  return ids;
}

std::string get_text(int port, const std::string& path) {
  httplib::Client cli{"127.0.0.1", port};
  cli.set_connection_timeout(2, 0);
  cli.set_read_timeout(5, 0);
  auto res = cli.Get(path.c_str());
  return res && res->status == 200 ? res->body : std::string{};
}

bool contains(const std::vector<std::string>& lines, const std::string& text) {
  for (auto& l : lines)
    if (l.find(text) != std::string::npos)
      return true;
  return false;
}

struct fixture : app_server {
  std::unique_ptr<git_repo> repo = std::make_unique<git_repo>();
  std::string project_id;
  std::string env_id;
  std::vector<std::string> markers; // of slow builds started by the test

  fixture() {
    CAF_REQUIRE(!docker_cli().empty());
  }

  ~fixture() {
    for (auto& m : markers)
      for (auto& id : containers_with(m))
        docker.remove_container(id, true, true);
  }

  void start_server(std::vector<std::string> extra = {}) {
    server_options opts;
    opts.allow_local_sources = true;
    opts.extra_args = std::move(extra);
    start(opts);
  }

  /// A project on the local repository with one environment.
  void create_app() {
    std::tie(project_id, env_id) = app_server::create_app(
      "life", repo->path(), json::object(), json{{"domain", "life.example.com"}});
  }

  std::string commit_slow() {
    markers.push_back(make_marker());
    return repo->commit({{"Dockerfile", slow_dockerfile(markers.back())}}, "slow build");
  }

  std::string commit_web(const std::string& text) {
    return repo->commit({{"Dockerfile", web_dockerfile}, {"www/index.html", text}},
                        "web " + text);
  }

  /// Waits (up to 5 s: the logger writes in batches) for a line of the
  /// deployment's stored log that contains `text`.
  bool await_log_line(const std::string& id, const std::string& text) {
    auto deadline = clock_type::now() + std::chrono::seconds(5);
    while (!contains(log_lines(id), text)) {
      if (clock_type::now() > deadline)
        return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }

  /// A second environment of the app; returns its id.
  std::string create_environment(const std::string& name) {
    auto e = api("POST", "/api/projects/" + project_id + "/environments",
                 json{{"name", name}, {"type", "staging"}, {"healthCheck", {{"timeoutSeconds", 30}}}});
    CAF_REQUIRE_EQUAL(e.status, 201);
    return e.body["id"].get<std::string>();
  }

  json deploy(const std::string& sha, const std::string& environment = {}) {
    auto r = api("POST", "/api/projects/" + project_id + "/deployments",
                 json{{"environmentId", environment.empty() ? env_id : environment},
                      {"commitSha", sha}});
    CAF_REQUIRE_EQUAL(r.status, 201);
    CAF_REQUIRE_EQUAL(r.body["status"], "pending");
    return r.body;
  }

  json get(const std::string& id) {
    auto r = api("GET", "/api/deployments/" + id);
    CAF_REQUIRE_EQUAL(r.status, 200);
    return r.body;
  }

  /// One field of GET /api/deployments/:id, by value (null if absent).
  json field(const std::string& id, const std::string& name) {
    auto d = get(id);
    return d.contains(name) ? d[name] : json(nullptr);
  }

  static bool terminal(const json& d) {
    auto s = d["status"].get<std::string>();
    return s != "pending" && s != "building";
  }

  /// The ids of the environment's containers once only `container` is left
  /// (the previous one drains after a success, then goes), or at the deadline.
  std::vector<std::string> await_only_live(const std::string& container,
                                           std::chrono::seconds limit = 15s) {
    auto deadline = clock_type::now() + limit;
    for (;;) {
      std::vector<std::string> ids;
      if (auto live = docker.list_containers({"gilgal.environment=" + env_id}, true))
        for (auto& c : *live)
          ids.push_back(c.id);
      if ((ids.size() == 1 && ids.front() == container) || clock_type::now() > deadline)
        return ids;
      std::this_thread::sleep_for(50ms);
    }
  }

  std::vector<std::string> log_lines(const std::string& id) {
    std::vector<std::string> lines;
    for (int page = 1;; ++page) {
      auto r = api("GET", "/api/deployments/" + id + "/logs?limit=100&page="
                            + std::to_string(page));
      if (r.status != 200)
        break;
      for (auto& item : r.body["items"])
        lines.push_back(item["message"].get<std::string>());
      if (!r.body["hasMore"].get<bool>())
        break;
    }
    return lines;
  }

  /// Waits until the build prints its marker (the slow RUN step runs) and its
  /// build container exists; returns that container's id.
  std::string await_slow_step(const std::string& id, const std::string& marker,
                              std::chrono::seconds limit = 90s) {
    auto deadline = clock_type::now() + limit;
    for (;;) {
      for (auto& l : log_lines(id))
        if (l.find(marker) != std::string::npos && l.find("RUN") == std::string::npos) {
          auto ids = containers_with(marker);
          if (!ids.empty())
            return ids.front();
        }
      if (clock_type::now() > deadline) {
        auto d = get(id);
        CAF_FAIL("deployment " << id << " (" << d.dump() << ") never ran its slow step");
      }
      std::this_thread::sleep_for(100ms);
    }
  }

  /// Containers of deployment `id` or with `marker` in their command.
  std::vector<std::string> remaining(const std::string& id, const std::string& marker) {
    auto ids = containers_with(marker);
    if (auto list = docker.list_containers({"gilgal.deployment=" + id}, true))
      for (auto& c : *list)
        ids.push_back(c.id);
    return ids;
  }

  /// Waits until nothing of the build remains; the time it took from `since`.
  std::chrono::milliseconds await_gone(const std::string& id, const std::string& marker,
                                       clock_type::time_point since,
                                       std::chrono::seconds limit = 20s) {
    auto deadline = clock_type::now() + limit;
    for (;;) {
      auto left = remaining(id, marker);
      auto now = clock_type::now();
      if (left.empty())
        return std::chrono::duration_cast<std::chrono::milliseconds>(now - since);
      if (now > deadline) {
        CAF_ERROR("containers of " << id << " still there: " << left.front());
        return std::chrono::duration_cast<std::chrono::milliseconds>(now - since);
      }
      std::this_thread::sleep_for(20ms);
    }
  }
};


} // namespace

CAF_TEST_FIXTURE_SCOPE(lifecycle_tests, fixture)

CAF_TEST(cancel during a slow build stops it within a second) {
  start_server();
  create_app();
  auto sha = commit_slow();
  auto marker = markers.back();
  auto d = deploy(sha);
  auto id = d["id"].get<std::string>();
  auto build_container = await_slow_step(id, marker);
  CAF_MESSAGE("build container " << build_container.substr(0, 12) << " runs the slow step");
  auto t0 = clock_type::now();
  auto r = api("DELETE", "/api/deployments/" + id);
  auto answered = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0);
  CAF_CHECK_EQUAL(r.status, 200);
  CAF_CHECK_EQUAL(r.body["message"], "Deployment cancelled");
  auto gone = await_gone(id, marker, t0);
  CAF_MESSAGE("DELETE answered in " << answered.count() << " ms; nothing of the build left after "
                                    << gone.count() << " ms");
  CAF_CHECK_LESS(gone.count(), 1000);
  auto after = get(id);
  CAF_CHECK_EQUAL(after["status"], "cancelled");
  auto lines = log_lines(id);
  CHECK_WHY(contains(lines, "ancel"), "no cancel line in the log");
  // Cancelling it again: it has finished.
  auto again = api("DELETE", "/api/deployments/" + id);
  CAF_CHECK_EQUAL(again.status, 409);
}

CAF_TEST(cancel of a finished or unknown or foreign deployment is refused) {
  start_server();
  create_app();
  auto sha = commit_web("version A\n");
  auto d = deploy(sha);
  auto id = d["id"].get<std::string>();
  auto end = await_end(id);
  CAF_REQUIRE_EQUAL(end["status"], "success");
  auto r = api("DELETE", "/api/deployments/" + id);
  CAF_CHECK_EQUAL(r.status, 409);
  CAF_CHECK_EQUAL(r.error_code(), "conflict");
  CHECK_WHY(r.error_message().find("success") != std::string::npos
              && r.error_message().find("finished") != std::string::npos,
            r.describe());
  CAF_CHECK_EQUAL(field(id, "status"), "success"); // untouched
  auto unknown = api("DELETE", "/api/deployments/00000000-0000-4000-8000-000000000000");
  CAF_CHECK_EQUAL(unknown.status, 404);
  auto bob = srv->create_user("bob");
  auto foreign = api("DELETE", "/api/deployments/" + id, std::nullopt, bob);
  CAF_CHECK_EQUAL(foreign.status, 404);
  auto foreign_rollback = api("POST", "/api/deployments/" + id + "/rollback", json::object(), bob);
  CAF_CHECK_EQUAL(foreign_rollback.status, 404);
  // The container of the successful deployment still answers.
  CAF_CHECK_EQUAL(get_text(end["port"].get<int>(), "/"), "version A\n");
}

CAF_TEST(rollback brings back the previous deployment from its image) {
  start_server();
  create_app();
  auto sha_a = commit_web("version A\n");
  auto sha_b = commit_web("version B\n");
  auto a = await_end(deploy(sha_a)["id"].get<std::string>());
  CAF_REQUIRE_EQUAL(a["status"], "success");
  // No earlier successful deployment than A.
  auto none = api("POST", "/api/deployments/" + a["id"].get<std::string>() + "/rollback",
                  json::object());
  CAF_CHECK_EQUAL(none.status, 409);
  CHECK_WHY(none.error_message().find("no earlier successful deployment") != std::string::npos,
            none.describe());
  auto b = await_end(deploy(sha_b)["id"].get<std::string>());
  CAF_REQUIRE_EQUAL(b["status"], "success");
  CAF_CHECK_EQUAL(get_text(b["port"].get<int>(), "/"), "version B\n");
  auto b_container = b["containerId"].get<std::string>();
  // A's container was replaced by B's (within the drain time).
  CAF_CHECK_EQUAL(await_only_live(b_container).size(), 1u);
  CAF_CHECK(!docker.inspect_container(a["containerId"].get<std::string>()));
  // The answer comes at once (202), not after the health check.
  auto t0 = clock_type::now();
  auto r = api("POST", "/api/deployments/" + b["id"].get<std::string>() + "/rollback",
               json::object());
  auto answered = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0);
  CAF_REQUIRE_EQUAL(r.status, 202);
  CAF_MESSAGE("rollback answered in " << answered.count() << " ms");
  CAF_CHECK_LESS(answered.count(), 2000);
  CAF_CHECK_EQUAL(r.body["id"], a["id"]);
  CAF_CHECK_EQUAL(r.body["message"], "Rolling back to previous deployment");
  auto rb_id = r.body["rollbackDeploymentId"].get<std::string>();
  CAF_CHECK_EQUAL(r.header("Location"), "/api/deployments/" + rb_id);
  CAF_CHECK_EQUAL(r.body["deployment"]["kind"], "rollback");
  auto rb = await_end(rb_id);
  CAF_CHECK_EQUAL(rb["status"], "success");
  CAF_CHECK_EQUAL(rb["kind"], "rollback");
  CAF_CHECK_EQUAL(rb["rollbackOf"], a["id"]);
  CAF_CHECK_EQUAL(rb["commitSha"], sha_a);
  CAF_CHECK_EQUAL(rb["imageName"], a["imageName"]);
  CAF_REQUIRE(rb["port"].is_number());
  CAF_CHECK_EQUAL(get_text(rb["port"].get<int>(), "/"), "version A\n");
  // B's container goes (stopped and removed after the rollback went live,
  // within the drain time), the rollback's runs.
  auto live = await_only_live(rb["containerId"].get<std::string>());
  CAF_CHECK_EQUAL(live.size(), 1u);
  auto b_after = docker.inspect_container(b_container);
  CHECK_WHY(!b_after || !b_after->running, "B's container still runs");
  auto rb_container = docker.inspect_container(rb["containerId"].get<std::string>());
  CAF_REQUIRE(rb_container);
  CAF_CHECK(rb_container->running);
  CHECK_WHY(await_log_line(rb_id, "Rolling back to deployment " + a["id"].get<std::string>()),
            "no rollback line in the rollback's log");
  // The rollback is a deployment of its own, listed newest first.
  auto list = api("GET", "/api/projects/" + project_id + "/deployments");
  CAF_CHECK_EQUAL(list.body["total"], 3);
  CAF_CHECK_EQUAL(list.body["items"][0]["id"], rb_id);
  // Cancelling the finished rollback is refused like any finished deployment.
  CAF_CHECK_EQUAL(api("DELETE", "/api/deployments/" + rb_id).status, 409);
}

CAF_TEST(sigkill mid build then restart fails it and keeps the live container) {
  start_server();
  create_app();
  auto sha_web = commit_web("survivor\n");
  auto sha_slow = commit_slow();
  auto marker = markers.back();
  auto live = await_end(deploy(sha_web)["id"].get<std::string>());
  CAF_REQUIRE_EQUAL(live["status"], "success");
  auto live_port = live["port"].get<int>();
  auto live_container = live["containerId"].get<std::string>();
  auto id = deploy(sha_slow)["id"].get<std::string>();
  await_slow_step(id, marker);
  srv->kill_hard();
  auto killed_at = clock_type::now();
  // The server is gone; its container is not.
  CAF_CHECK_EQUAL(get_text(live_port, "/"), "survivor\n");
  srv->start();
  auto d = await_end(id, 30s);
  CAF_CHECK_EQUAL(d["status"], "failed");
  CAF_CHECK_EQUAL(d["errorMessage"], "interrupted by restart");
  // The logger stores lines in batches: the line may follow the record.
  CHECK_WHY(await_log_line(id, "interrupted by restart"), "no restart line in the log");
  auto gone = await_gone(id, marker, killed_at, 30s);
  CAF_MESSAGE("build container gone " << gone.count() << " ms after the SIGKILL");
  // Re-adopted: same container, still answering, and the record unchanged.
  auto inspected = docker.inspect_container(live_container);
  CAF_REQUIRE(inspected);
  CAF_CHECK(inspected->running);
  CAF_CHECK_EQUAL(get_text(live_port, "/"), "survivor\n");
  CAF_CHECK_EQUAL(field(live["id"].get<std::string>(), "status"), "success");
  CAF_CHECK(srv->wait_for_log("re-adopted container " + live_container.substr(0, 12)));
  // No deployment stays pending or building.
  auto list = api("GET", "/api/projects/" + project_id + "/deployments");
  for (auto& item : list.body["items"])
    CHECK_WHY(terminal(item), item.dump());
}

CAF_TEST(builds beyond the limit queue in order and can be cancelled there) {
  start_server({"--max-concurrent-builds", "1"});
  create_app();
  auto sha_slow = commit_slow();
  auto marker = markers.back();
  auto sha_web = commit_web("queued\n");
  auto first = deploy(sha_slow)["id"].get<std::string>();
  await_slow_step(first, marker);
  auto second = deploy(sha_web)["id"].get<std::string>();
  auto third = deploy(sha_web)["id"].get<std::string>();
  auto s = get(second);
  CAF_CHECK_EQUAL(s["status"], "pending");
  CAF_CHECK_EQUAL(s["queuePosition"], 1);
  CAF_CHECK_EQUAL(field(third, "queuePosition"), 2);
  CAF_CHECK(field(first, "queuePosition").is_null());
  // Cancel the second while queued: the third moves up.
  auto r = api("DELETE", "/api/deployments/" + second);
  CAF_CHECK_EQUAL(r.status, 200);
  CAF_CHECK_EQUAL(field(second, "status"), "cancelled");
  CAF_CHECK_EQUAL(field(third, "queuePosition"), 1);
  CAF_CHECK_EQUAL(field(third, "status"), "pending");
  // Cancel the first: the third starts and succeeds.
  auto t0 = clock_type::now();
  CAF_CHECK_EQUAL(api("DELETE", "/api/deployments/" + first).status, 200);
  CAF_CHECK_EQUAL(field(first, "status"), "cancelled");
  auto gone = await_gone(first, marker, t0);
  CAF_CHECK_LESS(gone.count(), 1000);
  auto end = await_end(third);
  CAF_CHECK_EQUAL(end["status"], "success");
  CAF_CHECK_EQUAL(get_text(end["port"].get<int>(), "/"), "queued\n");
  CAF_CHECK_EQUAL(field(second, "status"), "cancelled"); // never started afterwards
}

CAF_TEST(sigterm mid build exits cleanly and fails the deployment) {
  start_server();
  create_app();
  auto sha = commit_slow();
  auto marker = markers.back();
  auto id = deploy(sha)["id"].get<std::string>();
  await_slow_step(id, marker);
  auto t0 = clock_type::now();
  auto code = srv->stop();
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0);
  CAF_MESSAGE("serve stopped in " << took.count() << " ms with code " << code);
  CAF_CHECK_EQUAL(code, 0);
  CAF_CHECK_LESS(took.count(), 15000);
  auto gone = await_gone(id, marker, t0);
  CAF_MESSAGE("build container gone " << gone.count() << " ms after the SIGTERM");
  srv->start();
  auto d = get(id);
  CAF_CHECK_EQUAL(d["status"], "failed");
  CAF_CHECK_EQUAL(d["errorMessage"], "interrupted by server shutdown");
}

CAF_TEST(an environment runs one deployment at a time and the newest stays live) {
  start_server({"--max-concurrent-builds", "2"});
  create_app();
  auto sha_slow = commit_slow();
  auto marker = markers.back();
  auto sha_web = commit_web("newest\n");
  auto first = deploy(sha_slow)["id"].get<std::string>();
  await_slow_step(first, marker);
  // A free build slot, but the environment is busy: the second waits for the first.
  auto second = deploy(sha_web)["id"].get<std::string>();
  CAF_CHECK_EQUAL(field(second, "status"), "pending");
  CAF_CHECK_EQUAL(field(second, "queuePosition"), 1);
  CHECK_WHY(await_log_line(second, "of this environment to finish"),
            "no waiting line in the log");
  // Another environment takes the free slot at once.
  auto staging = create_environment("staging");
  auto other = deploy(sha_web, staging)["id"].get<std::string>();
  auto other_end = await_end(other);
  CAF_CHECK_EQUAL(other_end["status"], "success");
  CAF_CHECK_EQUAL(field(second, "status"), "pending");
  // The first ends (cancelled): the second starts, succeeds and is the one live.
  CAF_CHECK_EQUAL(api("DELETE", "/api/deployments/" + first).status, 200);
  auto end = await_end(second);
  CAF_CHECK_EQUAL(end["status"], "success");
  auto live = await_only_live(end["containerId"].get<std::string>());
  CAF_REQUIRE_EQUAL(live.size(), 1u);
  CAF_CHECK_EQUAL(live.front(), end["containerId"].get<std::string>());
}

CAF_TEST(a build beyond the slots waits for one in another environment) {
  start_server({"--max-concurrent-builds", "1"});
  create_app();
  auto sha_slow = commit_slow();
  auto marker = markers.back();
  auto sha_web = commit_web("slot\n");
  auto first = deploy(sha_slow)["id"].get<std::string>();
  await_slow_step(first, marker);
  auto staging = create_environment("staging");
  auto second = deploy(sha_web, staging)["id"].get<std::string>();
  CAF_CHECK_EQUAL(field(second, "status"), "pending");
  CAF_CHECK_EQUAL(field(second, "queuePosition"), 1);
  CHECK_WHY(await_log_line(second, "waiting for a free build slot"),
            "no build-slot line in the log");
  CAF_CHECK_EQUAL(api("DELETE", "/api/deployments/" + first).status, 200);
  auto end = await_end(second);
  CAF_CHECK_EQUAL(end["status"], "success");
  CAF_CHECK(field(second, "queuePosition").is_null());
}

CAF_TEST_FIXTURE_SCOPE_END()
