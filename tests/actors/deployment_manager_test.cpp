// The deployment manager's protocol on CAF's deterministic scheduler: real
// deployment actors, stand-in node, scheduler, logger and store
// (tests/fixtures/pipeline_stand_ins.hpp) and notifier. Per-environment
// order, cancelling a waiting deployment, waits, shutdown, recovery, and the
// events the notifier and the environment events hub are told.
#define CAF_SUITE actors.deployment_manager
#include <caf/test/dsl.hpp>

#include <memory>

#include "actors/deployment_manager.hpp"
#include "actors/environment_events.hpp"
#include "protocol/error.hpp"
#include "tests/fixtures/pipeline_stand_ins.hpp"

using namespace gilgal;
using namespace gilgal::test;

namespace {

/// An answer of the manager: a value, or the error.
template <class T>
struct answer {
  caf::optional<T> value;
  caf::error error;
  bool came() const { return value || error; }
};

/// What the notifier was told: event, deployment id, its status then.
struct told_event {
  std::string event;
  std::string deployment_id;
  deployment_status status;
};

notifier_actor::behavior_type fake_notifier(notifier_actor::pointer,
                                            std::shared_ptr<std::vector<told_event>> told) {
  return {
    [told](notify_atom, const std::string& event, const deployment& d) {
      told->push_back({event, d.id, d.status});
    },
  };
}

/// A follower of environments' runtime logs: records "live ENV" / "remove ENV".
caf::behavior events_listener(caf::event_based_actor*,
                              std::shared_ptr<std::vector<std::string>> heard) {
  return {
    [heard](live_atom, const std::string& env) { heard->push_back("live " + env); },
    [heard](remove_atom, const std::string& env) { heard->push_back("remove " + env); },
  };
}

struct fixture : test_coordinator_fixture<actor_test_config> {
  std::shared_ptr<recording> rec = std::make_shared<recording>();
  std::shared_ptr<std::vector<told_event>> told = std::make_shared<std::vector<told_event>>();
  deployment_manager_actor manager;
  environment_events_actor events;
  std::vector<caf::actor> stand_ins;
  node_actor node;

  void start_manager(outcome build, outcome run) {
    node = sys.spawn(fake_node, rec, build, run);
    deployment_manager_config cfg;
    cfg.scheduler = sys.spawn(fake_cluster, rec, node);
    cfg.log = sys.spawn(fake_logger, rec);
    cfg.db = sys.spawn(fake_store, rec);
    cfg.notifier = sys.spawn(fake_notifier, told);
    cfg.image_retention = 0;
    events = sys.spawn(environment_events);
    cfg.events = events;
    for (auto a : {caf::actor_cast<caf::actor>(node), caf::actor_cast<caf::actor>(cfg.scheduler),
                   caf::actor_cast<caf::actor>(cfg.log), caf::actor_cast<caf::actor>(cfg.db),
                   caf::actor_cast<caf::actor>(cfg.notifier), caf::actor_cast<caf::actor>(events)})
      stand_ins.push_back(a);
    manager = sys.spawn(deployment_manager, cfg);
    sched.run();
  }

  ~fixture() {
    caf::anon_send_exit(manager, caf::exit_reason::user_shutdown);
    sched.run();
    for (auto& a : stand_ins)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    rec->builder = nullptr;
    sched.run();
  }

  /// Sends a request from a helper actor; the answer lands in the result.
  template <class T, class... Ts>
  std::shared_ptr<answer<T>> ask_later(Ts... xs) {
    auto result = std::make_shared<answer<T>>();
    sys.spawn([=](caf::event_based_actor* a) {
      a->request(manager, caf::infinite, xs...)
        .then([=](const T& x) { result->value = x; },
              [=](const caf::error& err) { result->error = err; });
    });
    return result;
  }

  template <class T, class... Ts>
  answer<T> ask(Ts... xs) {
    auto result = ask_later<T>(xs...);
    sched.run();
    return *result;
  }

  deployment make(const std::string& id, const std::string& env) {
    deployment d;
    d.id = id;
    d.project_id = "p-1234567890";
    d.environment_id = env;
    return d;
  }

  void deploy(const std::string& id, const std::string& env) {
    project p;
    p.id = "p-1234567890";
    environment e;
    e.id = env;
    e.variables["GREETING"] = "hello";
    auto r = ask<bool>(deploy_atom::value, make(id, env), p, e);
    CAF_REQUIRE(r.value);
  }

