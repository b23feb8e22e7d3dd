// Container restart and health against the real Docker daemon: a container
// the runner started (restart policy unless-stopped) whose process exits is
// restarted by Docker; the watcher writes each restart into the deployment's
// log, continuing the stored numbering of a log the logger no longer holds;
// the node's health message reports the restart count, exit code and OOM kill.
#define CAF_SUITE actors.container_watcher
#include <caf/test/unit_test.hpp>

#include <thread>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/container_watcher.hpp"
#include "actors/node.hpp"
#include "actors/logger.hpp"
#include "actors/metrics.hpp"
#include "config/secret_box.hpp"
#include "nodes/build_context.hpp"
#include "nodes/container_runner.hpp"
#include "nodes/docker_client.hpp"
#include "nodes/docker_events.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"

using namespace gilgal;
using namespace std::chrono_literals;

namespace {

struct config : caf::actor_system_config {
  config() {
    gilgal::add_message_types(*this);
    set("scheduler.max-threads", 4);
  }
};

/// Serves HTTP, then exits with code 3 after a few seconds.
const char* crashing_dockerfile = R"(FROM gilgal-test/busybox:latest
CMD ["/bin/sh", "-c", "mkdir -p /tmp/w && echo up > /tmp/w/index.html && httpd -p $PORT -h /tmp/w && sleep 3 && exit 3"]
)";

struct fixture {
  std::string dir = test::make_temp_dir("gilgal-watcher");
  std::shared_ptr<store> db;
  config cfg;
  caf::actor_system sys{cfg};
  docker_client docker{test::docker_host_or_default()};
  std::string run = new_uuid().substr(0, 8);
  std::vector<std::string> images;
  std::vector<std::string> containers;
  logger_actor logger;
  node_actor node;
  caf::actor watcher;
  node_settings ns;
  deployment dep;

  fixture() {
    auto box = secret_box::from_hex(std::string(64, 'c'));
    auto opened = open_store(dir + "/gilgal.db", std::make_shared<const secret_box>(*box));
    CAF_REQUIRE(opened);
    db = std::move(*opened);
    CAF_REQUIRE(test::ensure_busybox_image(docker));
    // A finished deployment whose log already holds 3 lines.
    auto u = db->create_user("watcher");
    CAF_REQUIRE(u);
    project p;
    p.owner_id = u->id;
    p.name = "watched";
    p.repository_url = "https://example.com/x.git";
    auto pp = db->create_project(p);
    CAF_REQUIRE(pp);
    environment e;
    e.project_id = pp->id;
    e.name = "production";
    e.type = "production";
    auto ee = db->create_environment(e);
    CAF_REQUIRE(ee);
    deployment d;
    d.project_id = pp->id;
    d.environment_id = ee->id;
    d.commit_sha = "0123456789abcdef0123456789abcdef01234567";
    auto dd = db->create_deployment(d);
    CAF_REQUIRE(dd);
    dep = *dd;
    std::vector<log_line> old;
    for (int i = 1; i <= 3; ++i)
      old.push_back(log_line{dep.id, i, "info", "earlier line " + std::to_string(i), ""});
    CAF_REQUIRE(db->append_logs(old));
    dep.status = deployment_status::success;
    CAF_REQUIRE(db->update_deployment(dep));

    ns.cfg.docker_host = test::docker_host_or_default();
    ns.cfg.port_range_begin = 34000 + static_cast<int>(::getpid() % 500) * 4;
    ns.cfg.port_range_end = ns.cfg.port_range_begin + 200;
    ns.cfg.health_check_timeout_seconds = 20;
    ns.work_root = dir + "/work";
    logger = spawn_logger(sys, db);
    node = spawn_node(sys, ns, logger);
    watcher = spawn_container_watcher(sys, {std::make_shared<docker_client>(ns.cfg.docker_host), logger});
  }

