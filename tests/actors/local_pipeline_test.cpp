// The deployment pipeline end to end at the actor level: manager, deployment
// actor, logger, node, builder and runner against the real Docker daemon and
// a real SQLite store, deploying local git repositories the test creates.
#define CAF_SUITE actors.local_pipeline
#include <caf/test/unit_test.hpp>

#include <set>
#include <thread>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/deployment_manager.hpp"
#include "actors/deployment_store.hpp"
#include "actors/local_cluster.hpp"
#include "actors/node.hpp"
#include "actors/scheduler.hpp"
#include "actors/logger.hpp"
#include "config/secret_box.hpp"
#include "nodes/docker_client.hpp"
#include "nodes/http_probe.hpp"
#include "protocol/error.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"

#include <curl/curl.h>

using namespace gilgal;
using namespace std::chrono_literals;

namespace {

struct config : caf::actor_system_config {
  config() {
    gilgal::add_message_types(*this);
    set("scheduler.max-threads", 4);
  }
};

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::string http_get(int port, const std::string& path) {
  std::string body;
  CURL* curl = curl_easy_init();
  auto url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  return body;
}

struct fixture {
  std::string dir = test::make_temp_dir("gilgal-pipeline");
  std::shared_ptr<store> db;
  config cfg;
  caf::actor_system sys{cfg};
  docker_client docker{test::docker_host_or_default()};
  logger_actor logger;
  deployment_manager_actor manager;
  node_actor local;
  scheduler_actor cluster;
  project proj;
  environment env;

  fixture() {
    auto box = secret_box::from_hex(std::string(64, 'b'));
    auto opened = open_store(dir + "/gilgal.db", std::make_shared<const secret_box>(*box));
    CAF_REQUIRE(opened);
    db = std::move(*opened);
    auto image = test::ensure_busybox_image(docker);
    CAF_REQUIRE(image);
    auto u = db->create_user("pipeline");
    CAF_REQUIRE(u);
    proj.owner_id = u->id;
    proj.name = "demo";
    env.name = "production";
    env.type = "production";
    env.variables["GREETING"] = "hello from gilgal";
    env.settings.health_check_timeout_seconds = 20;

    node_settings ns;
    ns.cfg.docker_host = test::docker_host_or_default();
    ns.cfg.allow_local_sources = true;
    ns.cfg.port_range_begin = 32000 + static_cast<int>(::getpid() % 500) * 4;
    ns.cfg.port_range_end = ns.cfg.port_range_begin + 300;
    ns.cfg.git_retries = 1;
    ns.work_root = dir + "/work";
    logger = spawn_logger(sys, db);
    local = spawn_node(sys, ns, logger);
    deployment_manager_config mc;
    cluster = spawn_scheduler(sys);
    CAF_REQUIRE(!join_local_node(sys, cluster, local, node_info{"local", 2, {}, {}}));
    mc.scheduler = cluster;
    mc.log = logger;
    mc.db = spawn_deployment_store(sys, db);
    mc.build_timeout = 300s;
    mc.run_timeout = 120s;
    manager = sys.spawn(deployment_manager, mc);
  }

