// Registry push of built images against a real docker-registry on loopback:
// the builder tags <registry>/<project id>:<commit8> and pushes; the image
// pulled back by that tag is the same image; a registry that refuses fails
// the build after the configured retries with "push to REGISTRY failed".
#define CAF_SUITE nodes.image_pusher
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <mutex>
#include <thread>

#include "nodes/docker_client.hpp"
#include "nodes/image_builder.hpp"
#include "nodes/image_pusher.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/local_registry.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"

using namespace gilgal;
using namespace std::chrono_literals;

namespace {

struct fixture {
  std::string dir = test::make_temp_dir("gilgal-push");
  docker_client docker{test::docker_host_or_default()};
  node_settings node;
  std::vector<std::string> images; // removed at the end
  std::mutex mtx;
  std::vector<std::pair<std::string, std::string>> lines;

  fixture() {
    CAF_REQUIRE(test::ensure_busybox_image(docker));
    node.cfg.docker_host = test::docker_host_or_default();
    node.cfg.allow_local_sources = true;
    node.cfg.git_retries = 1;
    node.work_root = dir + "/work";
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

  build_job job_for(const test::git_repo& repo) {
    build_job job;
    job.deployment_id = new_uuid();
    job.environment_id = new_uuid();
    job.source.id = new_uuid();
    job.source.name = "pushed";
    job.source.repository_url = repo.path();
    job.source.branch = "main";
    return job;
  }
};

} // namespace

CAF_TEST(registry references) {
  CAF_CHECK_EQUAL(registry_host_of("127.0.0.1:5000"), "127.0.0.1:5000");
  CAF_CHECK_EQUAL(registry_host_of("https://registry.example.com/team/"),
                  "registry.example.com/team");
  CAF_CHECK_EQUAL(registry_repository_for("http://127.0.0.1:5000/", "abc"), "127.0.0.1:5000/abc");
  settings s;
  s.registry_url = "r:1";
  s.registry_push_attempts = 4;
  s.registry_push_backoff_ms = 25;
  auto opts = push_options_of(node_config_of(s));
  CAF_CHECK_EQUAL(opts.attempts, 4);
  CAF_CHECK_EQUAL(opts.backoff.count(), 25);
}

CAF_TEST_FIXTURE_SCOPE(image_pusher_tests, fixture)

CAF_TEST(a built image is pushed and pulled back by its registry tag) {
  if (auto why = test::local_registry::unavailable_reason(); !why.empty()) {
    CAF_MESSAGE("skipped: " << why);
    return;
  }
  test::local_registry registry;
  node.cfg.registry_url = "http://" + registry.address() + "/";
  test::git_repo repo;
  auto sha = repo.commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\nRUN echo pushed > /p\n"}});
  auto job = job_for(repo);
  auto built = build_image(job, node, docker, abort_signal::make(), log());
  if (!built)
    CAF_FAIL("build failed: " << message_of(built.error()));
  images.push_back(built->image_name + ":latest");
  auto expected_ref = registry.address() + "/" + job.source.id + ":" + sha.substr(0, 8);
  CAF_CHECK_EQUAL(built->registry_image, expected_ref);
  images.push_back(expected_ref);
  CAF_CHECK(logged("Pushed " + expected_ref));
  // The tag carries the build's labels (same image).
  auto tagged = docker.inspect_image(expected_ref);
  CAF_REQUIRE(tagged);
  CAF_CHECK_EQUAL(tagged->id, built->image_id);
  CAF_CHECK_EQUAL(tagged->labels["gilgal.project"], job.source.id);
  CAF_CHECK_EQUAL(tagged->labels["gilgal.inputs"].size(), 64u); // hex SHA-256
  // Drop the local registry tag, pull it back: the same image id.
  CAF_REQUIRE(docker.remove_image(expected_ref));
  auto still_there = docker.image_exists(expected_ref);
  CAF_REQUIRE(still_there);
  CAF_CHECK(!*still_there);
  auto pulled = docker.pull_image(registry.address() + "/" + job.source.id, sha.substr(0, 8));
  if (!pulled)
    CAF_FAIL("pull failed: " << message_of(pulled.error()));
  auto back = docker.inspect_image(expected_ref);
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(back->id, built->image_id);
}

CAF_TEST(a cache hit is pushed too) {
  if (auto why = test::local_registry::unavailable_reason(); !why.empty()) {
    CAF_MESSAGE("skipped: " << why);
    return;
  }
  test::git_repo repo;
  repo.commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\nRUN echo cached > /c\n"}});
  auto job = job_for(repo);
  auto first = build_image(job, node, docker, abort_signal::make(), log()); // no registry yet
  CAF_REQUIRE(first);
  images.push_back(first->image_name + ":latest");
  CAF_CHECK(first->registry_image.empty());
  test::local_registry registry;
  node.cfg.registry_url = registry.address();
  auto second = build_image(job, node, docker, abort_signal::make(), log());
  if (!second)
    CAF_FAIL("cached build failed: " << message_of(second.error()));
  CAF_CHECK(second->cache_hit);
  CAF_CHECK(!second->registry_image.empty());
  images.push_back(second->registry_image);
  CAF_CHECK_EQUAL(second->image_id, first->image_id);
}

CAF_TEST(a refusing registry fails the build after the retries) {
  auto port = test::free_port(); // nothing listens there
  node.cfg.registry_url = "127.0.0.1:" + std::to_string(port);
  node.cfg.registry_push_attempts = 3;
  node.cfg.registry_push_backoff_ms = 50;
  test::git_repo repo;
  repo.commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\nRUN echo refused > /r\n"}});
  auto job = job_for(repo);
  auto started = std::chrono::steady_clock::now();
  auto built = build_image(job, node, docker, abort_signal::make(), log());
  auto took = std::chrono::steady_clock::now() - started;
  CAF_REQUIRE(!built);
  auto msg = message_of(built.error());
  CAF_MESSAGE("refused: " << msg);
  CAF_CHECK_EQUAL(code_of(built.error()), errc::unavailable);
  CAF_CHECK_EQUAL(msg.rfind("push to 127.0.0.1:" + std::to_string(port) + " failed: ", 0), 0u);
  CAF_CHECK(msg.find("(3 attempts)") != std::string::npos);
  CAF_CHECK(took >= 150ms); // 50 ms + 100 ms of backoff
  CAF_CHECK(logged("attempt 2 of 3"));
  CAF_CHECK(logged("attempt 3 of 3"));
  // Clean up what was built and tagged.
  if (auto built_images = docker.list_images({"gilgal.project=" + job.source.id}))
    for (auto& img : *built_images)
      docker.remove_image(img.id, true);
}

CAF_TEST(an abort stops the backoff at once) {
  auto port = test::free_port();
  auto img = docker.inspect_image(test::busybox_image);
  CAF_REQUIRE(img);
  push_options opts;
  opts.registry_url = "127.0.0.1:" + std::to_string(port);
  opts.attempts = 5;
  opts.backoff = 10s;
  opts.abort = abort_signal::make();
  auto project_id = new_uuid();
  std::thread trigger{[&] {
    // Fires once the first attempt has failed and the backoff began.
    while (!logged("retrying"))
      std::this_thread::sleep_for(5ms);
    opts.abort->trigger();
  }};
  auto started = std::chrono::steady_clock::now();
  auto res = push_to_registry(docker, test::busybox_image, project_id, "v1", opts, log());
  trigger.join();
  CAF_REQUIRE(!res);
  CAF_CHECK_EQUAL(code_of(res.error()), errc::cancelled);
  CAF_CHECK(std::chrono::steady_clock::now() - started < 5s);
  docker.remove_image(opts.registry_url + "/" + project_id + ":v1");
}

CAF_TEST_FIXTURE_SCOPE_END()
