// nodes/http_post against a real HTTP server on 127.0.0.1 (cpp-httplib on a
// free port): what is sent, that a redirect is answered but never followed,
// that pinned addresses decide where a name connects (DNS plays no part), and
// that a server which does not answer in time is a failure, not a hang.
#define CAF_SUITE nodes.http_post
#include <caf/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include <httplib.h>

#include "nodes/http_post.hpp"
#include "protocol/error.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;
using clock_type = std::chrono::steady_clock;

namespace {

/// A server on 127.0.0.1: /hook answers 204 and remembers the request,
/// /moved answers 302 to /hook, /slow answers after 3 s.
struct receiver {
  httplib::Server server;
  int port = test::free_port();
  std::thread thread;
  std::atomic<int> hook_hits{0};
  std::string last_body;
  std::string last_signature;
  std::string last_host;

  receiver() {
    server.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      last_body = req.body;
      last_signature = req.get_header_value("X-Test-Signature");
      last_host = req.get_header_value("Host");
      ++hook_hits;
      res.status = 204;
    });
    server.Post("/moved", [this](const httplib::Request&, httplib::Response& res) {
      res.status = 302;
      res.set_header("Location", "http://127.0.0.1:" + std::to_string(port) + "/hook");
    });
    server.Post("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::seconds(3));
      res.status = 200;
    });
    if (!server.bind_to_port("127.0.0.1", port))
      throw std::runtime_error("cannot bind the receiver's port");
    thread = std::thread{[this] { server.listen_after_bind(); }};
    auto ready_by = clock_type::now() + std::chrono::seconds(5);
    while (!server.is_running() && clock_type::now() < ready_by)
      std::this_thread::yield();
  }

  ~receiver() {
    server.stop();
    thread.join();
  }

  std::string url(const std::string& host, const std::string& path) const {
    return "http://" + host + ":" + std::to_string(port) + path;
  }
};

} // namespace

CAF_TEST(the body and headers arrive and the status is returned) {
  receiver r;
  http_post_request req;
  req.url = r.url("127.0.0.1", "/hook");
  req.body = R"({"event":"deployment.succeeded"})";
  req.headers = {"Content-Type: application/json", "X-Test-Signature: sha256=abc"};
  auto status = http_post(req);
  CAF_REQUIRE(status);
  CAF_CHECK_EQUAL(*status, 204);
  CAF_CHECK_EQUAL(r.hook_hits.load(), 1);
  CAF_CHECK_EQUAL(r.last_body, req.body);
  CAF_CHECK_EQUAL(r.last_signature, "sha256=abc");
}

CAF_TEST(a redirect is returned and not followed) {
  receiver r;
  http_post_request req;
  req.url = r.url("127.0.0.1", "/moved");
  req.body = "{}";
  auto status = http_post(req);
  CAF_REQUIRE(status);
  CAF_CHECK_EQUAL(*status, 302);
  CAF_CHECK_EQUAL(r.hook_hits.load(), 0);
}

CAF_TEST(pinned addresses decide where a name connects) {
  receiver r;
  http_post_request req;
  // .invalid never resolves (RFC 6761): only the pin can make this connect.
  req.url = r.url("hooks.gilgal.invalid", "/hook");
  req.body = "{}";
  auto unpinned = http_post(req);
  CAF_CHECK(!unpinned);
  CAF_CHECK(code_of(unpinned.error()) == errc::unavailable);
  req.pinned = {"hooks.gilgal.invalid:" + std::to_string(r.port) + ":127.0.0.1"};
  auto pinned = http_post(req);
  CAF_REQUIRE(pinned);
  CAF_CHECK_EQUAL(*pinned, 204);
  CAF_CHECK_EQUAL(r.hook_hits.load(), 1);
  // The Host header still names the URL's host (virtual hosts keep working).
  CAF_CHECK_EQUAL(r.last_host, "hooks.gilgal.invalid:" + std::to_string(r.port));
}

CAF_TEST(no answer in time is a failure) {
  receiver r;
  http_post_request req;
  req.url = r.url("127.0.0.1", "/slow");
  req.body = "{}";
  req.timeout = std::chrono::milliseconds(500);
  auto started = clock_type::now();
  auto status = http_post(req);
  CAF_CHECK(!status);
  CAF_CHECK_LESS(clock_type::now() - started, std::chrono::seconds(3));
}
