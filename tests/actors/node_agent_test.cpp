// A node joining a control plane over CAF's middleman on loopback: two actor
// systems in one process, the real gatekeeper (published by
// open_cluster_listener) and node agent, stand-ins for the scheduler, the
// logger and the node. Proves that the typed handles of the join (node_actor,
// builder_actor, logger_actor) work across the wire in both directions.
#define CAF_SUITE actors.node_agent
#include <caf/test/unit_test.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/logger_relay.hpp"
#include "actors/node_agent.hpp"
#include "cli/cluster_config.hpp"
#include "cli/cluster_listener.hpp"
#include "protocol/error.hpp"
#include "protocol/type_ids.hpp"

using namespace gilgal;
using namespace std::chrono_literals;

namespace {

const std::string secret = "a-cluster-secret-of-32-bytes-ok!";

/// Everything the stand-ins and callbacks saw, shared across threads.
struct probe {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<node_info> joined;    // as the scheduler stand-in got them
  std::vector<node_actor> nodes;    // the handles it got (proxies)
  std::vector<std::string> heartbeats;
  std::vector<std::string> log_lines;
  int agent_joins = 0;              // on_joined calls
  std::vector<caf::error> refusals; // on_refused calls

  template <class F>
  void update(F f) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      f();
    }
    cv.notify_all();
  }

  /// Waits until `pred()` (called under the lock) holds; false at the deadline.
  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds deadline = 10s) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, deadline, pred);
  }
};

struct test_system {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;

