// Image handoff between nodes through a registry: an image built (and pushed
// by the builder) on the main daemon runs on a second, private daemon that
// only knows its registry reference — the runner pulls it, tags it with the
// deployment's image name, runs it and it is healthy. Without a registry
// reference an absent image fails with a clear message; an unreachable
// registry fails after the configured retries; an abort stops the backoff.
#define CAF_SUITE nodes.image_handoff
#include <caf/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <httplib.h>

#include "nodes/container_runner.hpp"
#include "nodes/docker_client.hpp"
#include "nodes/image_builder.hpp"
#include "nodes/image_puller.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "tests/fixtures/docker_daemon.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/local_registry.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"

using namespace gilgal;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

struct fixture {
  std::string dir = test::make_temp_dir("gilgal-handoff");
  docker_client docker{test::docker_host_or_default()};
  node_settings builder_node;
  std::vector<std::string> images; // removed from the main daemon at the end
  std::mutex mtx;
  std::vector<std::pair<std::string, std::string>> lines;

  fixture() {
    CAF_REQUIRE(test::ensure_busybox_image(docker));
    builder_node.name = "builder";
    builder_node.cfg.docker_host = test::docker_host_or_default();
    builder_node.cfg.allow_local_sources = true;
    builder_node.cfg.git_retries = 1;
    builder_node.work_root = dir + "/work";
  }

  ~fixture() {
    for (auto& img : images)
      docker.remove_image(img, true);
    test::remove_tree(dir);
  }

  log_function log() {
    return [this](const std::string& level, const std::string& msg) {
      std::lock_guard<std::mutex> guard{mtx};
      lines.emplace_back(level, msg);
    };
  }

  bool logged(const std::string& text) {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& l : lines)
      if (l.second.find(text) != std::string::npos)
        return true;
    return false;
  }

  run_job run_job_for(const std::string& image_name, const std::string& registry_image) {
    run_job job;
    job.deployment_id = new_uuid();
    job.project_id = new_uuid();
    job.environment_id = new_uuid();
    job.image_name = image_name;
    job.registry_image = registry_image;
    job.settings.health_check_timeout_seconds = 20;
    return job;
  }
};

} // namespace

CAF_TEST(image references split into repository and tag) {
  using ref = std::pair<std::string, std::string>;
  CAF_CHECK_EQUAL(split_image_reference("127.0.0.1:5000/p:abc"), (ref{"127.0.0.1:5000/p", "abc"}));
  CAF_CHECK_EQUAL(split_image_reference("127.0.0.1:5000/p"), (ref{"127.0.0.1:5000/p", "latest"}));
  CAF_CHECK_EQUAL(split_image_reference("gilgal-a-b"), (ref{"gilgal-a-b", "latest"}));
  CAF_CHECK_EQUAL(split_image_reference("gilgal-a-b:v1"), (ref{"gilgal-a-b", "v1"}));
}

CAF_TEST_FIXTURE_SCOPE(image_handoff_tests, fixture)

