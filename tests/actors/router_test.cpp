// The router against a real Caddy, a real SQLite store, the real logger and
// scheduler; only the node is a stand-in that records which containers it was
// told to stop (and when). Routes derived from the store, the switch of a
// route by one admin call, draining (idle, in flight, timeout), a switched
// deployment outliving a reconcile before its success is stored, and a Caddy
// of Gilgal's own brought back with its routes after a kill -9.
#define CAF_SUITE actors.router
#include <caf/test/unit_test.hpp>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <mutex>
#include <thread>

#include "actors/local_cluster.hpp"
#include "actors/logger.hpp"
#include "actors/router.hpp"
#include "actors/scheduler.hpp"
#include "config/secret_box.hpp"
#include "protocol/error.hpp"
#include "protocol/type_ids.hpp"
#include "proxy/caddy_config.hpp"
#include "proxy/caddy_process.hpp"
#include "storage/store.hpp"
#include "tests/fixtures/caddy_instance.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;
using namespace gilgal::test;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

struct config : caf::actor_system_config {
  config() {
    gilgal::add_message_types(*this);
  }
};

/// Containers the stand-in node runs, and those it was told to stop (with the time).
struct stops {
  std::mutex mtx;
  std::map<std::string, std::string> running; // container -> deployment
  std::vector<std::pair<std::string, clock_type::time_point>> seen;

  void run(const std::string& container, const std::string& deployment_id) {
    std::lock_guard<std::mutex> guard{mtx};
    running[container] = deployment_id;
  }

  bool has(const std::string& id) {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& s : seen)
      if (s.first == id)
        return true;
    return false;
  }

  clock_type::time_point when(const std::string& id) {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& s : seen)
      if (s.first == id)
        return s.second;
    return {};
  }
};

node_actor::behavior_type recording_node(node_actor::pointer, std::shared_ptr<stops> rec) {
  return {
    [=](new_atom, build_atom) -> caf::result<builder_actor> {
      return make_error(errc::unavailable, "not in this test");
    },
    [=](new_atom, run_atom) -> caf::result<runner_actor> {
      return make_error(errc::unavailable, "not in this test");
    },
    [=](stop_atom, const std::string& id) {
      std::lock_guard<std::mutex> guard{rec->mtx};
      rec->seen.emplace_back(id, clock_type::now());
      return rec->running.erase(id) > 0;
    },
    [=](retire_atom, const std::string&, const std::string&) { return int64_t{0}; },
    [=](list_atom) {
      std::lock_guard<std::mutex> guard{rec->mtx};
      return rec->running;
    },
    [=](health_atom, const std::string&) -> caf::result<container_health> {
      return make_error(errc::not_found, "no container");
    },
    [=](retain_atom, const std::string&, const std::set<std::string>&) { return int64_t{0}; },
    [=](logs_atom, const std::string&, const container_log_query&)
      -> caf::result<container_log_batch> {
      return make_error(errc::not_found, "no container");
    },
    [=](control_atom, const container_command&) -> caf::result<container_health> {
      return make_error(errc::not_found, "no container");
    },
  };
}

struct fixture {
  std::string dir = make_temp_dir("gilgal-router");
  std::shared_ptr<store> db;
  config cfg;
  caf::actor_system sys{cfg};
  logger_actor logger;
  scheduler_actor cluster;
  std::shared_ptr<stops> stopped = std::make_shared<stops>();
  std::string project_id;
  std::vector<caf::actor> actors;