  explicit test_system(const settings& s) {
    add_message_types(cfg);
    cfg.set("scheduler.max-threads", 2);
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    auto ok = cli::configure_cluster(cfg, s);
    CAF_REQUIRE(ok);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

/// The control plane's side: stand-in scheduler and logger, real gatekeeper.
struct control_plane {
  test_system ts;
  caf::actor scheduler;
  caf::actor logger;
  uint16_t port = 0;
  std::shared_ptr<admitted_nodes> admitted; // what the gatekeeper admitted

  control_plane(std::shared_ptr<probe> p, uint16_t wanted_port) : ts(plane_settings()) {
    scheduler = ts.sys->spawn([p]() -> caf::behavior {
      return {
        [p](join_atom, const node_info& info, const node_actor& node) {
          p->update([&] {
            p->joined.push_back(info);
            p->nodes.push_back(node);
          });
          return true;
        },
        [p](heartbeat_atom, const std::string& name) {
          p->update([&] { p->heartbeats.push_back(name); });
        },
      };
    });
    logger = ts.sys->spawn([p]() -> caf::behavior {
      return {
        [p](log_atom, const std::string&, const std::string&, const std::string& text) {
          p->update([&] { p->log_lines.push_back(text); });
        },
      };
    });
    auto s = plane_settings();
    s.cluster_listen = "127.0.0.1:" + std::to_string(wanted_port);
    admitted = std::make_shared<admitted_nodes>();
    auto bound = cli::open_cluster_listener(*ts.sys, s, caf::actor_cast<scheduler_actor>(scheduler),
                                            caf::actor_cast<logger_actor>(logger),
                                            deployment_store_actor{}, admitted);
    if (!bound)
      CAF_FAIL("open_cluster_listener: " << message_of(bound.error())
                                         << ts.sys->render(bound.error()));
    port = *bound;
  }

  static settings plane_settings() {
    settings s;
    s.cluster_secret = secret;
    return s;
  }

  /// Stops the stand-ins (the gatekeeper follows) and the whole system.
  void shut_down(probe& p) {
    p.update([&] { p.nodes.clear(); }); // proxies must die before their system
    caf::anon_send_exit(scheduler, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(logger, caf::exit_reason::user_shutdown);
    scheduler = nullptr;
    logger = nullptr;
    ts.sys.reset();
  }
};

builder_actor::behavior_type fake_builder(builder_actor::pointer self, logger_actor log) {
  return {
    [self, log](build_atom, const build_job& job) {
      self->send(log, log_atom::value, job.deployment_id, std::string{"info"},
                 std::string{"step 1"});
      self->send(log, log_atom::value, job.deployment_id, std::string{"info"},
                 std::string{"step 2"});
      build_result res;
      res.image_name = "gilgal-built-on-n1";
      self->quit();
      return res;
    },
  };
}

node_actor::behavior_type fake_node(node_actor::pointer self, logger_actor log) {
  return {
    [self, log](new_atom, build_atom) -> builder_actor { return self->spawn(fake_builder, log); },
    [](new_atom, run_atom) -> caf::result<runner_actor> {
      return make_error(errc::unavailable, "no runner here");
    },
    [](stop_atom, const std::string&) { return false; },
    [](retire_atom, const std::string&, const std::string&) { return int64_t{0}; },
    [](list_atom) { return std::map<std::string, std::string>{{"c1", "d1"}}; },
    [](health_atom, const std::string&) -> caf::result<container_health> {
      return make_error(errc::not_found, "no such container");
    },
    [](retain_atom, const std::string&, const std::set<std::string>&) { return int64_t{0}; },
    [](logs_atom, const std::string&, const gilgal::container_log_query&)
      -> caf::result<gilgal::container_log_batch> {
      return gilgal::make_error(gilgal::errc::not_found, "no such container");
    },
    [](control_atom, const gilgal::container_command&) -> caf::result<gilgal::container_health> {
      return gilgal::make_error(gilgal::errc::not_found, "no such container");
    },
  };
}

/// The node's side: relay, fake node, and agents.
struct node_process {
  test_system ts;
  logger_relay_actor relay;
  node_actor node;
  std::vector<caf::actor> agents;

  node_process() : ts(settings{}) {
    relay = spawn_logger_relay(*ts.sys);
    node = ts.sys->spawn(fake_node, logger_actor{relay});
  }

  void start_agent(std::shared_ptr<probe> p, uint16_t port, const std::string& name,
                   const std::string& key) {
    node_agent_config cfg;
    cfg.host = "127.0.0.1";
    cfg.port = port;
    cfg.secret = key;
    cfg.info.name = name;
    cfg.info.capacity = 2;
    cfg.info.labels = {{"zone", "a"}};
    cfg.node = node;
    cfg.relay = relay;
    cfg.heartbeat_interval = 100ms;
    cfg.min_backoff = 100ms;
    cfg.max_backoff = 500ms;
    cfg.on_joined = [p] { p->update([&] { ++p->agent_joins; }); };
    cfg.on_refused = [p](const caf::error& err) { p->update([&] { p->refusals.push_back(err); }); };
    agents.push_back(spawn_node_agent(*ts.sys, std::move(cfg)));
  }

  ~node_process() {
    for (auto& a : agents)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(relay, caf::exit_reason::user_shutdown);
  }
};

} // namespace

CAF_TEST(a joined node is reachable through its handle and builds log to the control plane) {
  auto p = std::make_shared<probe>();
  control_plane plane{p, 0};
  CAF_REQUIRE(plane.port != 0);
  {
    node_process nodes;
    nodes.start_agent(p, plane.port, "n1", secret);
    CAF_REQUIRE(p->wait([&] { return p->agent_joins == 1 && p->nodes.size() == 1; }));
    CAF_CHECK_EQUAL(p->joined[0].name, "n1");
    CAF_CHECK_EQUAL(p->joined[0].capacity, 2);
    CAF_CHECK_EQUAL(p->joined[0].labels.at("zone"), "a");
    node_actor remote = p->nodes[0];
    {
      caf::scoped_actor self{*plane.ts.sys};
      // node_actor across the wire: list_atom answered by the node's system.
      self->request(remote, 5s, list_atom::value)
        .receive(
          [](const std::map<std::string, std::string>& containers) {
            CAF_CHECK_EQUAL(containers.size(), 1u);
            CAF_CHECK_EQUAL(containers.at("c1"), "d1");
          },
          [&](const caf::error& err) { CAF_FAIL("list failed: " << plane.ts.sys->render(err)); });
      // builder_actor handed out by the remote node; its log lines reach the
      // control plane's logger (logger_actor handed to the node at join).
      builder_actor builder;
      self->request(remote, 5s, new_atom::value, build_atom::value)
        .receive([&](builder_actor& b) { builder = std::move(b); },
                 [&](const caf::error& err) {
                   CAF_FAIL("new builder failed: " << plane.ts.sys->render(err));
                 });
      CAF_REQUIRE(builder);
      build_job job;
      job.deployment_id = "d-remote";
      self->request(builder, 5s, build_atom::value, job)
        .receive([](const build_result& res) { CAF_CHECK_EQUAL(res.image_name, "gilgal-built-on-n1"); },
                 [&](const caf::error& err) {
                   CAF_FAIL("build failed: " << plane.ts.sys->render(err));
                 });
      // Errors of our category travel too.
      self->request(remote, 5s, health_atom::value, std::string{"nope"})
        .receive([](const container_health&) { CAF_FAIL("health of a missing container"); },
                 [](const caf::error& err) { CAF_CHECK(code_of(err) == errc::not_found); });
    }
    remote = nullptr;
    CAF_CHECK(p->wait([&] { return p->log_lines.size() == 2; }));
    CAF_CHECK_EQUAL(p->log_lines, (std::vector<std::string>{"step 1", "step 2"}));
    CAF_CHECK(p->wait([&] { return p->heartbeats.size() >= 3; }));
    CAF_CHECK_EQUAL(p->heartbeats.front(), "n1");
    // A wrong secret: refused, and the scheduler never hears of the node.
    nodes.start_agent(p, plane.port, "n2", "not-the-cluster-secret-at-all");
    CAF_REQUIRE(p->wait([&] { return p->refusals.size() == 1; }));
    CAF_CHECK(code_of(p->refusals[0]) == errc::unauthorized);
    CAF_CHECK_EQUAL(message_of(p->refusals[0]), "wrong cluster secret");
    CAF_CHECK_EQUAL(p->joined.size(), 1u);
  }
  plane.shut_down(*p);
}

CAF_TEST(a node joins again when the control plane comes back) {
  auto p = std::make_shared<probe>();
  auto plane = std::make_unique<control_plane>(p, 0);
  auto port = plane->port;
  node_process nodes;
  nodes.start_agent(p, port, "n1", secret);
  CAF_REQUIRE(p->wait([&] { return p->agent_joins == 1; }));
  plane->shut_down(*p);
  plane.reset();
  // The agent notices the lost connection and retries with backoff.
  plane = std::make_unique<control_plane>(p, port);
  CAF_REQUIRE(p->wait([&] { return p->agent_joins == 2 && p->joined.size() == 2; }, 15s));
  CAF_CHECK_EQUAL(p->joined[1].name, "n1");
  CAF_CHECK(p->refusals.empty());
  plane->shut_down(*p);
}