CAF_TEST(an image built on one daemon is pulled and run on another) {
  if (auto why = test::docker_daemon::skip_reason(); !why.empty()) {
    CAF_MESSAGE("skipped: " << why);
    return;
  }
  if (auto why = test::local_registry::unavailable_reason(); !why.empty()) {
    CAF_MESSAGE("skipped: " << why);
    return;
  }
  test::local_registry registry;
  builder_node.cfg.registry_url = "http://" + registry.address() + "/";
  // Built and pushed on the main daemon by the real builder.
  test::git_repo repo;
  repo.commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\n"
                              "RUN echo handed-over > /www/index.html\n"
                              "EXPOSE 8080\n"
                              "CMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"}});
  build_job bjob;
  bjob.deployment_id = new_uuid();
  bjob.environment_id = new_uuid();
  bjob.source.id = new_uuid();
  bjob.source.name = "handoff";
  bjob.source.repository_url = repo.path();
  bjob.source.branch = "main";
  auto built = build_image(bjob, builder_node, docker, abort_signal::make(), log());
  if (!built)
    CAF_FAIL("build failed: " << message_of(built.error()));
  images.push_back(built->image_name + ":latest");
  images.push_back(built->registry_image);
  CAF_REQUIRE(!built->registry_image.empty());

  // The runner's node: a private daemon that has never seen the image.
  test::docker_daemon second;
  docker_client other{second.host()};
  auto absent = other.image_exists(built->image_name);
  CAF_REQUIRE(absent);
  CAF_REQUIRE(!*absent);
  node_settings runner_node;
  runner_node.name = "runner";
  runner_node.cfg.docker_host = second.host();
  runner_node.cfg.registry_url = builder_node.cfg.registry_url;
  runner_node.cfg.registry_push_attempts = 3;
  runner_node.cfg.registry_push_backoff_ms = 100;
  port_allocator ports{runner_node.cfg.bind_address, runner_node.cfg.port_range_begin,
                       runner_node.cfg.port_range_end};
  auto job = run_job_for(built->image_name, built->registry_image);
  job.project_id = bjob.source.id;
  auto ran = run_container(job, runner_node, other, ports, abort_signal::make(), log());
  if (!ran)
    CAF_FAIL("run failed: " << message_of(ran.error()) << "\n" << second.log_tail());
  CAF_CHECK(logged("Pulling image " + built->registry_image + "..."));
  CAF_CHECK(logged("Pulled " + built->registry_image));
  // Tagged with the deployment's name, the same image as built.
  auto there = other.inspect_image(built->image_name);
  CAF_REQUIRE(there);
  CAF_CHECK_EQUAL(there->id, built->image_id);
  // Runs on the second daemon, not on the main one.
  auto info = other.inspect_container(ran->container_id);
  CAF_REQUIRE(info);
  CAF_CHECK(info->running);
  CAF_CHECK_EQUAL(info->host_port, ran->port);
  auto on_main = docker.inspect_container(ran->container_id);
  CAF_CHECK(!on_main);
  // A second run finds the image and does not pull again.
  {
    std::lock_guard<std::mutex> guard{mtx};
    lines.clear();
  }
  auto again = run_job_for(built->image_name, built->registry_image);
  auto ran2 = run_container(again, runner_node, other, ports, abort_signal::make(), log());
  CAF_REQUIRE(ran2);
  CAF_CHECK(!logged("Pulling image"));
  remove_container_and_port(ran->container_id, other, ports);
  remove_container_and_port(ran2->container_id, other, ports);
}

CAF_TEST(an absent image without a registry image fails clearly) {
  node_settings node;
  node.name = "lonely";
  node.cfg.docker_host = test::docker_host_or_default();
  port_allocator ports{node.cfg.bind_address, node.cfg.port_range_begin,
                       node.cfg.port_range_end};
  auto name = "gilgal-absent-" + new_uuid().substr(0, 8);
  auto job = run_job_for(name, "");
  auto ran = run_container(job, node, docker, ports, abort_signal::make(), log());
  CAF_REQUIRE(!ran);
  CAF_CHECK_EQUAL(code_of(ran.error()), errc::not_found);
  CAF_CHECK_EQUAL(message_of(ran.error()),
                  "image " + name + " is not on node lonely; configure a registry so nodes can "
                                    "hand images over");
  // No container was created for it.
  auto left = docker.list_containers({"gilgal.deployment=" + job.deployment_id}, true);
  CAF_REQUIRE(left);
  CAF_CHECK(left->empty());
}