  fixture() {
    auto box = secret_box::from_hex(std::string(64, 'e'));
    auto opened = open_store(dir + "/gilgal.db", std::make_shared<const secret_box>(*box));
    CAF_REQUIRE(opened);
    db = std::move(*opened);
    logger = spawn_logger(sys, db);
    cluster = spawn_scheduler(sys);
    node_actor node = sys.spawn(recording_node, stopped);
    CAF_REQUIRE(!join_local_node(sys, cluster, node, node_info{"local", 1, {}, {}}));
    actors = {caf::actor_cast<caf::actor>(logger), caf::actor_cast<caf::actor>(cluster),
              caf::actor_cast<caf::actor>(node)};
    auto u = db->create_user("router");
    CAF_REQUIRE(u);
    project p;
    p.owner_id = u->id;
    p.name = "shop";
    p.repository_url = "https://example.com/shop.git";
    auto pp = db->create_project(p);
    CAF_REQUIRE(pp);
    project_id = pp->id;
  }

  ~fixture() {
    for (auto& a : actors)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    remove_tree(dir);
  }

  std::string make_environment(const std::string& name, const std::string& domain = {}) {
    environment e;
    e.project_id = project_id;
    e.name = name;
    e.domain = domain;
    auto ee = db->create_environment(e);
    CAF_REQUIRE(ee);
    return ee->id;
  }

  /// A deployment of `env` with a container on `port`; stored as a success
  /// when `success` (else left pending, as one being switched in).
  deployment make_deployment(const std::string& env, const std::string& container, int port,
                             bool success) {
    deployment d;
    d.project_id = project_id;
    d.environment_id = env;
    d.commit_sha = "0123456789abcdef0123456789abcdef01234567";
    auto dd = db->create_deployment(d);
    CAF_REQUIRE(dd);
    dd->container_id = container;
    dd->port = port;
    dd->run_node = "local";
    if (success)
      dd->status = deployment_status::success;
    CAF_REQUIRE(db->update_deployment(*dd));
    stopped->run(container, dd->id);
    return *dd;
  }

  router_config routing(const caddy_instance& caddy) {
    router_config c;
    c.db = db;
    c.scheduler = cluster;
    c.log = logger;
    c.enabled = true;
    c.proxy.http_listen = "127.0.0.1:" + std::to_string(caddy.http_port());
    c.proxy.admin_listen = caddy.admin_address();
    c.proxy.storage_dir = caddy.dir() + "/storage";
    c.check_interval = 100ms;
    c.drain_poll = 20ms;
    return c;
  }

  router_actor start_router(router_config c) {
    auto r = spawn_router(sys, std::move(c));
    actors.push_back(caf::actor_cast<caf::actor>(r));
    return r;
  }

  caf::expected<int64_t> reconcile(const router_actor& r) {
    caf::scoped_actor self{sys};
    caf::expected<int64_t> out{make_error(errc::timeout, "no answer")};
    self->request(r, 30s, reconcile_atom::value)
      .receive([&](int64_t n) { out = n; }, [&](const caf::error& err) { out = err; });
    return out;
  }

  caf::expected<bool> route(const router_actor& r, const deployment& d) {
    caf::scoped_actor self{sys};
    caf::expected<bool> out{make_error(errc::timeout, "no answer")};
    self->request(r, 30s, route_atom::value, d)
      .receive([&](bool b) { out = b; }, [&](const caf::error& err) { out = err; });
    return out;
  }

  /// The deployment's stored log (after the logger flushed).
  std::vector<std::string> log_of(const std::string& deployment_id) {
    caf::scoped_actor self{sys};
    self->request(logger, 10s, flush_atom::value).receive([](bool) {}, [](const caf::error&) {});
    std::vector<std::string> out;
    if (auto lines = db->list_logs(deployment_id, page_request{1, 100}))
      for (auto& l : lines->items)
        out.push_back(l.message);
    return out;
  }

