// The HTTP edge's front (http/http_edge_server.hpp) against a real
// `gilgal serve`: request heads and bodies that would make cpp-httplib buffer
// without bound, or hold a worker thread, are refused without being read, and
// the server stays small and responsive.
#define CAF_SUITE http.http_edge_server
#include <caf/test/unit_test.hpp>

#include <fstream>

#include "http/http_edge_server.hpp"
#include "tests/http/api_support.hpp"
#include "tests/http/raw_client.hpp"

using namespace gilgal;
using namespace gilgal::test;

namespace {

constexpr size_t mib = 1 << 20;
using clock_type = std::chrono::steady_clock;

/// Resets the server's peak RSS (VmHWM) to its current RSS.
void reset_peak(int pid) {
  std::ofstream{"/proc/" + std::to_string(pid) + "/clear_refs"} << "5";
}

/// Answers within `limit`: /healthz and an authenticated API list.
void check_responsive(gilgal_server& srv, std::chrono::milliseconds limit) {
  auto cli = srv.client();
  for (auto path : {"/healthz", "/api/projects"}) {
    auto start = clock_type::now();
    auto r = call(*cli, "GET", path, srv.token());
    auto took = clock_type::now() - start;
    CHECK_WHY(r.status == 200, std::string{path} + ": " + r.describe());
    CHECK_WHY(took < limit, std::string{path} + " took "
                              + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(took).count())
                              + " ms");
  }
}

struct fixture {
  gilgal_server srv;
};

} // namespace