CAF_TEST(an unreachable registry fails the run after the retries) {
  node_settings node;
  node.name = "puller";
  node.cfg.docker_host = test::docker_host_or_default();
  node.cfg.registry_push_attempts = 3;
  node.cfg.registry_push_backoff_ms = 50;
  port_allocator ports{node.cfg.bind_address, node.cfg.port_range_begin,
                       node.cfg.port_range_end};
  auto port = test::free_port(); // nothing listens there
  node.cfg.registry_url = "http://127.0.0.1:" + std::to_string(port) + "/";
  auto ref = "127.0.0.1:" + std::to_string(port) + "/" + new_uuid() + ":deadbeef";
  auto job = run_job_for("gilgal-absent-" + new_uuid().substr(0, 8), ref);
  auto started = clock_type::now();
  auto ran = run_container(job, node, docker, ports, abort_signal::make(), log());
  auto took = clock_type::now() - started;
  CAF_REQUIRE(!ran);
  auto msg = message_of(ran.error());
  CAF_MESSAGE("unreachable: " << msg);
  CAF_CHECK_EQUAL(code_of(ran.error()), errc::unavailable);
  CAF_CHECK_EQUAL(msg.rfind("could not pull " + ref + ": ", 0), 0u);
  CAF_CHECK(msg.find("(3 attempts)") != std::string::npos);
  CAF_CHECK(took >= 150ms); // 50 ms + 100 ms of backoff
  CAF_CHECK(logged("Pulling image " + ref + "..."));
  CAF_CHECK(logged("attempt 2 of 3"));
  CAF_CHECK(logged("attempt 3 of 3"));
}

CAF_TEST(an abort stops the pull backoff at once) {
  push_options opts;
  opts.attempts = 5;
  opts.backoff = 10s;
  opts.abort = abort_signal::make();
  auto port = test::free_port();
  opts.registry_url = "http://127.0.0.1:" + std::to_string(port) + "/";
  auto ref = "127.0.0.1:" + std::to_string(port) + "/" + new_uuid() + ":v1";
  std::thread trigger{[&] {
    while (!logged("retrying"))
      std::this_thread::sleep_for(5ms);
    opts.abort->trigger();
  }};
  auto started = clock_type::now();
  auto res = ensure_image(docker, "gilgal-absent-" + new_uuid().substr(0, 8), ref, "n", opts,
                          log());
  trigger.join();
  CAF_REQUIRE(!res);
  CAF_CHECK_EQUAL(code_of(res.error()), errc::cancelled);
  CAF_CHECK(clock_type::now() - started < 5s);
}

CAF_TEST(an image outside the registry of the node is never pulled and no credentials leave) {
  // A spy registry another node named: it must not see a single request.
  httplib::Server spy;
  std::atomic<int> requests{0};
  spy.set_pre_routing_handler([&](const httplib::Request&, httplib::Response& res) {
    ++requests;
    res.status = 401;
    return httplib::Server::HandlerResponse::Handled;
  });
  auto spy_port = spy.bind_to_any_port("127.0.0.1");
  std::thread serving{[&] { spy.listen_after_bind(); }};
  // stop() before the listen loop runs would be lost and join() would hang.
  auto ready_by = clock_type::now() + std::chrono::seconds(5);
  while (!spy.is_running() && clock_type::now() < ready_by)
    std::this_thread::yield();
  CAF_REQUIRE(spy.is_running());
  push_options opts;
  opts.registry_url = "http://127.0.0.1:" + std::to_string(test::free_port()) + "/";
  opts.username = "deployer";
  opts.password = "registry-password-of-this-node";
  opts.attempts = 1;
  auto ref = "127.0.0.1:" + std::to_string(spy_port) + "/" + new_uuid() + ":deadbeef";
  auto res = ensure_image(docker, "gilgal-absent-" + new_uuid().substr(0, 8), ref, "n", opts,
                          log());
  CAF_REQUIRE(!res);
  CAF_CHECK_EQUAL(code_of(res.error()), errc::invalid_argument);
  CAF_CHECK_EQUAL(message_of(res.error()),
                  "image " + ref + " is not in this node's registry "
                    + registry_host_of(opts.registry_url) + "; refusing to pull it");
  // Nor from anywhere when the node has no registry of its own.
  opts.registry_url.clear();
  auto none = ensure_image(docker, "gilgal-absent-" + new_uuid().substr(0, 8), ref, "n", opts,
                           log());
  CAF_REQUIRE(!none);
  CAF_CHECK(message_of(none.error()).find("not in a registry configured on node n")
            != std::string::npos);
  spy.stop();
  serving.join();
  CAF_CHECK_EQUAL(requests.load(), 0);
  CAF_CHECK(!logged("Pulling image"));
}

CAF_TEST_FIXTURE_SCOPE_END()
