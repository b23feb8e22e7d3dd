#define CAF_SUITE http.nodes
#include <caf/test/unit_test.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "config/api_token.hpp"
#include "config/secret_box.hpp"
#include "http/http_edge.hpp"
#include "protocol/error.hpp"
#include "protocol/json.hpp"
#include "protocol/type_ids.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/http/api_support.hpp"
#include "tests/storage/store_backends.hpp"

using namespace gilgal;
using namespace gilgal::test;
using nlohmann::json;

namespace {

// -- the route in-process, against a stand-in scheduler ------------------------

/// Answers (list_atom, node_atom) with `nodes`; nothing else.
caf::behavior stand_in_scheduler(caf::event_based_actor*, std::vector<node_status> nodes) {
  return {[nodes](list_atom, node_atom) { return nodes; }};
}

struct edge_fixture {
  std::string dir = make_temp_dir("gilgal-nodes");
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  http_services services;
  std::string tok;
  caf::actor scheduler;
  caf::actor edge;
  std::unique_ptr<httplib::Client> cli;

  edge_fixture() {
    add_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    auto db = open_store(dir + "/gilgal.db", test::test_cipher());
    if (!db)
      CAF_FAIL("store: " << message_of(db.error()));
    services.db = std::move(*db);
    auto alice = services.db->create_user("alice");
    if (!alice)
      CAF_FAIL("user: " << message_of(alice.error()));
    auto issued = issue_token(alice->id);
    if (!services.db->add_token(issued.record))
      CAF_FAIL("token not stored");
    tok = issued.text;
  }

  ~edge_fixture() {
    cli.reset();
    {
      caf::scoped_actor self{*sys};
      for (auto& a : {edge, scheduler})
        if (a) {
          self->monitor(a);
          self->send_exit(a, caf::exit_reason::user_shutdown);
          self->receive([](const caf::down_msg&) {});
        }
    }
    edge = nullptr;
    scheduler = nullptr;
    services = {};
    sys.reset();
    remove_tree(dir);
  }