  int64_t queue_position(const std::string& id) {
    auto r = ask<int64_t>(queue_atom::value, id);
    CAF_REQUIRE(r.value);
    return *r.value;
  }

  /// "event id status" of everything the notifier was told, in order.
  std::vector<std::string> told_lines() {
    std::vector<std::string> out;
    for (auto& t : *told)
      out.push_back(t.event + " " + t.deployment_id + " " + to_string(t.status));
    return out;
  }

  /// Answers the held retires (through the stand-in node).
  void release_retire() {
    CAF_REQUIRE(!rec->held_retires.empty());
    self->send(node, stop_atom::value, std::string{release_held_retires});
    sched.run();
  }

  /// What a follower of environment `env`'s runtime log hears (subscribed now).
  std::shared_ptr<std::vector<std::string>> listen(const std::string& env) {
    auto heard = std::make_shared<std::vector<std::string>>();
    auto who = sys.spawn(events_listener, heard);
    stand_ins.push_back(who);
    caf::anon_send(events, subscribe_atom::value, env, who);
    sched.run();
    return heard;
  }

  caf::optional<deployment_status> stored_status(const std::string& id) {
    auto i = rec->records.find(id);
    if (i == rec->records.end())
      return caf::none;
    return i->second.status;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(deployment_manager_tests, fixture)

CAF_TEST(an environment runs its deployments one at a time in order) {
  start_manager(outcome::hang, outcome::succeed);
  deploy("d-1", "env-a");
  deploy("d-2", "env-a");
  deploy("d-3", "env-a");
  deploy("d-4", "env-b"); // another environment starts at once
  CAF_CHECK_EQUAL(rec->placed_builds, (std::vector<std::string>{"d-1", "d-4"}));
  CAF_CHECK_EQUAL(queue_position("d-2"), 1);
  CAF_CHECK_EQUAL(queue_position("d-3"), 2);
  // The first ends: the second starts, the third moves up.
  auto end = ask<deployment>(cancel_atom::value, std::string{"d-1"});
  CAF_REQUIRE(end.value);
  CAF_CHECK_EQUAL(end.value->status, deployment_status::cancelled);
  CAF_CHECK_EQUAL(rec->placed_builds.back(), "d-2");
  CAF_CHECK_EQUAL(queue_position("d-3"), 1);
  auto count = ask<int64_t>(count_atom::value);
  CAF_CHECK_EQUAL(count.value, int64_t{3});
}

CAF_TEST(the next deployment builds while the last success retires and runs only after) {
  start_manager(outcome::succeed, outcome::succeed);
  rec->hold_retires = true;
  deploy("d-1", "env-a");
  CAF_CHECK_EQUAL(stored_status("d-1"), deployment_status::success);
  CAF_REQUIRE_EQUAL(rec->held_retires.size(), 1u); // d-1 stops what it replaced
  // d-2 starts at once and builds, but starts no container while d-1 retires.
  deploy("d-2", "env-a");
  CAF_CHECK_EQUAL(rec->placed_builds, (std::vector<std::string>{"d-1", "d-2"}));
  CAF_CHECK_EQUAL(rec->runners_requested, 1);
  CAF_CHECK_EQUAL(stored_status("d-2"), deployment_status::building);
  bool waited = false;
  for (auto& m : rec->log_messages)
    waited = waited || m.find("Waiting for the environment's previous deployment") == 0;
  CAF_CHECK(waited);
  // d-1's retirement ends, it goes down, and d-2 runs and goes live.
  rec->hold_retires = false;
  release_retire();
  CAF_CHECK_EQUAL(rec->runners_requested, 2);
  CAF_CHECK_EQUAL(stored_status("d-2"), deployment_status::success);
  CAF_CHECK_EQUAL(rec->retired_with.size(), 2u);
}

CAF_TEST(a deployment cancelled while it waits for its predecessor never runs) {
  start_manager(outcome::succeed, outcome::succeed);
  rec->hold_retires = true;
  deploy("d-1", "env-a");
  deploy("d-2", "env-a");
  auto end = ask<deployment>(cancel_atom::value, std::string{"d-2"});
  CAF_REQUIRE(end.value);
  CAF_CHECK_EQUAL(end.value->status, deployment_status::cancelled);
  release_retire();
  CAF_CHECK_EQUAL(rec->runners_requested, 1);
  CAF_CHECK_EQUAL(stored_status("d-1"), deployment_status::success);
}

CAF_TEST(cancelling a waiting deployment ends it without ever starting it) {
  start_manager(outcome::hang, outcome::succeed);
  deploy("d-1", "env-a");
  deploy("d-2", "env-a");
  auto end = ask<deployment>(cancel_atom::value, std::string{"d-2"});
  CAF_REQUIRE(end.value);
  CAF_CHECK_EQUAL(end.value->status, deployment_status::cancelled);
  CAF_CHECK_EQUAL(stored_status("d-2"), deployment_status::cancelled);
  CAF_CHECK_EQUAL(rec->closed_logs.count("d-2"), 1u);
  CAF_CHECK(!rec->records["d-2"].duration_seconds); // it never ran
  // The first goes on; when it ends, nothing else starts.
  CAF_CHECK_EQUAL(stored_status("d-1"), deployment_status::building);
  ask<deployment>(cancel_atom::value, std::string{"d-1"});
  CAF_CHECK_EQUAL(rec->placed_builds, std::vector<std::string>{"d-1"});
  // Both have ended: neither is in progress any more.
  auto again = ask<deployment>(cancel_atom::value, std::string{"d-2"});
  CAF_CHECK_EQUAL(code_of(again.error), errc::not_found);
}

CAF_TEST(a wait is answered with the final record once stored) {
  start_manager(outcome::succeed, outcome::succeed);
  deploy("d-1", "env-a");
  // It ran to its end within the deploy: the wait finds it gone.
  auto late = ask<deployment>(wait_atom::value, std::string{"d-1"});
  CAF_CHECK_EQUAL(code_of(late.error), errc::not_found);
  CAF_CHECK_EQUAL(stored_status("d-1"), deployment_status::success);
}

CAF_TEST(a wait on a running deployment comes when it ends) {
  start_manager(outcome::hang, outcome::succeed);
  deploy("d-1", "env-a");
  auto waiting = ask_later<deployment>(wait_atom::value, std::string{"d-1"});
  sched.run();
  CAF_CHECK(!waiting->came());
  caf::anon_send_exit(rec->builder, caf::exit_reason::unhandled_exception);
  sched.run();
  CAF_REQUIRE(waiting->value);
  CAF_CHECK_EQUAL(waiting->value->status, deployment_status::failed);
  CAF_CHECK_EQUAL(stored_status("d-1"), deployment_status::failed);
}

CAF_TEST(shutdown interrupts running and waiting deployments then quits) {
  start_manager(outcome::hang, outcome::succeed);
  deploy("d-1", "env-a");
  deploy("d-2", "env-a");
  caf::anon_send_exit(manager, caf::exit_reason::user_shutdown);
  sched.run();
  for (auto id : {"d-1", "d-2"}) {
    CAF_CHECK_EQUAL(stored_status(id), deployment_status::failed);
    CAF_CHECK_EQUAL(rec->records[id].error_message, "interrupted by server shutdown");
    CAF_CHECK_EQUAL(rec->closed_logs.count(id), 1u);
  }
  // The waiting one never started.
  CAF_CHECK_EQUAL(rec->placed_builds, std::vector<std::string>{"d-1"});
  CAF_CHECK(rec->builder_done);
  auto after = ask<int64_t>(count_atom::value);
  CAF_CHECK(!after.value); // the manager is gone
}

CAF_TEST(recovery ends what a crash left unfinished through their own actors) {
  rec->unfinished.push_back(make("d-9", "env-a"));
  rec->unfinished.back().status = deployment_status::building;
  start_manager(outcome::hang, outcome::succeed);
  auto ended = ask<int64_t>(recover_atom::value);
  CAF_CHECK_EQUAL(ended.value, int64_t{1});
  sched.run();
  CAF_CHECK_EQUAL(stored_status("d-9"), deployment_status::failed);
  CAF_CHECK_EQUAL(rec->records["d-9"].error_message, "interrupted by restart");
  CAF_CHECK_EQUAL(rec->closed_logs.count("d-9"), 1u);
  CAF_CHECK(rec->placed_builds.empty());
  auto count = ask<int64_t>(count_atom::value);
  CAF_CHECK_EQUAL(count.value, int64_t{0});
}

CAF_TEST(the notifier hears each start and each final record) {
  start_manager(outcome::succeed, outcome::succeed);
  deploy("d-1", "env-a");
  CAF_CHECK_EQUAL(stored_status("d-1"), deployment_status::success);
  CAF_CHECK_EQUAL(told_lines(), (std::vector<std::string>{"deployment.started d-1 pending",
                                                          "deployment.succeeded d-1 success"}));
}

CAF_TEST(the notifier hears failures and cancels and no start of what never ran) {
  start_manager(outcome::hang, outcome::succeed);
  deploy("d-1", "env-a");
  deploy("d-2", "env-a");
  ask<deployment>(cancel_atom::value, std::string{"d-2"}); // waiting: never started
  caf::anon_send_exit(rec->builder, caf::exit_reason::unhandled_exception);
  sched.run();
  CAF_CHECK_EQUAL(stored_status("d-1"), deployment_status::failed);
  CAF_CHECK_EQUAL(told_lines(), (std::vector<std::string>{"deployment.started d-1 pending",
                                                          "deployment.cancelled d-2 cancelled",
                                                          "deployment.failed d-1 failed"}));
}

CAF_TEST(a lifecycle action waits for nothing and is refused while a build runs) {
  start_manager(outcome::hang, outcome::succeed);
  environment e;
  e.id = "env-a";
  e.name = "production";
  deploy("d-1", "env-a");
  auto refused = ask<environment_state>(control_atom::value, e, std::string{"stop"});
  CAF_REQUIRE(refused.error);
  CAF_CHECK_EQUAL(code_of(refused.error), errc::conflict);
  CAF_CHECK(message_of(refused.error).find("d-1") != std::string::npos);
  // Another environment has no live deployment: nothing to stop.
  e.id = "env-b";
  auto nothing = ask<environment_state>(control_atom::value, e, std::string{"stop"});
  CAF_REQUIRE(nothing.error);
  CAF_CHECK_EQUAL(code_of(nothing.error), errc::conflict);
  auto bad = ask<environment_state>(control_atom::value, e, std::string{"pause"});
  CAF_REQUIRE(bad.error);
  CAF_CHECK_EQUAL(code_of(bad.error), errc::invalid_argument);
  // The action ended: env-b takes deployments again.
  deploy("d-2", "env-b");
  CAF_CHECK_EQUAL(rec->placed_builds, (std::vector<std::string>{"d-1", "d-2"}));
}

CAF_TEST(removing an environment cancels its deployments and refuses new ones) {
  start_manager(outcome::hang, outcome::succeed);
  deploy("d-1", "env-a");
  deploy("d-2", "env-a"); // queued behind d-1
  auto removed = ask<int64_t>(remove_atom::value, std::string{"env-a"});
  CAF_REQUIRE(removed.value);
  CAF_CHECK_EQUAL(stored_status("d-1"), deployment_status::cancelled);
  CAF_CHECK_EQUAL(stored_status("d-2"), deployment_status::cancelled);
  // d-2 never started.
  CAF_CHECK_EQUAL(rec->placed_builds, (std::vector<std::string>{"d-1"}));
  CAF_CHECK_EQUAL(rec->retired_with, (std::vector<std::string>{""})); // nothing kept
  project p;
  p.id = "p-1234567890";
  environment e;
  e.id = "env-a";
  auto late = ask<bool>(deploy_atom::value, make("d-3", "env-a"), p, e);
  CAF_REQUIRE(late.error);
  CAF_CHECK_EQUAL(code_of(late.error), errc::not_found);
  auto count = ask<int64_t>(count_atom::value);
  CAF_REQUIRE(count.value);
  CAF_CHECK_EQUAL(*count.value, 0);
}

CAF_TEST(followers of an environment hear a deployment going live and its removal) {
  start_manager(outcome::succeed, outcome::succeed);
  auto a = listen("env-a");
  auto b = listen("env-b");
  deploy("d-1", "env-a");
  CAF_CHECK_EQUAL(stored_status("d-1"), deployment_status::success);
  CAF_CHECK_EQUAL(*a, (std::vector<std::string>{"live env-a"}));
  CAF_CHECK(b->empty());
  auto removed = ask<int64_t>(remove_atom::value, std::string{"env-a"});
  CAF_REQUIRE(removed.value);
  CAF_CHECK_EQUAL(*a, (std::vector<std::string>{"live env-a", "remove env-a"}));
  CAF_CHECK(b->empty());
}

CAF_TEST(a failed deployment changes nothing a follower reads) {
  start_manager(outcome::fail, outcome::succeed);
  auto a = listen("env-a");
  deploy("d-1", "env-a");
  CAF_CHECK_EQUAL(stored_status("d-1"), deployment_status::failed);
  CAF_CHECK(a->empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
