// The point of no return, as a user meets it: 50 cancels sent at random
// moments of real deployments (real `gilgal serve`, real Docker). After every
// answer, the environment's running containers are exactly the one of its
// newest successful deployment (once the previous one has drained), and a
// cancelled or failed deployment never has a running container.
#define CAF_SUITE http.cancel_invariant
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <random>
#include <set>
#include <thread>
#include <tuple>

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

const char* web_dockerfile = R"(FROM gilgal-test/busybox:latest
COPY www /www
CMD ["/bin/sh", "-c", "exec httpd -f -p $PORT -h /www"]
)";

// 50 deployments of about a second each, and the drains: more than CAF
// test's default 30 s watchdog. The command line's -r still wins.
const bool invariant_watchdog = [] {
  caf::test::engine::max_runtime(600);
  return true;
}();

constexpr int cancels = 50;
/// How long the previous container may take to stop after a success.
constexpr auto drain = 15s;

struct fixture : app_server {
  git_repo repo;
  std::string project_id;
  std::string env_id;

  fixture() {
    server_options opts;
    opts.allow_local_sources = true;
    start(opts);
    std::tie(project_id, env_id) = create_app("inv", repo.path());
  }

  std::string deploy(const std::string& sha) {
    return start_deployment(project_id, env_id, sha);
  }

  json get(const std::string& id) {
    auto r = api("GET", "/api/deployments/" + id);
    CAF_REQUIRE_EQUAL(r.status, 200);
    return r.body;
  }

  std::set<std::string> running_of(const std::string& label) {
    std::set<std::string> ids;
    auto list = docker.list_containers({label}, false);
    CAF_REQUIRE(list);
    for (auto& c : *list)
      if (c.state == "running")
        ids.insert(c.id);
    return ids;
  }

  /// The container of the environment's newest successful deployment (empty
  /// set if it has none).
  std::set<std::string> live_container() {
    auto r = api("GET", "/api/projects/" + project_id + "/deployments?limit=100");
    CAF_REQUIRE_EQUAL(r.status, 200);
    for (auto& d : r.body["items"]) // newest first
      if (d["environmentId"] == env_id && d["status"] == "success")
        return {d["containerId"].get<std::string>()};
    return {};
  }

  /// Running containers of the environment == the live one, within the drain.
  void check_environment(const std::string& when) {
    auto want = live_container();
    auto deadline = clock_type::now() + drain;
    auto have = running_of("gilgal.environment=" + env_id);
    while (have != want && clock_type::now() < deadline) {
      std::this_thread::sleep_for(50ms);
      have = running_of("gilgal.environment=" + env_id);
    }
    CHECK_WHY(have == want, when + ": " + std::to_string(have.size())
                              + " running container(s), want the newest success's");
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cancel_invariant_tests, fixture)

CAF_TEST(cancels at random moments never leave a cancelled container or lose the live one) {
  // Two versions, alternated: after the first build of each, builds are cached
  // and a deployment takes about a second, so the cancels land in every step.
  std::vector<std::string> shas{
    repo.commit({{"Dockerfile", web_dockerfile}, {"www/index.html", "one\n"}}, "one"),
    repo.commit({{"Dockerfile", web_dockerfile}, {"www/index.html", "two\n"}}, "two")};
  auto t0 = clock_type::now();
  auto first = await_end(deploy(shas[0]));
  CAF_REQUIRE_EQUAL(first["status"], "success");
  auto second = await_end(deploy(shas[1]));
  CAF_REQUIRE_EQUAL(second["status"], "success");
  auto typical = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0) / 2;
  check_environment("after two successes");
  std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> moment{0, static_cast<int>(typical.count()) + 200};
  int cancelled = 0, refused = 0;
  for (int i = 0; i < cancels; ++i) {
    auto id = deploy(shas[i % 2]);
    // The random moment of the cancel (not a synchronisation).
    std::this_thread::sleep_for(std::chrono::milliseconds(moment(rng)));
    auto r = api("DELETE", "/api/deployments/" + id);
    auto what = "cancel " + std::to_string(i) + " of " + id + ": " + r.describe();
    if (r.status == 200) {
      ++cancelled;
      CAF_CHECK_EQUAL(r.body["status"], "cancelled");
      auto stored = get(id);
      CAF_CHECK_EQUAL(stored["status"], "cancelled");
      // Nothing of it runs, at the moment the answer came.
      CHECK_WHY(running_of("gilgal.deployment=" + id).empty(), what);
    } else {
      ++refused;
      CHECK_WHY(r.status == 409, what);
      CHECK_WHY(r.error_message().find("going live") != std::string::npos
                  || r.error_message().find("finished") != std::string::npos,
                what);
      auto end = await_end(id);
      CHECK_WHY(end["status"] == "success", what + " ended " + end.dump());
    }
    auto end = get(id);
    if (end["status"] != "success") // cancelled or failed
      CHECK_WHY(running_of("gilgal.deployment=" + id).empty(), what);
    check_environment(what);
  }
  CAF_MESSAGE(cancelled << " cancelled, " << refused << " refused (going live or finished)");
  CAF_CHECK_GREATER(cancelled, 0);
  // The live deployment still answers.
  auto live = live_container();
  CAF_CHECK_EQUAL(live.size(), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