  ~fixture() {
    for (auto& c : containers)
      docker.remove_container(c, true);
    for (auto& i : images)
      docker.remove_image(i, true);
    caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(logger, caf::exit_reason::user_shutdown);
    test::remove_tree(dir);
  }

  std::string build_image(const std::string& dockerfile) {
    build_context_options ctx;
    ctx.extra_files["Dockerfile"] = dockerfile;
    auto tar = make_build_context(dir, ctx);
    CAF_REQUIRE(tar);
    build_options opts;
    auto name = "gilgal-watch-" + run + "-" + std::to_string(images.size());
    opts.tags = {name + ":latest"};
    opts.labels = {{"gilgal.project", dep.project_id}};
    auto id = docker.build(*tar, opts);
    if (!id)
      CAF_FAIL("build: " << message_of(id.error()));
    images.push_back(name + ":latest");
    return name;
  }

  container_health health(const std::string& id) {
    caf::scoped_actor self{sys};
    container_health out;
    self->request(node, 60s, health_atom::value, id)
      .receive([&](container_health& h) { out = std::move(h); },
               [&](const caf::error& err) { CAF_FAIL("health: " << sys.render(err)); });
    return out;
  }

  std::vector<log_line> stored_log() {
    caf::scoped_actor self{sys};
    self->request(logger, 10s, flush_atom::value).receive([](bool) {}, [](caf::error&) {});
    auto page = db->list_logs(dep.id, page_request{1, 100});
    CAF_REQUIRE(page);
    return page->items;
  }

  static bool has(const std::vector<log_line>& lines, const std::string& text) {
    for (auto& l : lines)
      if (l.message.find(text) != std::string::npos)
        return true;
    return false;
  }

  template <class Pred>
  bool await(Pred pred, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred())
        return true;
      std::this_thread::sleep_for(200ms);
    }
    return pred();
  }
};

int64_t scraped(const std::string& text, const std::string& name) {
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos)
    return -1;
  return std::stoll(text.substr(at + name.size() + 2));
}

} // namespace

CAF_TEST(docker events parse) {
  docker_event ev;
  CAF_REQUIRE(parse_docker_event(
    R"({"Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"exitCode":"3","gilgal.deployment":"d1"}},"timeNano":1700000000123456789})",
    ev));
  CAF_CHECK_EQUAL(ev.type, "container");
  CAF_CHECK_EQUAL(ev.action, "die");
  CAF_CHECK_EQUAL(ev.id, "abc");
  CAF_CHECK_EQUAL(ev.attributes["exitCode"], "3");
  CAF_CHECK_EQUAL(ev.time_nano, 1700000000123456789);
  CAF_CHECK(!parse_docker_event("not json", ev));
  CAF_CHECK(!parse_docker_event("{}", ev));
}

CAF_TEST_FIXTURE_SCOPE(container_watcher_tests, fixture)