  bool log_has(const std::string& deployment_id, const std::string& text) {
    for (auto& m : log_of(deployment_id))
      if (m.find(text) != std::string::npos)
        return true;
    return false;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(router_tests, fixture)

CAF_TEST(routes come from the store for live and stopped environments and unknown hosts) {
  caddy_instance caddy;
  text_backend one{"one"};
  auto prod = make_environment("production");
  make_environment("staging");
  make_environment("web", "shop.example.com");
  make_deployment(prod, "c-one", one.port(), true);
  auto r = start_router(routing(caddy));
  auto n = reconcile(r);
  CAF_REQUIRE(n);
  CAF_CHECK_EQUAL(*n, 3);
  auto live = get_with_host(caddy.http_port(), "production-shop.localhost");
  CAF_CHECK_EQUAL(live.status, 200);
  CAF_CHECK_EQUAL(live.body, "one");
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "staging-shop.localhost").status, 503);
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "shop.example.com").body,
                  proxy::unavailable_page());
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "nobody.localhost").status, 404);
  // Deleting the environment takes its host away.
  CAF_REQUIRE(db->delete_environment(prod));
  CAF_REQUIRE(reconcile(r));
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "production-shop.localhost").status, 404);
}

CAF_TEST(a switch moves the upstream and the idle previous container is stopped) {
  caddy_instance caddy;
  text_backend one{"one"};
  text_backend two{"two"};
  auto env = make_environment("production", "shop.example.com");
  make_deployment(env, "c-one", one.port(), true);
  auto r = start_router(routing(caddy));
  CAF_REQUIRE(reconcile(r));
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "shop.example.com").body, "one");
  auto next = make_deployment(env, "c-two", two.port(), false);
  auto switched = route(r, next);
  CAF_REQUIRE(switched);
  CAF_CHECK(*switched);
  // Once the switch is reported, every answer is the new version's.
  for (int i = 0; i < 20; ++i)
    CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "shop.example.com").body, "two");
  CAF_REQUIRE(eventually([&] { return stopped->has("c-one"); }, 5s));
  CAF_CHECK(!stopped->has("c-two"));
  CAF_CHECK(log_has(next.id, "Routing shop.example.com → container c-two (node local, port "
                               + std::to_string(two.port()) + ")"));
  CAF_CHECK(eventually([&] { return log_has(next.id, "Previous container drained and stopped after"); }));
  // A reconcile before the success is stored keeps the switched deployment.
  CAF_REQUIRE(reconcile(r));
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "shop.example.com").body, "two");
}

CAF_TEST(a stopped environment shows the 503 page until a deployment is routed again) {
  caddy_instance caddy;
  text_backend one{"one"};
  text_backend two{"two"};
  auto env = make_environment("production", "shop.example.com");
  make_deployment(env, "c-one", one.port(), true);
  auto r = start_router(routing(caddy));
  CAF_REQUIRE(reconcile(r));
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "shop.example.com").body, "one");
  caf::scoped_actor self{sys};
  caf::expected<bool> stopped_route{make_error(errc::timeout, "no answer")};
  self->request(r, 30s, stop_atom::value, env)
    .receive([&](bool b) { stopped_route = b; },
             [&](const caf::error& err) { stopped_route = err; });
  CAF_REQUIRE(stopped_route);
  CAF_CHECK(*stopped_route);
  auto page = get_with_host(caddy.http_port(), "shop.example.com");
  CAF_CHECK_EQUAL(page.status, 503);
  CAF_CHECK_EQUAL(page.body, proxy::unavailable_page());
  // The store still names c-one live: a reconcile keeps the page.
  CAF_REQUIRE(reconcile(r));
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "shop.example.com").status, 503);
  // The caller stops the containers; the router stops none of its own.
  CAF_CHECK(!stopped->has("c-one"));
  // A deployment routed to it brings it back, replacing nothing.
  auto next = make_deployment(env, "c-two", two.port(), false);
  auto switched = route(r, next);
  CAF_REQUIRE(switched);
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "shop.example.com").body, "two");
  std::this_thread::sleep_for(200ms); // several drain polls (20 ms): none retires c-one
  CAF_CHECK(!stopped->has("c-one"));
}

