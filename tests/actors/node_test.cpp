// The node actor's blocking container operations run on a bounded pool of
// workers: against a real HTTP server standing in for the Docker API (slow on
// purpose, counting the requests it serves at once), no more operations run
// at once than the pool has workers, and every one is answered.
#define CAF_SUITE actors.node
#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <httplib.h>

#include "actors/node.hpp"
#include "protocol/error.hpp"
#include "protocol/type_ids.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;
using namespace std::chrono_literals;

namespace {

/// Answers /version, and 404 (no such container) to everything else after
/// `delay`, counting how many of those it serves at once.
struct slow_docker {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::mutex mtx;
  int now = 0;
  int most = 0;
  int served = 0;

  explicit slow_docker(std::chrono::milliseconds delay) {
    server.new_task_queue = [] { return new httplib::ThreadPool(16); };
    server.Get("/version", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"Version":"24.0.0","ApiVersion":"1.43","MinAPIVersion":"1.12"})",
                      "application/json");
    });
    server.Get(".*", [this, delay](const httplib::Request&, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> guard{mtx};
        most = std::max(most, ++now);
      }
      std::this_thread::sleep_for(delay); // the slow daemon being simulated
      {
        std::lock_guard<std::mutex> guard{mtx};
        --now;
        ++served;
      }
      res.status = 404;
      res.set_content(R"({"message":"No such container"})", "application/json");
    });
    port = server.bind_to_any_port("127.0.0.1");
    // Bound and listening already: connections queue until the loop runs.
    thread = std::thread([this] { server.listen_after_bind(); });
  }

  ~slow_docker() {
    server.stop();
    thread.join();
  }
};

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::string dir = test::make_temp_dir("gilgal-node");

  fixture() {
    add_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  ~fixture() {
    sys.reset();
    test::remove_tree(dir);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(node_tests, fixture)

CAF_TEST(container operations share a bounded pool of workers) {
  slow_docker docker{200ms};
  CAF_REQUIRE(docker.port > 0);
  node_settings ns;
  ns.cfg.docker_host = "tcp://127.0.0.1:" + std::to_string(docker.port);
  ns.work_root = dir;
  ns.worker_threads = 2;
  auto node = spawn_node(*sys, ns, logger_actor{});
  constexpr int requests = 6;
  caf::scoped_actor self{*sys};
  // Sent, not requested: the answers come back as messages, all of them
  // awaited below (with a deadline).
  for (int i = 0; i < requests; ++i)
    self->send(node, health_atom::value, "c" + std::to_string(i));
  int answered = 0;
  int not_found = 0;
  auto start = std::chrono::steady_clock::now();
  self->receive_for(answered, requests)(
    [&](const container_health&) {},
    [&](const caf::error& err) {
      if (code_of(err) == errc::not_found)
        ++not_found;
    },
    caf::after(10s) >> [&] { CAF_FAIL("only " << answered << " answers in 10 s"); });
  auto took = std::chrono::steady_clock::now() - start;
  CAF_CHECK_EQUAL(not_found, requests);
  std::lock_guard<std::mutex> guard{docker.mtx};
  CAF_CHECK_EQUAL(docker.served, requests);
  CAF_CHECK_EQUAL(docker.most, 2); // both workers busy, never a third
  // Three rounds of two: not one round of six, not six rounds of one.
  CAF_CHECK(took >= 550ms);
  CAF_CHECK(took < 1150ms);
  self->send_exit(node, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()