CAF_TEST(heads are inspected before httplib reads them) {
  auto ok = inspect_head("POST /api/projects HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n",
                         1024);
  CAF_CHECK_EQUAL(ok.status, 0);
  CAF_CHECK_EQUAL(ok.body_bytes, 12u);
  CAF_CHECK_EQUAL(inspect_head("GET / HTTP/1.1\r\n\r\n", 1024).body_bytes, 0u);
  CAF_CHECK_EQUAL(inspect_head("POST / HTTP/1.1\r\ntransfer-ENCODING: chunked\r\n\r\n", 1024).status,
                  411);
  CAF_CHECK_EQUAL(inspect_head("GET / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", 1024).status,
                  411);
  CAF_CHECK_EQUAL(inspect_head("POST / HTTP/1.1\r\nContent-Length: 1025\r\n\r\n", 1024).status, 413);
  CAF_CHECK_EQUAL(inspect_head("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 1024).status, 400);
  CAF_CHECK_EQUAL(inspect_head("POST / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n", 1024).status, 400);
  CAF_CHECK_EQUAL(
    inspect_head("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 1024).status,
    400);
  CAF_CHECK_EQUAL(
    inspect_head("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 1024).status,
    400);
  // The reason never echoes what the client sent.
  auto refused = inspect_head("POST / HTTP/1.1\r\nTransfer-Encoding: s3cr3t\r\n\r\n", 1024);
  CAF_CHECK_EQUAL(refused.reason.find("s3cr3t"), std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE(http_edge_server_tests, fixture)

CAF_TEST(a 50 MB chunked body and a 100 MB header line are refused unread) {
  check_responsive(srv, std::chrono::seconds(1)); // warm: the idle size includes a served request
  auto idle_kb = proc_status_kb(srv.pid(), "VmRSS");
  CAF_REQUIRE_GREATER(idle_kb, 0);
  reset_peak(srv.pid());

  // A chunked body of 50 MB in chunks of 1 MiB.
  std::string chunk = "100000\r\n" + std::string(mib, 'x') + "\r\n";
  size_t body_bytes = 50 * chunk.size() + 5;
  {
    raw_connection c{srv.port()};
    CAF_REQUIRE(c.connected());
    size_t sent = 0;
    auto answer = c.send_until_answer(
      "POST /api/projects HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + srv.token()
        + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
      body_bytes,
      [&](size_t wanted) { return wanted <= 5 ? std::string{"0\r\n\r\n"}.substr(5 - wanted) : chunk; },
      sent, std::chrono::seconds(5));
    CHECK_WHY(status_of(answer) == 411, answer.substr(0, 200));
    CHECK_WHY(answer.find("Content-Length") != std::string::npos, answer.substr(0, 200));
    CAF_MESSAGE("chunked attack: " << sent / mib << " MiB of " << body_bytes / mib
                                   << " sent before the answer");
    CAF_CHECK_LESS(sent, body_bytes);
  }
  // A header line of 100 MB.
  std::string filler(mib, 'a');
  size_t line_bytes = 100 * mib;
  {
    raw_connection c{srv.port()};
    CAF_REQUIRE(c.connected());
    size_t sent = 0;
    auto answer = c.send_until_answer(
      "GET /api/projects HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Endless: ", line_bytes,
      [&](size_t) { return filler; }, sent, std::chrono::seconds(5));
    CHECK_WHY(status_of(answer) == 431, answer.substr(0, 200));
    CAF_CHECK_LESS(sent, line_bytes);
  }
  // So is a request line of 100 MB (414).
  {
    raw_connection c{srv.port()};
    CAF_REQUIRE(c.connected());
    size_t sent = 0;
    auto answer = c.send_until_answer("GET /", line_bytes, [&](size_t) { return filler; }, sent,
                                      std::chrono::seconds(5));
    CHECK_WHY(status_of(answer) == 414, answer.substr(0, 200));
  }
  auto peak_kb = proc_status_kb(srv.pid(), "VmHWM");
  CAF_MESSAGE("server RSS idle " << idle_kb / 1024 << " MB, peak during the attacks "
                                 << peak_kb / 1024 << " MB");
  CAF_CHECK_LESS(peak_kb - idle_kb, 100 * 1024);
  CAF_CHECK(srv.running());
  check_responsive(srv, std::chrono::seconds(1));
  CAF_CHECK(srv.log().find(srv.token()) == std::string::npos);
}

CAF_TEST(a declared body over the limit is refused before it is sent) {
  raw_connection c{srv.port()};
  CAF_REQUIRE(c.connected());
  CAF_REQUIRE(c.send_all("POST /api/projects HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                         + srv.token() + "\r\nContent-Length: 2000000000\r\n\r\n"));
  auto answer = c.read_head(clock_type::now() + std::chrono::seconds(2));
  CHECK_WHY(status_of(answer) == 413, answer.substr(0, 200));
  check_responsive(srv, std::chrono::seconds(1));
}

CAF_TEST(a body without content length is empty instead of read until the client leaves) {
  raw_connection c{srv.port()};
  CAF_REQUIRE(c.connected());
  auto start = clock_type::now();
  // The connection stays open and silent after the head.
  CAF_REQUIRE(c.send_all("POST /api/projects HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                         + srv.token() + "\r\nContent-Type: application/json\r\n\r\n"));
  auto answer = c.read_head(clock_type::now() + std::chrono::seconds(3));
  CHECK_WHY(status_of(answer) == 400, answer.substr(0, 200));
  CAF_CHECK_LESS(clock_type::now() - start, std::chrono::seconds(1));
}

CAF_TEST(keep alive requests are each inspected) {
  raw_connection c{srv.port()};
  CAF_REQUIRE(c.connected());
  // Two pipelined requests: a good one, then one with a chunked body.
  CAF_REQUIRE(c.send_all("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                         "POST /api/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
  auto all = c.read_rest(clock_type::now() + std::chrono::seconds(3));
  CHECK_WHY(status_of(all) == 200, all.substr(0, 300));
  auto second = all.find("HTTP/1.1 ", 9);
  CAF_REQUIRE(second != std::string::npos);
  CHECK_WHY(status_of(all.substr(second)) == 411, all.substr(0, 600));
}

CAF_TEST(a head that never ends is cut off) {
  raw_connection c{srv.port()};
  CAF_REQUIRE(c.connected());
  auto start = clock_type::now();
  CAF_REQUIRE(c.send_all("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
  // Nothing more: the front answers 408 at its head timeout (10 s) and closes.
  auto answer = c.read_head(clock_type::now() + std::chrono::seconds(15));
  auto took = clock_type::now() - start;
  CHECK_WHY(status_of(answer) == 408, answer.substr(0, 200));
  CAF_CHECK_LESS(took, std::chrono::seconds(12));
  check_responsive(srv, std::chrono::seconds(1));
}

CAF_TEST_FIXTURE_SCOPE_END()