CAF_TEST(a stop stored in the store outlasts the router and a start routes the live one again) {
  caddy_instance caddy;
  text_backend one{"one"};
  text_backend two{"two"};
  auto env = make_environment("production", "shop.example.com");
  auto live = make_deployment(env, "c-one", one.port(), true);
  // Stopped through the API before this router started (a restart of serve).
  CAF_REQUIRE(db->set_stopped_deployment(env, live.id));
  auto r = start_router(routing(caddy));
  CAF_REQUIRE(reconcile(r));
  auto page = get_with_host(caddy.http_port(), "shop.example.com");
  CAF_CHECK_EQUAL(page.status, 503);
  CAF_CHECK_EQUAL(page.body, proxy::unavailable_page());
  // A start clears the stored stop, then routes the live deployment again.
  CAF_REQUIRE(db->set_stopped_deployment(env, ""));
  auto back = route(r, live);
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "shop.example.com").body, "one");
  CAF_REQUIRE(reconcile(r));
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "shop.example.com").body, "one");
  // Stopped again; a newer deployment switched in before its success is
  // stored is not hidden by the older stored stop.
  CAF_REQUIRE(db->set_stopped_deployment(env, live.id));
  CAF_REQUIRE(reconcile(r));
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "shop.example.com").status, 503);
  auto next = make_deployment(env, "c-two", two.port(), false);
  CAF_REQUIRE(route(r, next));
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "shop.example.com").body, "two");
  CAF_REQUIRE(reconcile(r));
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "shop.example.com").body, "two");
}

CAF_TEST(the previous container is stopped only after its request in flight) {
  caddy_instance caddy;
  text_backend slow{"slow", 1500ms};
  text_backend fast{"fast"};
  auto env = make_environment("production");
  make_deployment(env, "c-slow", slow.port(), true);
  auto r = start_router(routing(caddy));
  CAF_REQUIRE(reconcile(r));
  http_answer in_flight;
  clock_type::time_point answered;
  std::thread visitor{[&] {
    in_flight = get_with_host(caddy.http_port(), "production-shop.localhost");
    answered = clock_type::now();
  }};
  auto admin = caddy.admin();
  CAF_REQUIRE(eventually([&] {
    auto n = admin.upstream_requests();
    return n && n->count(slow.address()) && n->at(slow.address()) == 1;
  }));
  auto next = make_deployment(env, "c-fast", fast.port(), false);
  CAF_REQUIRE(route(r, next));
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "production-shop.localhost").body, "fast");
  CAF_CHECK(!stopped->has("c-slow"));
  visitor.join();
  CAF_CHECK_EQUAL(in_flight.status, 200);
  CAF_CHECK_EQUAL(in_flight.body, "slow");
  CAF_REQUIRE(eventually([&] { return stopped->has("c-slow"); }, 5s));
  CAF_CHECK(stopped->when("c-slow") >= answered - 50ms);
  // Requests go to the live container alone; the drained one is still only
  // counted: removing it would cost Caddy a reload.
  auto handlers = [&] {
    auto cfg = admin.config();
    CAF_REQUIRE(cfg);
    return (*cfg)["apps"]["http"]["servers"]["gilgal"]["routes"][0]["handle"];
  };
  auto h = handlers();
  CAF_CHECK_EQUAL(h[0]["upstreams"], proxy::upstreams_json({fast.address()}));
  CAF_CHECK_EQUAL(h[1]["upstreams"], proxy::upstreams_json({slow.address()}));
  // The next switch drops it: only the container it replaces is counted.
  text_backend third{"third"};
  CAF_REQUIRE(route(r, make_deployment(env, "c-third", third.port(), false)));
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "production-shop.localhost").body, "third");
  h = handlers();
  CAF_CHECK_EQUAL(h[0]["upstreams"], proxy::upstreams_json({third.address()}));
  CAF_CHECK_EQUAL(h[1]["upstreams"], proxy::upstreams_json({fast.address()}));
}

