// A build whose RUN step prints what the classic builder prints
// (" ---> Running in ID", "Successfully built ID") naming someone else's
// image and container — including ' ---> Running in x/../../images/NAME?force=1#',
// which once made a cancel DELETE that image — is cancelled: its own step
// container goes, the other image and container stay. While it runs, the
// step container carries the build's memory, CPU and pids limits.
#define CAF_SUITE nodes.docker_build_guard
#include <caf/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "nodes/build_context.hpp"
#include "nodes/docker_build_guard.hpp"
#include "nodes/docker_client.hpp"
#include "nodes/docker_refs.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"

using namespace gilgal;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

template <class Pred>
bool await(Pred pred, std::chrono::milliseconds limit) {
  auto deadline = clock_type::now() + limit;
  for (;;) {
    if (pred())
      return true;
    if (clock_type::now() >= deadline)
      return false;
    std::this_thread::sleep_for(50ms);
  }
}

struct fixture {
  docker_client dc{test::docker_host_or_default()};
  std::string run_id = new_uuid().substr(0, 8);
  std::string dir = test::make_temp_dir("gilgal-guard-test");
  std::string victim_image = "gilgal-test/victim-" + run_id;
  std::string victim_container;
  std::string tag = "gilgal-test/guarded-" + run_id + ":latest";

  fixture() {
    auto id = test::ensure_busybox_image(dc);
    CAF_REQUIRE(id);
    // Another tenant's image and (stopped) container.
    CAF_REQUIRE(dc.tag_image(test::busybox_image, victim_image, "latest"));
    container_spec spec;
    spec.name = "gilgal-test-victim-" + run_id;
    spec.image = test::busybox_image;
    spec.cmd = {"/bin/true"};
    auto c = dc.create_container(spec);
    CAF_REQUIRE(c);
    victim_container = *c;
  }

  ~fixture() {
    dc.remove_container(victim_container, true);
    dc.remove_image(victim_image + ":latest", false);
    dc.remove_image(tag, true);
    test::remove_tree(dir);
  }

  nlohmann::json raw_inspect(const std::string& id) {
    docker_client::request req;
    req.path = "/containers/" + id + "/json";
    auto res = dc.perform(req);
    if (!res || res->status != 200)
      return nullptr;
    return nlohmann::json::parse(res->body, nullptr, false);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(docker_build_guard_tests, fixture)

CAF_TEST(a cancel removes only the builds own container whatever the output says) {
  auto victim = dc.inspect_image(victim_image);
  CAF_REQUIRE(victim);
  auto victim_short = victim->id.substr(7, 12);
  // The forged lines come after Docker's real " ---> Running in ID".
  std::string forged = "echo ' ---> Running in " + victim_container + "'"
                       " && echo 'Successfully built " + victim_short + "'"
                       " && echo ' ---> " + victim_short + "'"
                       " && echo ' ---> Running in x/../../images/" + victim_image
                       + "?force=1#'";
  build_context_options ctx;
  ctx.extra_files["Dockerfile"] = "FROM " + std::string{test::busybox_image} + "\nRUN "
                                  + forged + " && echo sleeping && sleep 60\n";
  auto tar = make_build_context(dir, ctx);
  CAF_REQUIRE(tar);
  build_options opts;
  opts.tags = {tag};
  opts.no_cache = true;
  opts.abort = abort_signal::make();
  opts.memory_bytes = int64_t{256} << 20;
  opts.cpus = 0.5;
  opts.pids_limit = 64;
  std::atomic<bool> running{false};
  std::mutex mtx;
  std::string step; // Docker's own line comes first
  caf::expected<std::string> result{std::string{}};
  std::thread worker{[&] {
    result = dc.build(*tar, opts, [&](std::string_view l) {
      static constexpr std::string_view marker = " ---> Running in ";
      std::lock_guard<std::mutex> guard{mtx};
      if (step.empty() && l.substr(0, marker.size()) == marker)
        step = std::string{l.substr(marker.size())};
      if (l == "sleeping")
        running = true;
    });
  }};
  CAF_REQUIRE(await([&] { return running.load(); }, 60s));
  std::string step_id;
  {
    std::lock_guard<std::mutex> guard{mtx};
    step_id = step;
  }
  CAF_REQUIRE(is_docker_object_id(step_id));
  CAF_REQUIRE_NOT_EQUAL(step_id, victim_container.substr(0, step_id.size()));
  // The step runs confined: memory and CPU from the build API, pids from the guard.
  CAF_CHECK(await(
    [&] {
      auto j = raw_inspect(step_id);
      return j.is_object() && j["HostConfig"]["PidsLimit"] == 64;
    },
    5s));
  auto host = raw_inspect(step_id)["HostConfig"];
  CAF_CHECK_EQUAL(host["Memory"], int64_t{256} << 20);
  CAF_CHECK_EQUAL(host["CpuQuota"], 50000);
  auto t0 = clock_type::now();
  opts.abort->trigger();
  worker.join();
  CAF_CHECK_LESS(clock_type::now() - t0, 3s);
  CAF_REQUIRE(!result);
  CAF_CHECK_EQUAL(code_of(result.error()), errc::cancelled);
  // The build's own step container is gone ...
  CAF_CHECK(await(
    [&] {
      auto c = dc.inspect_container(step_id);
      return !c && code_of(c.error()) == errc::not_found;
    },
    10s));
  // ... and nothing the output named was touched.
  CAF_CHECK(dc.inspect_image(victim_image + ":latest"));
  CAF_CHECK(dc.inspect_container(victim_container));
}

CAF_TEST(the guard recognises only containers carrying its mark) {
  docker_build_guard a{dc, 0};
  docker_build_guard b{dc, 0};
  CAF_CHECK_NOT_EQUAL(a.extra_host(), b.extra_host());
  container_info c;
  c.extra_hosts = {a.extra_host()};
  CAF_CHECK(a.is_ours(c));
  CAF_CHECK(!b.is_ours(c));
  c.labels["gilgal.managed"] = "true"; // an app container is never a build's
  CAF_CHECK(!a.is_ours(c));
  // Nothing of its own exists: nothing is removed.
  CAF_CHECK_EQUAL(a.remove_containers(), 0);
  CAF_CHECK(dc.inspect_container(victim_container));
}

CAF_TEST_FIXTURE_SCOPE_END()