  /// Starts the edge with the scheduler stand-in (if any) on a free port.
  void start() {
    if (scheduler)
      services.scheduler = caf::actor_cast<scheduler_actor>(scheduler);
    settings s;
    auto port = free_port();
    s.listen = "127.0.0.1:" + std::to_string(port);
    s.data_dir = dir;
    auto e = spawn_http_edge(*sys, s, services);
    if (!e)
      CAF_FAIL("edge: " << message_of(e.error()));
    edge = *e;
    cli = std::make_unique<httplib::Client>("127.0.0.1", port);
    cli->set_connection_timeout(2);
    cli->set_read_timeout(20);
  }
};

node_status sample(std::string name, bool local) {
  node_status n;
  n.name = std::move(name);
  n.state = local ? "up" : "down";
  n.capacity = local ? 2 : 4;
  n.running_builds = local ? 1 : 0;
  n.running_runs = local ? 0 : 3;
  if (!local)
    n.labels = {{"arch", "arm64"}, {"gilgal.dev/gpu", ""}};
  n.last_heartbeat = "2026-11-27T04:31:17.123Z";
  n.joined_at = local ? "" : "2026-11-27T04:00:00.000Z";
  n.local = local;
  return n;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(nodes_route, edge_fixture)

CAF_TEST(without a scheduler the route answers 503 and still needs a token) {
  start();
  CAF_CHECK_EQUAL(call(*cli, "GET", "/api/nodes", "").status, 401);
  auto r = call(*cli, "GET", "/api/nodes", tok);
  CAF_CHECK_EQUAL(r.status, 503);
  CAF_CHECK_EQUAL(r.error_code(), "unavailable");
  CAF_CHECK_EQUAL(r.error_message(), "the scheduler is not running");
}

CAF_TEST(the scheduler nodes sorted by name in camelCase) {
  scheduler = sys->spawn(stand_in_scheduler,
                         std::vector<node_status>{sample("zeta", false), sample("local", true)});
  start();
  CAF_CHECK_EQUAL(call(*cli, "GET", "/api/nodes", "").status, 401);
  CAF_CHECK_EQUAL(call(*cli, "GET", "/api/nodes", "glg_nope_nope").status, 401);
  auto r = call(*cli, "GET", "/api/nodes", tok);
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_REQUIRE(r.body["nodes"].is_array());
  CAF_REQUIRE_EQUAL(r.body["nodes"].size(), 2u);
  auto local = r.body["nodes"][0];
  CAF_CHECK_EQUAL(local,
                  (json{{"name", "local"},
                        {"state", "up"},
                        {"capacity", 2},
                        {"runningBuilds", 1},
                        {"runningRuns", 0},
                        {"labels", json::object()},
                        {"address", nullptr},
                        {"lastHeartbeat", "2026-11-27T04:31:17.123Z"},
                        {"joinedAt", nullptr},
                        {"local", true}}));
  auto zeta = r.body["nodes"][1];
  CAF_CHECK_EQUAL(zeta["name"], "zeta");
  CAF_CHECK_EQUAL(zeta["state"], "down");
  CAF_CHECK_EQUAL(zeta["capacity"], 4);
  CAF_CHECK_EQUAL(zeta["runningRuns"], 3);
  CAF_CHECK_EQUAL(zeta["labels"], (json{{"arch", "arm64"}, {"gilgal.dev/gpu", ""}}));
  CAF_CHECK_EQUAL(zeta["joinedAt"], "2026-11-27T04:00:00.000Z");
  CAF_CHECK_EQUAL(zeta["local"], false);
  // The console's reader gives back what the scheduler sent.
  auto back = node_status_from_json(zeta);
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(back->name, "zeta");
  CAF_CHECK(back->labels == sample("zeta", false).labels);
  CAF_CHECK_EQUAL(back->running_runs, 3);
  // Only GET.
  CAF_CHECK_EQUAL(call(*cli, "POST", "/api/nodes", tok, json::object()).status, 405);
}

CAF_TEST(a scheduler that is gone answers 503) {
  scheduler = sys->spawn(stand_in_scheduler, std::vector<node_status>{});
  start();
  auto r = call(*cli, "GET", "/api/nodes", tok);
  CAF_CHECK_EQUAL(r.status, 200);
  CAF_CHECK_EQUAL(r.body, (json{{"nodes", json::array()}}));
  {
    caf::scoped_actor self{*sys};
    self->monitor(scheduler);
    self->send_exit(scheduler, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {});
  }
  scheduler = nullptr;
  r = call(*cli, "GET", "/api/nodes", tok);
  CAF_CHECK_EQUAL(r.status, 503);
  CAF_CHECK_EQUAL(r.error_code(), "unavailable");
}

CAF_TEST_FIXTURE_SCOPE_END()

// -- a real `gilgal serve` -------------------------------------------------------

namespace {

struct server_fixture {
  gilgal_server srv{[] {
    server_options o;
    o.extra_args = {"--max-concurrent-builds", "3"};
    return o;
  }()};
  std::unique_ptr<httplib::Client> cli = srv.client();
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(nodes_served, server_fixture)

CAF_TEST(the served list shows the in-process node) {
  CAF_CHECK_EQUAL(call(*cli, "GET", "/api/nodes", "").status, 401);
  auto r = call(*cli, "GET", "/api/nodes", srv.token());
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_REQUIRE(r.body["nodes"].is_array());
  CAF_REQUIRE_EQUAL(r.body["nodes"].size(), 1u);
  auto local = r.body["nodes"][0];
  CAF_CHECK_EQUAL(local["name"], "local");
  CAF_CHECK_EQUAL(local["state"], "up");
  CAF_CHECK_EQUAL(local["capacity"], 3);
  CAF_CHECK_EQUAL(local["runningBuilds"], 0);
  CAF_CHECK_EQUAL(local["local"], true);
  CAF_CHECK(local["lastHeartbeat"].is_string());
  CAF_CHECK(local["labels"].is_object());
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST(without the local node the list is empty) {
  server_options o;
  o.extra_args = {"--no-local-node"};
  gilgal_server bare{o};
  auto c = bare.client();
  auto r = call(*c, "GET", "/api/nodes", bare.token());
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_CHECK_EQUAL(r.body, (json{{"nodes", json::array()}}));
  auto res = bare.run({"nodes"});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK(res.out.find("no nodes") != std::string::npos);
}
