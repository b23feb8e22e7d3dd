#define CAF_SUITE http.http_edge
#include <caf/test/unit_test.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <httplib.h>

#include "config/secret_box.hpp"
#include "http/http_edge.hpp"
#include "protocol/error.hpp"
#include "protocol/type_ids.hpp"
#include "tests/fixtures/services.hpp"

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
    auto box = secret_box::from_hex(std::string(64, 'a'));
    if (!box)
      CAF_FAIL("secret box: " << message_of(box.error()));
    auto db = open_store(dir + "/gilgal.db", std::make_shared<const secret_box>(*box));
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
