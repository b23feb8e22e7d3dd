// The scheduler's protocol on CAF's deterministic scheduler, with stand-in
// node actors (canned housekeeping replies) and stand-in deployment actors
// that ask for placements and record what they get and what they are told.
#define CAF_SUITE actors.scheduler
#include <caf/test/dsl.hpp>

#include <memory>

#include "actors/scheduler.hpp"
#include "protocol/error.hpp"

using namespace gilgal;
using namespace std::chrono_literals;

namespace {

using label_map = std::map<std::string, std::string>;

struct config : caf::actor_system_config {
  config() {
    gilgal::add_message_types(*this);
  }
};

/// What a stand-in node answers to housekeeping, and what it was asked.
struct canned {
  label_map containers;            // container id -> deployment id
  int64_t retired = 0;             // reply to retire
  int64_t retained = 0;            // reply to retain
  bool failing = false;            // every housekeeping request fails (unavailable)
  std::vector<std::string> stops;  // containers it was asked to stop
  std::vector<std::string> keeps;  // the `keep` of each retire it got
  std::vector<std::string> asked;  // containers it was asked about (health)
};

node_actor::behavior_type fake_node(node_actor::pointer self, std::shared_ptr<canned> c) {
  auto unavailable = [] { return make_error(errc::unavailable, "docker is down"); };
  return {
    [=](new_atom, build_atom) -> caf::result<builder_actor> {
      return make_error(errc::internal, "not used here");
    },
    [=](new_atom, run_atom) -> caf::result<runner_actor> {
      return make_error(errc::internal, "not used here");
    },
    [=](stop_atom, const std::string& id) -> caf::result<bool> {
      if (c->failing)
        return unavailable();
      c->stops.push_back(id);
      return c->containers.count(id) > 0;
    },
    [=](retire_atom, const std::string&, const std::string& keep) -> caf::result<int64_t> {
      if (c->failing)
        return unavailable();
      c->keeps.push_back(keep);
      return c->retired;
    },
    [=](list_atom) -> caf::result<label_map> {
      if (c->failing)
        return unavailable();
      return c->containers;
    },
    [=](health_atom, const std::string& id) -> caf::result<container_health> {
      if (c->failing)
        return unavailable();
      c->asked.push_back(id);
      if (c->containers.count(id) == 0)
        return make_error(errc::not_found, "no container " + id);
      container_health h;
      h.container_id = id;
      h.state = "running";
      h.running = true;
      h.restart_count = static_cast<int64_t>(self->id()); // tells nodes apart
      return h;
    },
    [=](retain_atom, const std::string&, const std::set<std::string>&)
      -> caf::result<int64_t> {
      if (c->failing)
        return unavailable();
      return c->retained;
    },
    [](logs_atom, const std::string&, const gilgal::container_log_query&)
      -> caf::result<gilgal::container_log_batch> {
      return gilgal::make_error(gilgal::errc::not_found, "no such container");
    },
    [](control_atom, const gilgal::container_command&) -> caf::result<gilgal::container_health> {
      return gilgal::make_error(gilgal::errc::not_found, "no such container");
    },
  };
}

/// What a stand-in deployment actor got from the scheduler.
struct dep_record {
  std::vector<std::string> builds; // node names of build placements, in order
  std::vector<std::string> runs;   // node names of run placements
  std::vector<std::string> errors; // codes of failed placements
  std::vector<std::string> lost;   // lost_atom node names
};

/// A deployment actor stand-in: on (place_atom, ...) it asks the scheduler
/// itself, so it is the sender the scheduler tells of node loss.
caf::behavior fake_deployment(caf::event_based_actor* self, scheduler_actor sc,
                              std::shared_ptr<dep_record> rec) {
  return {
    [=](place_atom, build_atom, const std::string& id, const label_map& labels) {
      self->request(sc, caf::infinite, place_atom::value, build_atom::value, id, labels)
        .then([=](placement& p) { rec->builds.push_back(p.node_name); },
              [=](caf::error& e) { rec->errors.push_back(to_string(code_of(e))); });
    },
    [=](place_atom, run_atom, const std::string& id, const std::string& node,
        const label_map& labels) {
      self
        ->request(sc, caf::infinite, place_atom::value, run_atom::value, id, node, labels)
        .then([=](placement& p) { rec->runs.push_back(p.node_name); },
              [=](caf::error& e) { rec->errors.push_back(to_string(code_of(e))); });
    },
    [=](lost_atom, const std::string& node) { rec->lost.push_back(node); },
    [=](start_atom) {},
  };
}

struct fixture : test_coordinator_fixture<config> {
  scheduler_actor sc;
  std::map<std::string, node_actor> nodes;
  std::map<std::string, std::shared_ptr<canned>> canned_of;
  std::vector<caf::actor> others; // replaced nodes, deployment stand-ins

