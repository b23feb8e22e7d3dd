// Gilgal's recipes end to end at the actor level: repositories WITHOUT a
// Dockerfile (Node.js, static site, Python, Procfile) are detected, built from
// config/recipes/*.Dockerfile on the local base images of scripts/base-images
// (GILGAL_TEST_BASE_CONFIG), run by the real Docker daemon, and answer HTTP.
// Each test checks the body, that every process of the container runs as a
// non-root user, and the image's gilgal.* labels.
// Without base images (no config) the tests are skipped, unless
// GILGAL_TEST_REQUIRE_SERVICES=1 (then they fail).
#define CAF_SUITE actors.recipes
#include <caf/test/unit_test.hpp>

#include <thread>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "actors/deployment_manager.hpp"
#include "actors/deployment_store.hpp"
#include "actors/local_cluster.hpp"
#include "actors/node.hpp"
#include "actors/scheduler.hpp"
#include "actors/logger.hpp"
#include "config/secret_box.hpp"
#include "config/settings.hpp"
#include "nodes/docker_client.hpp"
#include "nodes/image_builder.hpp"
#include "protocol/error.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"

using namespace gilgal;
using namespace std::chrono_literals;

namespace {

// Each case builds a framework's image (npm, pip) on real Docker: on a loaded
// machine (CI compiles the sanitizer build beside the suite) more than CAF
// test's default 30 s watchdog. The command line's -r still wins.
const bool recipes_watchdog = [] {
  caf::test::engine::max_runtime(180);
  return true;
}();

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

struct http_answer {
  long status = 0;
  std::string body;
};

http_answer http_get(int64_t port, const std::string& path) {
  http_answer a;
  CURL* curl = curl_easy_init();
  auto url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a.body);
  if (curl_easy_perform(curl) == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a.status);
  curl_easy_cleanup(curl);
  return a;
}

/// Node settings with the recipes' base images from GILGAL_TEST_BASE_CONFIG;
/// empty `images_ready` when the config is absent or names missing images.
struct base_setup {
  settings cfg;
  bool images_ready = false;
  std::string why_not;
};

base_setup load_base_images(docker_client& docker) {
  base_setup r;
  auto path = test::base_images_config(); // throws when required and unset
  if (path.empty()) {
    r.why_not = "GILGAL_TEST_BASE_CONFIG is not set (run scripts/base-images)";
    return r;
  }
  auto applied = apply_config_file(path, r.cfg);
  if (!applied)
    throw std::runtime_error("base images config: " + message_of(applied.error()));
  for (auto* image : {&r.cfg.images.node, &r.cfg.images.python, &r.cfg.images.nginx}) {
    auto exists = docker.image_exists(*image);
    if (!exists || !*exists) {
      r.why_not = "base image " + *image + " named by " + path + " does not exist";
      if (const char* req = std::getenv("GILGAL_TEST_REQUIRE_SERVICES");
          req && std::string{req} == "1")
        throw std::runtime_error(r.why_not);
      return r;
    }
  }
  r.images_ready = true;
  return r;
}

struct fixture {
  std::string dir = test::make_temp_dir("gilgal-recipes");
  docker_client docker{test::docker_host_or_default()};
  base_setup base = load_base_images(docker);
  std::shared_ptr<store> db;
  config cfg;
  caf::actor_system sys{cfg};
  logger_actor logger;
  deployment_manager_actor manager;
  node_actor local;
  scheduler_actor cluster;
  project proj;
  environment env;
  std::vector<std::string> images; // built by this test, removed afterwards

  fixture() {
    if (!base.images_ready)
      return;
    auto box = secret_box::from_hex(std::string(64, 'c'));
    auto opened = open_store(dir + "/gilgal.db", std::make_shared<const secret_box>(*box));
    CAF_REQUIRE(opened);
    db = std::move(*opened);
    auto u = db->create_user("recipes");
    CAF_REQUIRE(u);
    proj.owner_id = u->id;
    proj.name = "recipes";
    env.name = "production";
    env.type = "production";
    env.variables["GREETING"] = "hello from gilgal";
    env.settings.health_check_timeout_seconds = 30;

    node_settings ns;
    ns.cfg = node_config_of(base.cfg); // images from the base config, everything else default
    ns.cfg.docker_host = test::docker_host_or_default();
    ns.cfg.allow_local_sources = true;
    ns.cfg.port_range_begin = 33000 + static_cast<int>(::getpid() % 500) * 4;
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
    mc.build_timeout = 600s;
    mc.run_timeout = 120s;
    manager = sys.spawn(deployment_manager, mc);
  }

