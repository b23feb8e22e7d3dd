// The health probe against a real HTTP server on 127.0.0.1 (cpp-httplib on a
// free port), and the pace of the probes while an app starts.
#define CAF_SUITE nodes.http_probe
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <thread>

#include <httplib.h>

#include "nodes/http_probe.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;
using namespace std::chrono_literals;

CAF_TEST(a starting app is probed at most 50 ms apart for 5 s then 250 ms apart) {
  auto pause = first_probe_pause;
  CAF_CHECK_EQUAL(pause, 10ms);
  std::vector<std::chrono::milliseconds> seen;
  std::chrono::milliseconds waited{0};
  while (waited < 5s) {
    seen.push_back(pause);
    waited += pause;
    pause = next_probe_pause(pause, waited);
  }
  CAF_CHECK_EQUAL(seen.at(0), 10ms);
  CAF_CHECK_EQUAL(seen.at(1), 20ms);
  CAF_CHECK_EQUAL(seen.at(2), 40ms);
  for (size_t i = 3; i < seen.size(); ++i)
    CAF_CHECK_EQUAL(seen[i], 50ms);
  // Past 5 s: doubling up to 250 ms.
  CAF_CHECK_EQUAL(next_probe_pause(50ms, 5s), 100ms);
  CAF_CHECK_EQUAL(next_probe_pause(200ms, 6s), 250ms);
  CAF_CHECK_EQUAL(next_probe_pause(250ms, 60s), 250ms);
}

CAF_TEST(a probe answers the status or 0 when nothing listens) {
  httplib::Server server;
  server.Get("/up", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  server.Get("/broken", [](const httplib::Request&, httplib::Response& res) { res.status = 503; });
  auto port = test::free_port();
  CAF_REQUIRE(server.bind_to_port("127.0.0.1", port));
  std::thread thread{[&] { server.listen_after_bind(); }};
  auto ready_by = std::chrono::steady_clock::now() + 5s;
  while (!server.is_running() && std::chrono::steady_clock::now() < ready_by)
    std::this_thread::yield();
  auto base = "http://127.0.0.1:" + std::to_string(port);
  CAF_CHECK_EQUAL(probe_http(base + "/up", 1000ms), 204);
  CAF_CHECK_EQUAL(probe_http(base + "/broken", 1000ms), 503);
  server.stop();
  thread.join();
  CAF_CHECK_EQUAL(probe_http(base + "/up", 1000ms), 0);
}