  ~fixture() {
    // Remove every container this test's environment left.
    if (!env.id.empty())
      if (auto list = docker.list_containers({"gilgal.environment=" + env.id}, true))
        for (auto& c : *list)
          docker.remove_container(c.id, true, true);
    caf::anon_send_exit(manager, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(local, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(cluster, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(logger, caf::exit_reason::user_shutdown);
    test::remove_tree(dir);
  }

  void create(const test::git_repo& repo) {
    proj.repository_url = repo.path();
    auto p = db->create_project(proj);
    CAF_REQUIRE(p);
    proj = *p;
    env.project_id = proj.id;
    auto e = db->create_environment(env);
    CAF_REQUIRE(e);
    env = *e;
  }

  deployment start(const std::string& commit) {
    deployment d;
    d.project_id = proj.id;
    d.environment_id = env.id;
    d.commit_sha = commit;
    auto stored = db->create_deployment(d);
    CAF_REQUIRE(stored);
    caf::scoped_actor self{sys};
    bool started = false;
    self->request(manager, 10s, deploy_atom::value, *stored, proj, env)
      .receive([&](bool ok) { started = ok; },
               [&](const caf::error& err) { CAF_FAIL("deploy: " << sys.render(err)); });
    CAF_REQUIRE(started);
    return *stored;
  }

  /// Waits (deadline) until the deployment reaches a terminal status.
  /// The final record, from the manager's wait (within `limit`); the store's
  /// once the deployment is no longer in progress.
  deployment await_end(const std::string& id, std::chrono::seconds limit = 240s) {
    caf::scoped_actor self{sys};
    caf::optional<deployment> end;
    self->request(manager, limit, wait_atom::value, id)
      .receive([&](const deployment& d) { end = d; },
               [&](const caf::error& err) {
                 CAF_REQUIRE_EQUAL(code_of(err), errc::not_found);
               });
    if (!end) {
      auto d = db->find_deployment(id);
      CAF_REQUIRE(d);
      end = *d;
    }
    CAF_REQUIRE(is_terminal(end->status));
    // The record is stored before the wait is answered.
    auto stored = db->find_deployment(id);
    CAF_REQUIRE(stored);
    CAF_CHECK_EQUAL(stored->status, end->status);
    return *end;
  }

  std::vector<std::string> log_of(const std::string& id) {
    caf::scoped_actor self{sys};
    self->request(logger, 10s, flush_atom::value).receive([](bool) {}, [](caf::error&) {});
    std::vector<std::string> lines;
    auto page = db->list_logs(id, page_request{1, 100});
    CAF_REQUIRE(page);
    for (int64_t p = 1; (p - 1) * 100 < page->total; ++p) {
      auto part = db->list_logs(id, page_request{p, 100});
      for (auto& l : part->items)
        lines.push_back(l.message);
    }
    return lines;
  }

  static bool contains(const std::vector<std::string>& lines, const std::string& text) {
    for (auto& l : lines)
      if (l.find(text) != std::string::npos)
        return true;
    return false;
  }
};

const char* web_dockerfile = R"(FROM gilgal-test/busybox:latest
COPY www /www
CMD ["/bin/sh", "-c", "echo \"$GREETING\" > /tmp/greeting; mkdir -p /tmp/www && cp -r /www/. /tmp/www/ && cp /tmp/greeting /tmp/www/greeting.txt && exec httpd -f -p $PORT -h /tmp/www"]
)";

} // namespace

CAF_TEST_FIXTURE_SCOPE(local_pipeline_tests, fixture)

CAF_TEST(a repository with its own Dockerfile deploys and answers HTTP) {
  test::git_repo repo;
  auto sha = repo.commit({{"Dockerfile", web_dockerfile}, {"www/index.html", "hello, world\n"}});
  create(repo);
  auto first = await_end(start("").id);
  CAF_REQUIRE_EQUAL(first.status, deployment_status::success);
  CAF_CHECK_EQUAL(first.commit_sha, sha); // head of main resolved and recorded
  CAF_CHECK_EQUAL(first.commit_message, "test commit");
  CAF_CHECK_EQUAL(first.image_name, "gilgal-" + proj.id.substr(0, 8) + "-" + sha.substr(0, 8));
  CAF_CHECK(first.port > 0);
  CAF_CHECK_EQUAL(http_get(static_cast<int>(first.port), "/"), "hello, world\n");
  CAF_CHECK_EQUAL(http_get(static_cast<int>(first.port), "/greeting.txt"), "hello from gilgal\n");
  auto lines = log_of(first.id);
  CAF_CHECK(contains(lines, "Starting deployment pipeline..."));
  CAF_CHECK(contains(lines, "Docker image built: " + first.image_name));
  CAF_CHECK(contains(lines, "Container running on port " + std::to_string(first.port)));
  CAF_CHECK(contains(lines, "Deployment completed successfully in"));
  auto info = docker.inspect_container(first.container_id);
  CAF_REQUIRE(info);
  CAF_CHECK(info->running);
  CAF_CHECK_EQUAL(info->labels["gilgal.deployment"], first.id);

  // The same commit again: its image is reused (nothing fetched, the commit
  // message from the first record), and the first container is replaced only
  // after the second is healthy.
  auto second = await_end(start(sha).id);
  CAF_REQUIRE_EQUAL(second.status, deployment_status::success);
  auto second_lines = log_of(second.id);
  CAF_CHECK(contains(second_lines, "exists with the same build inputs: reused (no fetch, no build)"));
  CAF_CHECK(!contains(second_lines, "Fetching commit"));
  CAF_CHECK_EQUAL(second.commit_message, "test commit");
  CAF_CHECK_EQUAL(second.image_name, first.image_name);
  CAF_CHECK_NOT_EQUAL(second.container_id, first.container_id);
  CAF_CHECK_EQUAL(http_get(static_cast<int>(second.port), "/"), "hello, world\n");
  // It goes after the success, within the drain time.
  auto deadline = std::chrono::steady_clock::now() + 15s;
  auto old = docker.inspect_container(first.container_id);
  while (old && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    old = docker.inspect_container(first.container_id);
  }
  CAF_CHECK(!old && code_of(old.error()) == errc::not_found);
}

CAF_TEST(a failing build ends failed with the output of Docker in the log) {
  test::git_repo repo;
  repo.commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\nRUN echo about-to-fail && false\n"}});
  create(repo);
  auto d = await_end(start("").id);
  CAF_CHECK_EQUAL(d.status, deployment_status::failed);
  CAF_CHECK(d.error_message.find("build image failed") == 0);
  auto lines = log_of(d.id);
  CAF_CHECK(contains(lines, "about-to-fail"));
  CAF_CHECK(d.container_id.empty());
}

CAF_TEST(a container that never answers fails the health check and is removed) {
  test::git_repo repo;
  repo.commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\n"
                              "CMD [\"/bin/sh\", \"-c\", \"echo silent-app-started; exec sleep 600\"]\n"}});
  env.settings.health_check_timeout_seconds = 3;
  create(repo);
  auto d = await_end(start("").id);
  CAF_CHECK_EQUAL(d.status, deployment_status::failed);
  CAF_CHECK(d.error_message.find("run container failed: health check failed") == 0);
  CAF_CHECK(contains(log_of(d.id), "silent-app-started"));
  auto left = docker.list_containers({"gilgal.deployment=" + d.id}, true);
  CAF_REQUIRE(left);
  CAF_CHECK(left->empty());
}