  ~fixture() {
    if (!env.id.empty())
      if (auto list = docker.list_containers({"gilgal.environment=" + env.id}, true))
        for (auto& c : *list)
          docker.remove_container(c.id, true, true);
    // The app images go; their parent layers stay (noprune) as the build
    // cache of the next run.
    for (auto& image : images) {
      docker_client::request req;
      req.method = "DELETE";
      req.path = "/images/" + docker_client::escape(image) + "?noprune=1";
      docker.perform(req);
    }
    if (manager)
      caf::anon_send_exit(manager, caf::exit_reason::user_shutdown);
    if (local)
      caf::anon_send_exit(local, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(cluster, caf::exit_reason::user_shutdown);
    if (logger)
      caf::anon_send_exit(logger, caf::exit_reason::user_shutdown);
    test::remove_tree(dir);
  }

  /// False (and a message) when the base images are missing: the test is skipped.
  bool ready() const {
    if (!base.images_ready)
      CAF_MESSAGE("skipped: " << base.why_not);
    return base.images_ready;
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

  /// Deploys the head of main and waits (deadline) for a terminal status.
  deployment deploy() {
    deployment d;
    d.project_id = proj.id;
    d.environment_id = env.id;
    auto stored = db->create_deployment(d);
    CAF_REQUIRE(stored);
    caf::scoped_actor self{sys};
    bool started = false;
    self->request(manager, 10s, deploy_atom::value, *stored, proj, env)
      .receive([&](bool ok) { started = ok; },
               [&](const caf::error& err) { CAF_FAIL("deploy: " << sys.render(err)); });
    CAF_REQUIRE(started);
    // The manager answers once the final record is stored (not_found: it
    // has ended already).
    self->request(manager, 600s, wait_atom::value, stored->id)
      .receive([&](const deployment&) {},
               [&](const caf::error& err) {
                 if (code_of(err) != errc::not_found)
                   CAF_FAIL("wait: " << sys.render(err));
               });
    auto cur = db->find_deployment(stored->id);
    CAF_REQUIRE(cur);
    CAF_REQUIRE(is_terminal(cur->status));
    if (!cur->image_name.empty())
      images.push_back(cur->image_name);
    if (cur->status != deployment_status::success)
      dump_log(cur->id);
    return *cur;
  }

  std::vector<std::string> log_of(const std::string& id) {
    caf::scoped_actor self{sys};
    self->request(logger, 10s, flush_atom::value).receive([](bool) {}, [](caf::error&) {});
    std::vector<std::string> lines;
    for (int64_t p = 1;; ++p) {
      auto part = db->list_logs(id, page_request{p, 100});
      CAF_REQUIRE(part);
      for (auto& l : part->items)
        lines.push_back(l.message);
      if (part->items.empty() || p * 100 >= part->total)
        break;
    }
    return lines;
  }

  void dump_log(const std::string& id) {
    for (auto& line : log_of(id))
      CAF_MESSAGE("log: " << line);
  }

  static bool contains(const std::vector<std::string>& lines, const std::string& text) {
    for (auto& l : lines)
      if (l.find(text) != std::string::npos)
        return true;
    return false;
  }

  /// The uid of every process in the container (GET /containers/ID/top).
  std::vector<std::string> process_uids(const std::string& container_id) {
    docker_client::request req;
    req.path = "/containers/" + container_id + "/top?ps_args=" + docker_client::escape("-o pid,uid");
    auto res = docker.perform(req);
    CAF_REQUIRE(res);
    CAF_REQUIRE_EQUAL(res->status, 200);
    auto doc = nlohmann::json::parse(res->body, nullptr, false);
    CAF_REQUIRE(!doc.is_discarded());
    std::vector<std::string> uids;
    for (auto& p : doc.at("Processes"))
      uids.push_back(p.at(1).get<std::string>());
    return uids;
  }

  /// The common checks of a successful recipe deployment.
  void check_deployed(const deployment& d, const std::string& sha, const std::string& framework) {
    CAF_CHECK_EQUAL(d.commit_sha, sha);
    CAF_CHECK(d.port > 0);
    CAF_CHECK(contains(log_of(d.id), "Framework: " + framework + " ("));
    // Non-root: the image's user and every process of the running container.
    docker_client::request req;
    req.path = "/containers/" + d.container_id + "/json";
    auto res = docker.perform(req);
    CAF_REQUIRE(res && res->status == 200);
    auto doc = nlohmann::json::parse(res->body);
    CAF_CHECK_EQUAL(doc["Config"]["User"].get<std::string>(), "gilgal");
    // Docker's init is PID 1, so a stop is not held 10 s by an app that
    // ignores SIGTERM as PID 1 (python http.server does).
    CAF_CHECK(doc["HostConfig"].value("Init", false));
    auto uids = process_uids(d.container_id);
    CAF_CHECK(!uids.empty());
    for (auto& uid : uids)
      CAF_CHECK_EQUAL(uid, "10001");
    // The image is labelled with what stays the same from commit to commit
    // (a cached LABEL step); the container with its deployment.
    auto image = docker.inspect_image(d.image_name);
    CAF_REQUIRE(image);
    CAF_CHECK_EQUAL(image->labels["gilgal.project"], proj.id);
    CAF_CHECK_EQUAL(image->labels["gilgal.framework"], framework);
    CAF_CHECK_EQUAL(image->labels["gilgal.inputs"].size(), 64u); // hex SHA-256
    CAF_CHECK_EQUAL(image->labels.count("gilgal.deployment"), 0u);
    CAF_CHECK_EQUAL(d.image_name.find(sha.substr(0, 8)) != std::string::npos, true);
    auto container = docker.inspect_container(d.container_id);
    CAF_REQUIRE(container);
    CAF_CHECK(container->running);
    CAF_CHECK_EQUAL(container->labels["gilgal.environment"], env.id);
    CAF_CHECK_EQUAL(container->labels["gilgal.deployment"], d.id);
    CAF_CHECK_EQUAL(container->labels["gilgal.deployment"], d.id);
    CAF_CHECK_EQUAL(container->labels["gilgal.managed"], "true");
  }
};

// A plain `http` server: no npm dependencies, so no registry traffic.
const char* node_server = R"(const http = require('http');
http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('node says ' + process.env.GREETING + ' as uid ' + process.getuid() + '\n');
}).listen(Number(process.env.PORT), '0.0.0.0');
)";