CAF_TEST(a request longer than the drain timeout does not keep the container) {
  caddy_instance caddy;
  text_backend slow{"slow", 4000ms};
  text_backend fast{"fast"};
  auto env = make_environment("production");
  make_deployment(env, "c-slow", slow.port(), true);
  auto c = routing(caddy);
  c.drain_timeout = 1s;
  auto r = start_router(c);
  CAF_REQUIRE(reconcile(r));
  std::thread visitor{[&] { get_with_host(caddy.http_port(), "production-shop.localhost"); }};
  auto admin = caddy.admin();
  CAF_REQUIRE(eventually([&] {
    auto n = admin.upstream_requests();
    return n && n->count(slow.address()) && n->at(slow.address()) == 1;
  }));
  auto next = make_deployment(env, "c-fast", fast.port(), false);
  auto before = clock_type::now();
  CAF_REQUIRE(route(r, next));
  CAF_REQUIRE(eventually([&] { return stopped->has("c-slow"); }, 3s));
  auto waited = stopped->when("c-slow") - before;
  CAF_CHECK(waited >= 900ms);
  CAF_CHECK(waited < 3000ms);
  CAF_CHECK(eventually([&] { return log_has(next.id, "after the drain timeout"); }));
  visitor.join();
}

CAF_TEST(gilgals own caddy is adopted and brought back with its routes after a kill) {
  text_backend one{"one"};
  auto env = make_environment("production");
  make_deployment(env, "c-one", one.port(), true);
  auto caddy_dir = dir + "/caddy";
  std::filesystem::create_directories(caddy_dir);
  router_config c;
  c.db = db;
  c.scheduler = cluster;
  c.log = logger;
  c.enabled = true;
  auto port = free_port();
  c.proxy.http_listen = "127.0.0.1:" + std::to_string(port);
  c.proxy.admin_listen = "unix/" + caddy_dir + "/admin.sock";
  c.proxy.storage_dir = caddy_dir + "/storage";
  c.proxy.log_file = caddy_dir + "/caddy.log";
  c.supervise = true;
  c.caddy_log = c.proxy.log_file;
  c.launch.config_file = caddy_dir + "/config.json";
  c.launch.pid_file = caddy_dir + "/caddy.pid";
  c.launch.output_file = c.proxy.log_file;
  c.launch.env = {{"HOME", caddy_dir}, {"XDG_DATA_HOME", caddy_dir + "/data"},
                  {"XDG_CONFIG_HOME", caddy_dir + "/config"}};
  c.check_interval = 100ms;
  auto pid_now = [&] { return proxy::running_caddy(c.launch.pid_file); };
  struct killer { // whatever happens, no Caddy is left behind
    std::function<pid_t()> pid;
    ~killer() { if (auto p = pid(); p > 0) ::kill(p, SIGKILL); }
  } cleanup{pid_now};
  auto r = start_router(c);
  CAF_REQUIRE(reconcile(r));
  CAF_CHECK_EQUAL(get_with_host(port, "production-shop.localhost").body, "one");
  auto first = pid_now();
  CAF_REQUIRE(first > 0);
  // A second router (a restarted Gilgal) adopts it: no second Caddy.
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  auto again = start_router(c);
  CAF_REQUIRE(reconcile(again));
  CAF_CHECK_EQUAL(pid_now(), first);
  // Killed, it is started again and serves the routes within 5 s.
  ::kill(first, SIGKILL);
  auto killed = clock_type::now();
  CAF_REQUIRE(eventually([&] { return !proxy::process_alive(first); }));
  CAF_REQUIRE(eventually(
    [&] { return get_with_host(port, "production-shop.localhost").body == "one"; }, 5s));
  CAF_MESSAGE("routes back " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                  clock_type::now() - killed).count() << " ms after the kill");
  CAF_CHECK(pid_now() > 0);
  CAF_CHECK(pid_now() != first);
}

CAF_TEST_FIXTURE_SCOPE_END()