CAF_TEST(a crashing container is restarted and each restart is logged) {
  auto restarts_before = scraped(metrics::render_prometheus({}), "gilgal_container_restarts_total");
  auto image = build_image(crashing_dockerfile);
  port_allocator ports{ns.cfg.bind_address, ns.cfg.port_range_begin, ns.cfg.port_range_end};
  run_job job;
  job.deployment_id = dep.id;
  job.project_id = dep.project_id;
  job.environment_id = dep.environment_id;
  job.image_name = image;
  job.settings.memory_mb = 64;
  auto ran = run_container(job, ns, docker, ports, abort_signal::make(),
                           [](const std::string&, const std::string&) {});
  if (!ran)
    CAF_FAIL("run: " << message_of(ran.error()));
  containers.push_back(ran->container_id);
  auto info = docker.inspect_container(ran->container_id);
  CAF_REQUIRE(info);
  // Docker restarts it: the restart count rises (backoff 100 ms, 200 ms, ...).
  bool restarted = await([&] { return health(ran->container_id).restart_count >= 2; }, 20s);
  CAF_REQUIRE(restarted);
  auto h = health(ran->container_id);
  CAF_MESSAGE("health: state " << h.state << ", restarts " << h.restart_count << ", exit "
                               << h.exit_code);
  CAF_CHECK_EQUAL(h.container_id, ran->container_id);
  // Docker resets the exit code when it starts the container again.
  CAF_CHECK(h.exit_code == 0 || h.exit_code == 3);
  CAF_CHECK(!h.oom_killed);
  CAF_CHECK(!h.started_at.empty());
  CAF_CHECK(!h.finished_at.empty());
  // The log continues after the 3 stored lines.
  std::vector<log_line> lines;
  bool logged = await(
    [&] {
      lines = stored_log();
      return has(lines, "Container exited with code 3; restarting (restart 1)")
             && has(lines, "Container exited with code 3; restarting (restart 2)");
    },
    5s);
  for (auto& l : lines)
    CAF_MESSAGE(l.seq << " " << l.level << " " << l.message);
  CAF_CHECK(logged);
  CAF_REQUIRE_GREATER_OR_EQUAL(lines.size(), 5u);
  for (size_t i = 0; i < lines.size(); ++i)
    CAF_CHECK_EQUAL(lines[i].seq, static_cast<int64_t>(i + 1));
  CAF_CHECK_EQUAL(lines[3].level, "warning");
  CAF_CHECK(has(lines, "Container running again (restart 1)"));
  auto restarts_after = scraped(metrics::render_prometheus({}), "gilgal_container_restarts_total");
  CAF_CHECK_GREATER_OR_EQUAL(restarts_after - restarts_before, 2);
  // Stopped through the API: no further restart is logged as one.
  CAF_CHECK(remove_container_and_port(ran->container_id, docker, ports));
}

CAF_TEST(a container over its memory limit is reported as oom killed) {
  auto image = build_image("FROM gilgal-test/busybox:latest\n"
                           "CMD [\"/bin/sh\", \"-c\", \"sleep 1; exec dd if=/dev/zero "
                           "of=/dev/null bs=128M count=1\"]\n");
  container_spec spec;
  spec.image = image;
  spec.memory_bytes = 16 * 1024 * 1024;
  spec.restart_policy = "unless-stopped";
  spec.labels = {{"gilgal.managed", "true"},
                 {"gilgal.deployment", dep.id},
                 {"gilgal.project", dep.project_id}};
  auto id = docker.create_container(spec);
  CAF_REQUIRE(id);
  containers.push_back(*id);
  CAF_REQUIRE(docker.start_container(*id));
  container_health h;
  bool killed = await(
    [&] {
      h = health(*id);
      return h.oom_killed || h.restart_count > 0;
    },
    20s);
  CAF_MESSAGE("health: state " << h.state << ", restarts " << h.restart_count << ", exit "
                               << h.exit_code << ", oom " << h.oom_killed);
  CAF_REQUIRE(killed);
  // The restart may already have reset OOMKilled; the log keeps the verdict.
  std::vector<log_line> lines;
  bool logged = await(
    [&] {
      lines = stored_log();
      return has(lines, "Container killed: out of memory");
    },
    5s);
  for (auto& l : lines)
    CAF_MESSAGE(l.seq << " " << l.level << " " << l.message);
  CAF_CHECK(logged);
  CAF_CHECK(h.oom_killed || h.exit_code == 137);
}

CAF_TEST(health of a missing container is not found) {
  caf::scoped_actor self{sys};
  caf::error failure;
  self->request(node, 30s, health_atom::value, std::string{"no-such-container-" + run})
    .receive([](container_health&) {}, [&](caf::error& err) { failure = std::move(err); });
  CAF_REQUIRE(failure);
  CAF_CHECK_EQUAL(code_of(failure), errc::not_found);
}

CAF_TEST_FIXTURE_SCOPE_END()
