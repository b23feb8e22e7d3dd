#define CAF_SUITE http.http_edge
#include <caf/test/unit_test.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <vector>

#include "config/secret_box.hpp"
#include "http/http_edge.hpp"
#include "protocol/error.hpp"
#include "protocol/type_ids.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/storage/store_backends.hpp"

using namespace gilgal;

namespace {

/// The edge in-process: its actor contract (bind errors, stop on exit).
struct fixture {
  std::string dir = test::make_temp_dir("gilgal-edge");
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  http_services services;

  fixture() {
    add_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    auto db = open_store(dir + "/gilgal.db", test::test_cipher());
    if (!db)
      CAF_FAIL("store: " << message_of(db.error()));
    services.db = std::move(*db);
  }

  ~fixture() {
    sys.reset();
    test::remove_tree(dir);
  }

  settings at(int port) {
    settings s;
    s.listen = "127.0.0.1:" + std::to_string(port);
    s.data_dir = dir;
    return s;
  }

  void stop(const caf::actor& edge) {
    caf::scoped_actor self{*sys};
    self->monitor(edge);
    self->send_exit(edge, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {});
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(http_edge_tests, fixture)

CAF_TEST(serves until the actor exits) {
  auto port = test::free_port();
  auto edge = spawn_http_edge(*sys, at(port), services);
  CAF_REQUIRE(edge);
  httplib::Client cli{"127.0.0.1", port};
  cli.set_connection_timeout(2);
  auto res = cli.Get("/healthz");
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->status, 200);
  CAF_CHECK_EQUAL(res->body, R"({"status":"ok"})");
  stop(*edge);
  // The server stopped with the actor: the port no longer answers.
  httplib::Client after{"127.0.0.1", port};
  after.set_connection_timeout(1);
  CAF_CHECK(!after.Get("/healthz"));
}

CAF_TEST(a burst of connections is accepted at once) {
  // cpp-httplib's own backlog of 5 drops SYNs in a burst; the dropped
  // clients retry a second later. The edge listens with the system's maximum.
  auto port = test::free_port();
  auto edge = spawn_http_edge(*sys, at(port), services);
  CAF_REQUIRE(edge);
  constexpr int burst = 300;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<pollfd> fds;
  for (int i = 0; i < burst; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CAF_REQUIRE(fd >= 0);
    auto rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    CAF_REQUIRE(rc == 0 || errno == EINPROGRESS);
    fds.push_back(pollfd{fd, POLLOUT, 0});
  }
  // Every handshake completes well before the first SYN retry (1 s).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{800};
  size_t open = 0;
  std::vector<bool> done(fds.size(), false);
  while (open < fds.size() && std::chrono::steady_clock::now() < deadline) {
    std::vector<pollfd> waiting;
    std::vector<size_t> index;
    for (size_t i = 0; i < fds.size(); ++i)
      if (!done[i]) {
        waiting.push_back(fds[i]);
        index.push_back(i);
      }
    if (::poll(waiting.data(), waiting.size(), 50) < 0)
      break;
    for (size_t k = 0; k < waiting.size(); ++k)
      if (waiting[k].revents & POLLOUT) {
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(waiting[k].fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0) {
          done[index[k]] = true;
          ++open;
        }
      }
  }
  for (auto& p : fds)
    ::close(p.fd);
  CAF_CHECK_EQUAL(open, static_cast<size_t>(burst));
  stop(*edge);
}

CAF_TEST(a port in use is unavailable) {
  auto port = test::free_port();
  auto first = spawn_http_edge(*sys, at(port), services);
  CAF_REQUIRE(first);
  auto second = spawn_http_edge(*sys, at(port), services);
  CAF_REQUIRE(!second);
  CAF_CHECK_EQUAL(code_of(second.error()), errc::unavailable);
  stop(*first);
}

CAF_TEST(bad listen addresses are invalid arguments) {
  for (auto listen : {"127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", "127.0.0.1:-1"}) {
    auto s = at(0);
    s.listen = listen;
    auto edge = spawn_http_edge(*sys, s, services);
    CAF_CHECK(!edge && code_of(edge.error()) == errc::invalid_argument);
  }
}

CAF_TEST(port zero picks a free port and tells it) {
  auto edge = spawn_http_edge(*sys, at(0), services);
  CAF_REQUIRE(edge);
  int port = 0;
  {
    caf::scoped_actor self{*sys};
    self->request(*edge, std::chrono::seconds(5), caf::get_atom::value)
      .receive([&](int p) { port = p; }, [](caf::error&) {});
  }
  CAF_CHECK_GREATER(port, 0);
  httplib::Client cli{"127.0.0.1", port};
  auto res = cli.Get("/api/projects");
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->status, 401);
  stop(*edge);
}

CAF_TEST_FIXTURE_SCOPE_END()