CAF_TEST(a repository with nothing recognisable fails naming what was looked for) {
  test::git_repo repo;
  repo.commit({{"README.md", "nothing to deploy\n"}});
  create(repo);
  auto d = await_end(start("").id);
  CAF_CHECK_EQUAL(d.status, deployment_status::failed);
  CAF_CHECK(d.error_message.find("package.json") != std::string::npos);
  CAF_CHECK(d.error_message.find("index.html") != std::string::npos);
}

CAF_TEST(cancel during a slow build stops the build container) {
  test::git_repo repo;
  repo.commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\nRUN echo slow-step && sleep 120\n"}});
  create(repo);
  std::set<std::string> before;
  if (auto all = docker.list_containers({}, true))
    for (auto& c : *all)
      before.insert(c.id);
  auto d = start("");
  // Wait until the slow step runs.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!contains(log_of(d.id), "slow-step")) {
    CAF_REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(50ms);
  }
  caf::scoped_actor self{sys};
  bool cancelled = false;
  self->request(manager, 30s, cancel_atom::value, d.id)
    .receive([&](const deployment& end) { cancelled = end.status == deployment_status::cancelled; },
             [](caf::error&) {});
  CAF_REQUIRE(cancelled);
  auto end = await_end(d.id, 10s);
  CAF_CHECK_EQUAL(end.status, deployment_status::cancelled);
  // The build's container goes away (Docker removes it once the stream closes).
  deadline = std::chrono::steady_clock::now() + 5s;
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    gone = true;
    if (auto all = docker.list_containers({}, true))
      for (auto& c : *all)
        if (before.count(c.id) == 0)
          gone = false;
    if (!gone)
      std::this_thread::sleep_for(50ms);
  }
  CAF_CHECK(gone);
  CAF_CHECK(contains(log_of(d.id), "Deployment cancelled"));
}

CAF_TEST_FIXTURE_SCOPE_END()