const char* python_app = R"(import os
from http.server import BaseHTTPRequestHandler, HTTPServer

WHO = %WHO%

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("%s says %s as uid %d\n" % (WHO, os.environ.get("GREETING"), os.getuid())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
)";

std::string python_source(const std::string& who) {
  std::string text = python_app;
  text.replace(text.find("%WHO%"), 5, who);
  return text;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(recipes_tests, fixture)

CAF_TEST(a Node.js app with a start script is built from the nodejs recipe) {
  if (!ready())
    return;
  test::git_repo repo;
  auto sha = repo.commit({{"package.json", R"({"name":"demo","version":"1.0.0","private":true,)"
                                           R"("scripts":{"start":"node server.js"}})"},
                          {"server.js", node_server}});
  create(repo);
  auto d = deploy();
  CAF_REQUIRE_EQUAL(d.status, deployment_status::success);
  auto got = http_get(d.port, "/");
  CAF_CHECK_EQUAL(got.status, 200);
  CAF_CHECK_EQUAL(got.body, "node says hello from gilgal as uid 10001\n");
  check_deployed(d, sha, "nodejs");
}

CAF_TEST(a static site is served by nginx as a non-root user) {
  if (!ready())
    return;
  test::git_repo repo;
  auto sha = repo.commit({{"index.html", "<h1>static hello</h1>\n"},
                          {"css/site.css", "h1 { color: teal; }\n"}});
  create(repo);
  auto d = deploy();
  CAF_REQUIRE_EQUAL(d.status, deployment_status::success);
  auto got = http_get(d.port, "/");
  CAF_CHECK_EQUAL(got.status, 200);
  CAF_CHECK_EQUAL(got.body, "<h1>static hello</h1>\n");
  CAF_CHECK_EQUAL(http_get(d.port, "/css/site.css").body, "h1 { color: teal; }\n");
  CAF_CHECK_EQUAL(http_get(d.port, "/missing.html").status, 404);
  // Not served: git metadata, nor the Dockerfile Gilgal generated.
  CAF_CHECK_EQUAL(http_get(d.port, "/.git/HEAD").status, 404);
  CAF_CHECK_EQUAL(http_get(d.port, "/Dockerfile.gilgal").status, 404);
  check_deployed(d, sha, "static");
}

CAF_TEST(a Python app with requirements.txt runs app.py on PORT) {
  if (!ready())
    return;
  test::git_repo repo;
  auto sha = repo.commit({{"requirements.txt", "# nothing to install\n"},
                          {"app.py", python_source("'python'")}});
  create(repo);
  auto d = deploy();
  CAF_REQUIRE_EQUAL(d.status, deployment_status::success);
  auto got = http_get(d.port, "/");
  CAF_CHECK_EQUAL(got.status, 200);
  CAF_CHECK_EQUAL(got.body, "python says hello from gilgal as uid 10001\n");
  check_deployed(d, sha, "python");
}

CAF_TEST(a Procfile web line is the start command) {
  if (!ready())
    return;
  test::git_repo repo;
  // app.py would be the default; the Procfile names web.py with an argument.
  auto sha = repo.commit({{"requirements.txt", ""},
                          {"app.py", python_source("'the default'")},
                          {"web.py", python_source("__import__('sys').argv[1]")},
                          {"Procfile", "release: echo not-this-one\nweb: python web.py procfile\n"}});
  create(repo);
  auto d = deploy();
  CAF_REQUIRE_EQUAL(d.status, deployment_status::success);
  auto got = http_get(d.port, "/");
  CAF_CHECK_EQUAL(got.status, 200);
  CAF_CHECK_EQUAL(got.body, "procfile says hello from gilgal as uid 10001\n");
  check_deployed(d, sha, "python");
}

CAF_TEST(a build variable reaches a Vite style build and only the build) {
  if (!ready())
    return;
  test::git_repo repo;
  // What Vite does with import.meta.env.VITE_*: the value read from the
  // build's environment is written into the static bundle. No npm
  // dependencies, so no registry traffic.
  auto sha = repo.commit(
    {{"package.json", R"({"name":"vite-style","version":"1.0.0","private":true,)"
                      R"("scripts":{"build":"node build.js"}})"},
     {"build.js", R"(const fs = require('fs');
const url = process.env.VITE_API_URL;
if (!url) { console.error('VITE_API_URL is not set at build time'); process.exit(1); }
fs.mkdirSync('dist', {recursive: true});
fs.writeFileSync('dist/index.html', 'api=' + url + ' greeting=' + process.env.GREETING + '\n');
)"}});
  proj.framework = "react";
  env.build_variables = {{"VITE_API_URL", "https://api.example.test/v1?a=1&b='2'"}};
  create(repo);
  auto d = deploy();
  CAF_REQUIRE_EQUAL(d.status, deployment_status::success);
  // The build saw the build variable, not the runtime variables.
  CAF_CHECK_EQUAL(http_get(d.port, "/").body,
                  "api=https://api.example.test/v1?a=1&b='2' greeting=undefined\n");
  check_deployed(d, sha, "react");
  auto log = log_of(d.id);
  CAF_CHECK(contains(log, "Build variables: VITE_API_URL"));
  // The final image does not carry it in its environment.
  auto image = docker.inspect_image(d.image_name);
  CAF_REQUIRE(image);
  docker_client::request req;
  req.path = "/images/" + docker_client::escape(d.image_name) + "/json";
  auto res = docker.perform(req);
  CAF_REQUIRE(res && res->status == 200);
  CAF_CHECK_EQUAL(res->body.find("VITE_API_URL"), std::string::npos);

  // Named for its build variables: another set of values is another image of
  // the same commit (tests/nodes/image_builder_test checks the names).
  CAF_CHECK_EQUAL(d.image_name, image_name_for(proj.id, sha, env.build_variables));
  CAF_CHECK_NOT_EQUAL(d.image_name, image_name_for(proj.id, sha));
}

CAF_TEST_FIXTURE_SCOPE_END()