  fixture() {
    start_scheduler(scheduler_config{});
  }

  ~fixture() override {
    caf::anon_send_exit(sc, caf::exit_reason::user_shutdown);
    for (auto& [name, n] : nodes)
      caf::anon_send_exit(n, caf::exit_reason::user_shutdown);
    for (auto& a : others)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void start_scheduler(scheduler_config cfg) {
    if (sc)
      caf::anon_send_exit(sc, caf::exit_reason::user_shutdown);
    sc = sys.spawn(scheduler, cfg);
    sched.run();
  }

  /// The scheduler's answer to a request that gets one at once. The tick
  /// timer never lets the fixture's run() end, so messages run, timers don't.
  template <class T, class... Ts>
  caf::expected<T> ask(Ts... xs) {
    auto h = self->request(sc, caf::infinite, xs...);
    sched.run();
    if (self->mailbox().empty())
      CAF_FAIL("the scheduler did not answer");
    caf::expected<T> out{caf::sec::unexpected_response};
    h.receive([&](T& x) { out = std::move(x); }, [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  template <class T>
  T must(caf::expected<T> x) {
    if (!x)
      CAF_FAIL("unexpected error: " << sys.render(x.error()));
    return std::move(*x);
  }

  node_actor join(const std::string& name, int64_t capacity, label_map labels = {},
                  std::shared_ptr<canned> c = std::make_shared<canned>()) {
    auto n = sys.spawn(fake_node, c);
    if (auto it = nodes.find(name); it != nodes.end())
      others.push_back(caf::actor_cast<caf::actor>(it->second));
    nodes[name] = n;
    canned_of[name] = c;
    auto ok = ask<bool>(join_atom::value, node_info{name, capacity, std::move(labels), {}}, n);
    CAF_REQUIRE(ok && *ok);
    return n;
  }

  std::pair<caf::actor, std::shared_ptr<dep_record>> deployment() {
    auto rec = std::make_shared<dep_record>();
    auto d = sys.spawn(fake_deployment, sc, rec);
    others.push_back(d);
    return {d, rec};
  }

  void place_build(const caf::actor& d, const std::string& id, label_map labels = {}) {
    caf::anon_send(d, place_atom::value, build_atom::value, id, std::move(labels));
    sched.run();
  }

  void place_run(const caf::actor& d, const std::string& id, const std::string& node,
                 label_map labels = {}) {
    caf::anon_send(d, place_atom::value, run_atom::value, id, node, std::move(labels));
    sched.run();
  }

  void release(const std::string& id) {
    self->send(sc, release_atom::value, id);
    sched.run();
  }

  int64_t position(const std::string& id) {
    return *ask<int64_t>(queue_atom::value, id);
  }

  node_status status(const std::string& name) {
    auto all = ask<std::vector<node_status>>(list_atom::value, node_atom::value);
    CAF_REQUIRE(all);
    for (auto& s : *all)
      if (s.name == name)
        return s;
    CAF_FAIL("no node " << name);
    return {};
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(scheduler_tests, fixture)

CAF_TEST(builds go to the least loaded node with a free slot) {
  join("a", 2);
  join("b", 4);
  join("c", 1);
  auto [d, rec] = deployment();
  for (int i = 1; i <= 7; ++i)
    place_build(d, "d" + std::to_string(i));
  // a 0/2 b 0/4 c 0/1 -> a (name); then b, c (0 < 1/2); then b (1/4 < 1/2);
  // then a and b tie at 1/2 -> a; then b (2/4 < a full); then b (3/4).
  std::vector<std::string> expected{"a", "b", "c", "b", "a", "b", "b"};
  CAF_CHECK_EQUAL(rec->builds, expected);
  CAF_CHECK_EQUAL(status("a").running_builds, 2);
  CAF_CHECK_EQUAL(status("b").running_builds, 4);
  CAF_CHECK_EQUAL(status("c").running_builds, 1);
  CAF_CHECK(rec->errors.empty());
  release("d3");
  release("d5");
  // a 1/2 b 4/4 c 0/1: c gets the next one.
  place_build(d, "d8");
  CAF_CHECK_EQUAL(rec->builds.back(), "c");
}

CAF_TEST(runs in progress break a tie of build load) {
  join("p", 1);
  join("q", 1);
  auto [d, rec] = deployment();
  place_run(d, "r1", "p");
  place_build(d, "b1");
  CAF_CHECK_EQUAL(rec->builds, std::vector<std::string>{"q"});
}

CAF_TEST(list shows every node sorted by name with its load) {
  join("zeta", 3, {{"region", "eu"}});
  join("alpha", 2);
  auto [d, rec] = deployment();
  place_build(d, "d1");
  place_run(d, "d1", "zeta");
  auto all = ask<std::vector<node_status>>(list_atom::value, node_atom::value);
  CAF_REQUIRE(all);
  CAF_REQUIRE_EQUAL(all->size(), 2u);
  CAF_CHECK_EQUAL((*all)[0].name, "alpha");
  CAF_CHECK_EQUAL((*all)[0].state, "up");
  CAF_CHECK_EQUAL((*all)[0].capacity, 2);
  CAF_CHECK_EQUAL((*all)[0].running_builds, 1);
  CAF_CHECK_EQUAL((*all)[0].running_runs, 0);
  CAF_CHECK((*all)[0].local);
  CAF_CHECK_EQUAL((*all)[1].name, "zeta");
  CAF_CHECK_EQUAL((*all)[1].running_runs, 1);
  CAF_CHECK_EQUAL((*all)[1].labels.at("region"), "eu");
  CAF_CHECK_EQUAL((*all)[1].joined_at.size(), 24u); // 2026-01-01T00:00:00.000Z
  CAF_CHECK_EQUAL((*all)[1].last_heartbeat.back(), 'Z');
}

CAF_TEST(labels restrict builds to nodes that have all of them) {
  join("x", 2, {{"gpu", "yes"}, {"region", "eu"}});
  join("y", 2, {{"region", "eu"}});
  join("z", 2, {{"region", "us"}});
  auto [d, rec] = deployment();
  place_build(d, "d1", {{"gpu", "yes"}});
  place_build(d, "d2", {{"region", "us"}});
  place_build(d, "d3", {{"region", "eu"}}); // x has one build, y none
  place_build(d, "d4", {{"gpu", "yes"}, {"region", "eu"}});
  std::vector<std::string> expected{"x", "z", "y", "x"};
  CAF_CHECK_EQUAL(rec->builds, expected);
  // No node has gpu=no: the build waits, then its release cancels the request.
  place_build(d, "d5", {{"gpu", "no"}});
  CAF_CHECK_EQUAL(rec->builds.size(), 4u);
  CAF_CHECK_EQUAL(position("d5"), 1);
  release("d5");
  CAF_CHECK_EQUAL(position("d5"), 0);
  CAF_REQUIRE_EQUAL(rec->errors.size(), 1u);
  CAF_CHECK_EQUAL(rec->errors[0], "cancelled");
}

CAF_TEST(builds queue in order while no node has a free slot) {
  join("only", 1);
  auto [d, rec] = deployment();
  place_build(d, "d1");
  place_build(d, "d2");
  place_build(d, "d3");
  place_build(d, "d4");
  CAF_CHECK_EQUAL(rec->builds.size(), 1u);
  CAF_CHECK_EQUAL(position("d1"), 0); // placed, not waiting
  CAF_CHECK_EQUAL(position("d2"), 1);
  CAF_CHECK_EQUAL(position("d3"), 2);
  CAF_CHECK_EQUAL(position("d4"), 3);
  CAF_CHECK_EQUAL(position("unknown"), 0);
  release("d1");
  CAF_CHECK_EQUAL(rec->builds.size(), 2u); // d2 got the slot
  CAF_CHECK_EQUAL(position("d2"), 0);
  CAF_CHECK_EQUAL(position("d3"), 1);
  // A waiting build that is released leaves the queue; its request is cancelled.
  release("d3");
  CAF_CHECK_EQUAL(position("d4"), 1);
  CAF_REQUIRE_EQUAL(rec->errors.size(), 1u);
  CAF_CHECK_EQUAL(rec->errors[0], "cancelled");
  release("d2");
  CAF_CHECK_EQUAL(rec->builds.size(), 3u); // d4, not the released d3
  CAF_CHECK_EQUAL(position("d4"), 0);
  CAF_CHECK_EQUAL(status("only").running_builds, 1);
  // Unknown ids are ignored.
  release("never-placed");
  CAF_CHECK_EQUAL(status("only").running_builds, 1);
  // A node joining serves the queue.
  place_build(d, "d5");
  CAF_CHECK_EQUAL(position("d5"), 1);
  join("second", 1);
  CAF_CHECK_EQUAL(rec->builds.size(), 4u);
  CAF_CHECK_EQUAL(rec->builds.back(), "second");
}

CAF_TEST(a waiting build that fits no free node does not block later ones) {
  join("gpu", 1, {{"gpu", "yes"}});
  join("plain", 1);
  auto [d1, r1] = deployment();
  auto [d2, r2] = deployment();
  auto [d3, r3] = deployment();
  auto [d4, r4] = deployment();
  place_build(d1, "d1", {{"gpu", "yes"}});
  place_build(d2, "d2");
  place_build(d3, "d3", {{"gpu", "yes"}});
  place_build(d4, "d4");
  CAF_CHECK_EQUAL(position("d3"), 1);
  CAF_CHECK_EQUAL(position("d4"), 2);
  release("d2"); // plain is free: d3 cannot use it, d4 can
  CAF_CHECK(r3->builds.empty());
  CAF_REQUIRE_EQUAL(r4->builds.size(), 1u);
  CAF_CHECK_EQUAL(r4->builds[0], "plain");
  CAF_CHECK_EQUAL(position("d3"), 1);
  release("d1");
  CAF_REQUIRE_EQUAL(r3->builds.size(), 1u);
  CAF_CHECK_EQUAL(r3->builds[0], "gpu");
}

CAF_TEST(a node whose actor exits is down and its deployments are told) {
  join("a", 1);
  join("b", 1);
  auto [d1, r1] = deployment();
  auto [d2, r2] = deployment();
  auto [d3, r3] = deployment();
  place_build(d1, "d1");
  place_build(d2, "d2");
  place_build(d3, "d3");
  CAF_REQUIRE_EQUAL(r1->builds, std::vector<std::string>{"a"});
  CAF_REQUIRE_EQUAL(r2->builds, std::vector<std::string>{"b"});
  place_run(d2, "d2", "a");
  CAF_CHECK_EQUAL(position("d3"), 1);
  caf::anon_send_exit(nodes["a"], caf::exit_reason::kill);
  sched.run();
  CAF_CHECK_EQUAL(r1->lost, std::vector<std::string>{"a"});
  CAF_CHECK_EQUAL(r2->lost, std::vector<std::string>{"a"}); // its run was there
  CAF_CHECK(r3->lost.empty());
  auto a = status("a");
  CAF_CHECK_EQUAL(a.state, "down");
  CAF_CHECK_EQUAL(a.running_builds, 0);
  CAF_CHECK_EQUAL(a.running_runs, 0);
  CAF_CHECK_EQUAL(status("b").state, "up");
  // d3 still waits: the only up node is full. d2's build slot on b is intact.
  CAF_CHECK_EQUAL(position("d3"), 1);
  CAF_CHECK_EQUAL(status("b").running_builds, 1);
  // The rescheduled d1 waits behind d3.
  place_build(d1, "d1");
  CAF_CHECK_EQUAL(position("d1"), 2);
  release("d2");
  CAF_CHECK_EQUAL(r3->builds, std::vector<std::string>{"b"});
  CAF_CHECK_EQUAL(position("d1"), 1);
  // Run placements never go to a down node.
  place_run(d1, "d1", "a");
  CAF_REQUIRE_EQUAL(r1->errors.size(), 1u);
  CAF_CHECK_EQUAL(r1->errors[0], "unavailable");
}

CAF_TEST(a deployment actor that exits releases what it held) {
  join("a", 1);
  auto [d1, r1] = deployment();
  auto [d2, r2] = deployment();
  place_build(d1, "d1");
  place_build(d2, "d2");
  CAF_CHECK_EQUAL(position("d2"), 1);
  caf::anon_send_exit(d1, caf::exit_reason::user_shutdown);
  sched.run();
  CAF_CHECK_EQUAL(r2->builds, std::vector<std::string>{"a"});
  CAF_CHECK_EQUAL(status("a").running_builds, 1);
}

CAF_TEST(no heartbeat for the timeout marks a node down) {
  scheduler_config cfg;
  cfg.heartbeat_timeout = 6s;
  cfg.tick_interval = 1s;
  cfg.local_nodes_heartbeat = true; // the stand-ins play remote nodes
  start_scheduler(cfg);
  join("silent", 1);
  join("alive", 1);
  auto [d, rec] = deployment();
  place_build(d, "d1");
  CAF_REQUIRE_EQUAL(rec->builds, std::vector<std::string>{"alive"});
  for (int second = 1; second <= 8; ++second) {
    advance_time(1s);
    self->send(sc, heartbeat_atom::value, std::string{"alive"});
    sched.run();
    // Down only once more than 6 s passed without a heartbeat.
    CAF_CHECK_EQUAL(status("silent").state, second <= 6 ? "up" : "down");
    CAF_CHECK_EQUAL(status("alive").state, "up");
  }
  CAF_CHECK(rec->lost.empty());
  // A node that heartbeats no more goes down and its build is reported lost.
  for (int second = 1; second <= 7; ++second) {
    advance_time(1s);
    sched.run();
  }
  CAF_CHECK_EQUAL(status("alive").state, "down");
  CAF_CHECK_EQUAL(rec->lost, std::vector<std::string>{"alive"});
  CAF_CHECK_EQUAL(status("alive").running_builds, 0);
  // A heartbeat of a down node does not bring it back: it must join again.
  self->send(sc, heartbeat_atom::value, std::string{"silent"});
  sched.run();
  CAF_CHECK_EQUAL(status("silent").state, "down");
  join("silent", 2);
  CAF_CHECK_EQUAL(status("silent").state, "up");
  CAF_CHECK_EQUAL(status("silent").capacity, 2);
  place_build(d, "d2");
  CAF_CHECK_EQUAL(rec->builds.back(), "silent");
}

CAF_TEST(local nodes are exempt from the heartbeat timeout) {
  join("local", 1);
  advance_time(60s);
  sched.run();
  CAF_CHECK_EQUAL(status("local").state, "up");
  CAF_CHECK(status("local").local);
}

CAF_TEST(a node joining again under its name replaces the old entry) {
  auto old = join("a", 1);
  auto [d, rec] = deployment();
  place_build(d, "d1");
  place_run(d, "d9", "a");
  CAF_REQUIRE_EQUAL(rec->builds, std::vector<std::string>{"a"});
  join("a", 3, {{"disk", "ssd"}});
  // Both placements on the old entry are reported (one lost per deployment id).
  CAF_CHECK_EQUAL(rec->lost, (std::vector<std::string>{"a", "a"}));
  auto a = status("a");
  CAF_CHECK_EQUAL(a.state, "up");
  CAF_CHECK_EQUAL(a.capacity, 3);
  CAF_CHECK_EQUAL(a.running_builds, 0);
  CAF_CHECK_EQUAL(a.running_runs, 0);
  CAF_CHECK_EQUAL(a.labels.at("disk"), "ssd");
  // The old actor's exit no longer concerns the node.
  caf::anon_send_exit(old, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK_EQUAL(status("a").state, "up");
  CAF_CHECK_EQUAL(rec->lost.size(), 2u);
  place_build(d, "d1", {{"disk", "ssd"}});
  CAF_CHECK_EQUAL(rec->builds.back(), "a");
}

CAF_TEST(run placement pinned unpinned and on a down node) {
  join("a", 2, {{"region", "eu"}});
  join("b", 2, {{"region", "eu"}});
  join("c", 2, {{"region", "us"}});
  auto [d, rec] = deployment();
  place_build(d, "b1"); // a: 1 build
  place_run(d, "r1", "c");
  CAF_CHECK_EQUAL(rec->runs, std::vector<std::string>{"c"}); // pinned, labels aside
  // Unpinned: fewest builds and runs among eu nodes: b (a has a build).
  place_run(d, "r2", "", {{"region", "eu"}});
  CAF_CHECK_EQUAL(rec->runs.back(), "b");
  CAF_CHECK_EQUAL(status("b").running_runs, 1);
  CAF_CHECK_EQUAL(status("b").running_builds, 0); // a run takes no build slot
  // Now a and b have one each: the tie goes by name.
  place_run(d, "r3", "", {{"region", "eu"}});
  CAF_CHECK_EQUAL(rec->runs.back(), "a");
  CAF_CHECK(rec->errors.empty());
  // Placing the same deployment again moves its run.
  place_run(d, "r3", "c");
  CAF_CHECK_EQUAL(status("a").running_runs, 0);
  CAF_CHECK_EQUAL(status("c").running_runs, 2);
  release("r3");
  CAF_CHECK_EQUAL(status("c").running_runs, 1);
  // No node with the labels, an unknown node, a down node: unavailable.
  place_run(d, "r4", "", {{"region", "mars"}});
  place_run(d, "r5", "nowhere");
  caf::anon_send_exit(nodes["c"], caf::exit_reason::kill);
  sched.run();
  CAF_CHECK_EQUAL(rec->lost, std::vector<std::string>{"c"}); // r1 ran there
  place_run(d, "r6", "c");
  std::vector<std::string> expected{"unavailable", "unavailable", "unavailable"};
  CAF_CHECK_EQUAL(rec->errors, expected);
}

CAF_TEST(housekeeping fans out over up nodes and combines the replies) {
  auto c1 = std::make_shared<canned>();
  c1->containers = {{"c1", "d1"}};
  c1->retired = 2;
  c1->retained = 1;
  auto c2 = std::make_shared<canned>();
  c2->containers = {{"c2", "d2"}, {"c3", "d3"}};
  c2->retired = 3;
  c2->retained = 4;
  auto c3 = std::make_shared<canned>();
  c3->failing = true;
  join("n1", 1, {}, c1);
  auto n2 = join("n2", 1, {}, c2);
  join("n3", 1, {}, c3);
  auto all = ask<label_map>(list_atom::value);
  CAF_REQUIRE(all);
  CAF_CHECK_EQUAL(*all, (label_map{{"c1", "d1"}, {"c2", "d2"}, {"c3", "d3"}}));
  // A node hears a container id only when it runs that container.
  CAF_CHECK_EQUAL(must(ask<bool>(stop_atom::value, std::string{"c2"})), true);
  CAF_CHECK_EQUAL(must(ask<bool>(stop_atom::value, std::string{"gone"})), false);
  CAF_CHECK(c1->stops.empty());
  CAF_CHECK_EQUAL(c2->stops, (std::vector<std::string>{"c2"}));
  CAF_CHECK_EQUAL(must(ask<int64_t>(retire_atom::value, std::string{"env"}, std::string{"c1"})),
                  5);
  CAF_CHECK_EQUAL(c1->keeps, (std::vector<std::string>{"c1"}));
  CAF_CHECK_EQUAL(c2->keeps, (std::vector<std::string>{""}));
  CAF_CHECK_EQUAL(must(ask<int64_t>(retain_atom::value, std::string{"p"},
                                    std::set<std::string>{"img"})),
                  5);
  auto h = ask<container_health>(health_atom::value, std::string{"c3"});
  CAF_REQUIRE(h);
  CAF_CHECK_EQUAL(h->container_id, "c3");
  CAF_CHECK_EQUAL(h->restart_count, static_cast<int64_t>(n2.id())); // n2 answered
  CAF_CHECK(c1->asked.empty());
  // Nobody has it, one node failing: the failure says more than not_found.
  auto none = ask<container_health>(health_atom::value, std::string{"gone"});
  CAF_REQUIRE(!none);
  CAF_CHECK_EQUAL(to_string(code_of(none.error())), std::string{"unavailable"});
  // A down node is not asked.
  caf::anon_send_exit(n2, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK_EQUAL(must(ask<label_map>(list_atom::value)), (label_map{{"c1", "d1"}}));
  // Only failing nodes left: the error comes back.
  caf::anon_send_exit(nodes["n1"], caf::exit_reason::kill);
  sched.run();
  auto failed = ask<label_map>(list_atom::value);
  CAF_REQUIRE(!failed);
  CAF_CHECK_EQUAL(to_string(code_of(failed.error())), std::string{"unavailable"});
  auto failed_stop = ask<bool>(stop_atom::value, std::string{"c1"});
  CAF_REQUIRE(!failed_stop);
}

CAF_TEST(housekeeping with no up node gives the neutral answer) {
  CAF_CHECK(must(ask<label_map>(list_atom::value)).empty());
  CAF_CHECK_EQUAL(must(ask<bool>(stop_atom::value, std::string{"c"})), false);
  CAF_CHECK_EQUAL(must(ask<int64_t>(retire_atom::value, std::string{"e"}, std::string{"k"})), 0);
  CAF_CHECK_EQUAL(
    must(ask<int64_t>(retain_atom::value, std::string{"p"}, std::set<std::string>{})), 0);
  auto h = ask<container_health>(health_atom::value, std::string{"c"});
  CAF_REQUIRE(!h);
  CAF_CHECK_EQUAL(to_string(code_of(h.error())), std::string{"not_found"});
}

CAF_TEST(a node that does not answer housekeeping is skipped after the timeout) {
  auto held = std::make_shared<std::vector<caf::response_promise>>();
  auto silent = caf::actor_cast<node_actor>(sys.spawn([held](caf::event_based_actor* self) {
    // Accepts (list_atom) and (stop_atom, id) and never answers.
    return caf::behavior{[self, held](caf::atom_value) {
                           held->push_back(self->make_response_promise());
                           return held->back();
                         },
                         [self, held](caf::atom_value, const std::string&) {
                           held->push_back(self->make_response_promise());
                           return held->back();
                         }};
  }));
  // A plain actor as node: housekeeping to it hangs.
  others.push_back(caf::actor_cast<caf::actor>(silent));
  auto c = std::make_shared<canned>();
  join("answers", 1, {}, c);
  auto ok = ask<bool>(join_atom::value, node_info{"hangs", 1, {}, {}}, silent);
  CAF_REQUIRE(ok);
  auto h = self->request(sc, caf::infinite, stop_atom::value, std::string{"x"});
  sched.run();
  CAF_CHECK(self->mailbox().empty()); // still waiting for "hangs"
  advance_time(61s);
  sched.run();
  CAF_REQUIRE(!self->mailbox().empty());
  bool result = true;
  h.receive([&](bool b) { result = b; }, [&](caf::error&) { CAF_FAIL("error"); });
  CAF_CHECK_EQUAL(result, false);
}

CAF_TEST(a join or heartbeat without a sender is dropped) {
  // A remote peer's anonymous message looks like a local anon_send: the
  // scheduler takes node business only from a named actor of its process.
  scheduler_config cfg;
  cfg.heartbeat_timeout = 3s;
  cfg.tick_interval = 1s;
  cfg.local_nodes_heartbeat = true;
  start_scheduler(cfg);
  join("n1", 1);
  auto stray = sys.spawn(fake_node, std::make_shared<canned>());
  others.push_back(caf::actor_cast<caf::actor>(stray));
  caf::anon_send(sc, join_atom::value, node_info{"stray", 4, {}, {}}, stray);
  sched.run();
  auto all = ask<std::vector<node_status>>(list_atom::value, node_atom::value);
  CAF_REQUIRE(all);
  CAF_CHECK_EQUAL(all->size(), 1u);
  // Anonymous heartbeats do not keep n1 alive.
  for (int second = 1; second <= 5; ++second) {
    advance_time(1s);
    caf::anon_send(sc, heartbeat_atom::value, std::string{"n1"});
    sched.run();
  }
  CAF_CHECK_EQUAL(status("n1").state, "down");
}

CAF_TEST_FIXTURE_SCOPE_END()
