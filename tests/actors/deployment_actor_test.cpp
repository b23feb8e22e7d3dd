// The deployment actor's state machine, on CAF's deterministic scheduler, with
// stand-in node, builder, runner, logger and store actors.
#define CAF_SUITE actors.deployment_actor
#include <caf/test/dsl.hpp>

#include <memory>
#include <set>

#include "actors/deployment_actor.hpp"
#include "protocol/error.hpp"
#include "tests/fixtures/pipeline_stand_ins.hpp"

using namespace gilgal;
using namespace gilgal::test;

namespace {

struct fixture : test_coordinator_fixture<test::actor_test_config> {
  std::shared_ptr<recording> rec = std::make_shared<recording>();
  std::vector<caf::actor> stand_ins;
  scheduler_actor cluster; // the stand-in scheduler of the latest start()

  ~fixture() {
    for (auto& a : stand_ins)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    rec->builder = nullptr;
    sched.run();
  }

  deployment_context base; // the record's kind and image come from here

  deployment_actor start(outcome build, outcome run, router_actor router = {}) {
    deployment_context ctx;
    ctx.record.kind = base.record.kind;
    ctx.record.image_name = base.record.image_name;
    ctx.record.run_node = base.record.run_node;
    ctx.record.commit_message = base.record.commit_message;
    ctx.record.id = "d-1";
    ctx.record.project_id = "p-1234567890";
    ctx.record.environment_id = "e-1";
    ctx.source.id = "p-1234567890";
    ctx.source.repository_url = "/srv/repo";
    ctx.target.id = "e-1";
    ctx.target.variables["GREETING"] = "hello";
    auto node = sys.spawn(fake_node, rec, build, run);
    ctx.scheduler = sys.spawn(fake_cluster, rec, node);
    cluster = ctx.scheduler;
    ctx.log = sys.spawn(fake_logger, rec);
    ctx.db = sys.spawn(fake_store, rec);
    ctx.router = router;
    for (auto a : {caf::actor_cast<caf::actor>(node), caf::actor_cast<caf::actor>(ctx.scheduler),
                   caf::actor_cast<caf::actor>(ctx.log), caf::actor_cast<caf::actor>(ctx.db)})
      stand_ins.push_back(a);
    auto d = sys.spawn(deployment_pipeline, ctx);
    stand_ins.push_back(caf::actor_cast<caf::actor>(d));
    self->send(d, start_atom::value); // from this process, as the manager
    run_all();
    return d;
  }

  void run_all() {
    sched.run();
  }

  using answer = std::pair<caf::optional<deployment>, caf::error>;

  /// Sends `atom` to `d` as a request from a helper actor; the answer (a
  /// deployment record) or the error lands in the result once it comes.
  template <class Atom>
  std::shared_ptr<answer> ask_later(deployment_actor d, Atom atom) {
    auto result = std::make_shared<answer>();
    sys.spawn([=](caf::event_based_actor* a) {
      a->request(d, caf::infinite, atom)
        .then([=](const deployment& x) { result->first = x; },
              [=](const caf::error& err) { result->second = err; });
    });
    return result;
  }

  template <class Atom>
  answer ask(deployment_actor d, Atom atom) {
    auto result = ask_later(d, atom);
    run_all();
    return *result;
  }

  /// A stand-in router: records each route request (event "route <container>")
  /// and answers it with `error` (none: true).
  router_actor spawn_router(caf::error error = {}) {
    auto r = sys.spawn([rec = rec, error](router_actor::pointer) -> router_actor::behavior_type {
      return {
        [rec, error](route_atom, const deployment& d) -> caf::result<bool> {
          rec->events.push_back("route " + d.container_id + ":" + std::to_string(d.port));
          if (error)
            return error;
          return true;
        },
        [](stop_atom, const std::string&) { return false; },
        [](reconcile_atom) { return int64_t{0}; },
        [](tick_atom) {},
        [](drain_atom) {},
      };
    });
    stand_ins.push_back(caf::actor_cast<caf::actor>(r));
    return r;
  }

  bool routed() const {
    for (auto& e : rec->events)
      if (e.rfind("route ", 0) == 0)
        return true;
    return false;
  }

  /// Index of `event` in the recorded order (events.size() if absent).
  size_t position_of(const std::string& event) const {
    for (size_t i = 0; i < rec->events.size(); ++i)
      if (rec->events[i] == event)
        return i;
    return rec->events.size();
  }

  bool logged(const std::string& text) const {
    for (auto& m : rec->log_messages)
      if (m.find(text) != std::string::npos)
        return true;
    return false;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(deployment_actor_tests, fixture)

CAF_TEST(a successful pipeline goes building then success and logs each step) {
  start(outcome::succeed, outcome::succeed);
  CAF_REQUIRE(!rec->statuses.empty());
  CAF_CHECK_EQUAL(rec->statuses.front(), deployment_status::building);
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::success);
  auto& d = rec->last_record;
  CAF_CHECK_EQUAL(d.container_id, "container-1");
  CAF_CHECK_EQUAL(d.port, 20001);
  CAF_CHECK_EQUAL(d.commit_sha, "abcdef1234567890abcdef1234567890abcdef12");
  CAF_CHECK_EQUAL(d.commit_message, "initial");
  CAF_CHECK(!d.deployed_at.empty());
  CAF_CHECK(d.duration_seconds);
  CAF_CHECK(d.error_message.empty());
  // The seed's wording, in the seed's order.
  std::vector<std::string> expected{"Starting deployment pipeline...",
                                    "Build placed on node node-1",
                                    "Building Docker image...",
                                    "Docker image built: gilgal-p-123456-abcdef12",
                                    "Container placed on node node-1",
                                    "Starting container...",
                                    "Container running on port 20001",
                                    "Deployment completed successfully in"};
  size_t pos = 0;
  for (auto& want : expected) {
    while (pos < rec->log_messages.size()
           && rec->log_messages[pos].find(want) == std::string::npos)
      ++pos;
    CAF_CHECK_LESS(pos, rec->log_messages.size());
    if (pos >= rec->log_messages.size())
      CAF_MESSAGE("missing or out of order: " << want);
  }
  CAF_CHECK(rec->log_closed);
  // The previous container is retired only after the new one is healthy,
  // keeping the new one.
  CAF_REQUIRE_EQUAL(rec->retired_with.size(), 1u);
  CAF_CHECK_EQUAL(rec->retired_with.front(), "container-1");
  // Without a registry the container runs where the image was built.
  CAF_CHECK_EQUAL(d.build_node, "node-1");
  CAF_CHECK_EQUAL(d.run_node, "node-1");
  CAF_CHECK(!rec->released.empty());
  // A new image: the project's images past the last successes may go.
  CAF_CHECK_EQUAL(rec->retentions, 1);
}

CAF_TEST(a reused image takes the commit message of an earlier deployment) {
  rec->build_reused = true;
  rec->earlier_message = "Fix the checkout page";
  start(outcome::succeed, outcome::succeed);
  CAF_CHECK_EQUAL(rec->last_record.status, deployment_status::success);
  CAF_CHECK_EQUAL(rec->last_record.commit_message, "Fix the checkout page");
  // No image was added: the retention waits for the next build.
  CAF_CHECK_EQUAL(rec->retentions, 0);
}

CAF_TEST(a failing build ends failed and never starts a container) {
  start(outcome::fail, outcome::succeed);
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::failed);
  CAF_CHECK_EQUAL(rec->last_record.error_message, "build image failed: RUN false returned 1");
  CAF_CHECK_EQUAL(rec->runners_requested, 0);
  CAF_CHECK(rec->retired_with.empty());
  CAF_CHECK(logged("build image failed"));
  CAF_CHECK(rec->log_closed);
}

CAF_TEST(a failing run ends failed and keeps the previous container) {
  start(outcome::succeed, outcome::fail);
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::failed);
  CAF_CHECK_EQUAL(rec->last_record.error_message,
                  "run container failed: health check timed out");
  CAF_CHECK(rec->retired_with.empty());
  CAF_CHECK(rec->last_record.container_id.empty());
}

CAF_TEST(cancel during the build exits with user_shutdown and the link stops the builder) {
  auto d = start(outcome::hang, outcome::succeed);
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::building);
  CAF_CHECK(!rec->builder_done);
  caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  run_all();
  CAF_CHECK(rec->builder_done);
  CAF_CHECK_EQUAL(rec->builder_exit, caf::error{caf::exit_reason::user_shutdown});
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::cancelled);
  CAF_CHECK(logged("Deployment cancelled"));
  CAF_CHECK(rec->log_closed);
  CAF_CHECK_EQUAL(rec->runners_requested, 0);
}

CAF_TEST(cancel while the container starts stops the runner) {
  auto d = start(outcome::succeed, outcome::hang);
  CAF_CHECK(!rec->runner_done);
  caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  run_all();
  CAF_CHECK(rec->runner_done);
  CAF_CHECK_EQUAL(rec->runner_exit, caf::error{caf::exit_reason::user_shutdown});
  // The stand-in runner never answers: the grace ends the deployment.
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::building);
  sched.trigger_timeouts();
  run_all();
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::cancelled);
  CAF_CHECK(rec->retired_with.empty());
}

CAF_TEST(a builder that crashes fails the deployment instead of leaving it stuck) {
  start(outcome::hang, outcome::succeed);
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::building);
  caf::anon_send_exit(rec->builder, caf::exit_reason::unhandled_exception);
  run_all();
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::failed);
  CAF_CHECK(rec->last_record.error_message.find("build image failed") == 0);
  CAF_CHECK_EQUAL(rec->builds_placed, 1);
  CAF_CHECK(rec->log_closed);
}

CAF_TEST(a build whose node is lost is placed once more then fails with node lost) {
  auto d = start(outcome::hang, outcome::succeed);
  CAF_CHECK_EQUAL(rec->builds_placed, 1);
  // The link to a remote builder breaks with its node.
  auto first = rec->builder;
  caf::anon_send_exit(first, caf::exit_reason::remote_link_unreachable);
  run_all();
  CAF_CHECK_EQUAL(rec->builds_placed, 2);
  CAF_CHECK(rec->builder != first);
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::building);
  CAF_CHECK_EQUAL(rec->last_record.build_node, "node-2");
  CAF_CHECK(logged("Node node-1 was lost"));
  CAF_CHECK(logged("Rescheduling the build on another node"));
  // A late word of the first node's loss changes nothing, nor does the
  // broken link's exit arriving again.
  caf::send_as(cluster, d, lost_atom::value, std::string{"node-1"});
  caf::anon_send(caf::actor_cast<caf::actor>(d),
                 caf::exit_msg{first.address(), caf::exit_reason::remote_link_unreachable});
  run_all();
  CAF_CHECK_EQUAL(rec->builds_placed, 2);
  // Word of node loss from anyone but the scheduler is dropped.
  caf::anon_send(d, lost_atom::value, std::string{"node-2"});
  run_all();
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::building);
  CAF_CHECK_EQUAL(rec->builds_placed, 2);
  // The scheduler reports the second node lost: no third try.
  caf::send_as(cluster, d, lost_atom::value, std::string{"node-2"});
  run_all();
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::failed);
  CAF_CHECK_EQUAL(rec->last_record.error_message, "build image failed: node lost");
  CAF_CHECK(rec->log_closed);
}

CAF_TEST(a queued build logs its position and cancel releases it) {
  rec->queue_position = 3;
  auto d = start(outcome::hang, outcome::succeed);
  CAF_CHECK(logged("Queued at position 3: waiting for a free build slot"));
  caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  run_all();
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::cancelled);
  CAF_REQUIRE(!rec->released.empty());
  CAF_CHECK_EQUAL(rec->released.back(), "d-1");
}

CAF_TEST(a second start is refused and places nothing) {
  auto d = start(outcome::hang, outcome::succeed);
  CAF_CHECK_EQUAL(rec->builds_placed, 1);
  self->send(d, start_atom::value); // a local actor: refused all the same
  run_all();
  CAF_CHECK_EQUAL(rec->builds_placed, 1);
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::building);
}

CAF_TEST(a cancel request while building answers the stored record and closes the log after it) {
  auto d = start(outcome::hang, outcome::succeed);
  auto answer = ask(d, cancel_atom::value);
  CAF_REQUIRE(answer.first);
  CAF_CHECK_EQUAL(answer.first->status, deployment_status::cancelled);
  CAF_CHECK_EQUAL(answer.first->error_message, "cancelled by user");
  CAF_CHECK(rec->builder_done);
  // The final record is stored before the log closes.
  CAF_CHECK_LESS(position_of("put cancelled"), position_of("close"));
  CAF_CHECK_LESS(position_of("close"), rec->events.size());
}

CAF_TEST(wait answers the final record once it is stored) {
  auto d = start(outcome::hang, outcome::succeed);
  auto result = ask_later(d, wait_atom::value);
  run_all();
  CAF_CHECK(!result->first); // still building
  caf::anon_send_exit(rec->builder, caf::exit_reason::unhandled_exception);
  run_all();
  CAF_REQUIRE(result->first);
  CAF_CHECK_EQUAL(result->first->status, deployment_status::failed);
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::failed);
}

CAF_TEST(a cancel while the container starts removes it before answering) {
  auto d = start(outcome::succeed, outcome::hang);
  // The runner created the container; it is labelled with the deployment.
  rec->containers["container-9"] = "d-1";
  rec->containers["container-other"] = "d-0";
  auto result = ask_later(d, cancel_atom::value);
  run_all();
  CAF_CHECK(rec->runner_done);
  // The stand-in runner died holding the run request: only the grace ends it.
  CAF_CHECK(!result->first);
  sched.trigger_timeouts();
  run_all();
  CAF_REQUIRE(result->first);
  CAF_CHECK_EQUAL(result->first->status, deployment_status::cancelled);
  CAF_CHECK_EQUAL(rec->stopped, std::vector<std::string>{"container-9"});
  CAF_CHECK_EQUAL(rec->containers.count("container-other"), 1u);
  CAF_CHECK(rec->retired_with.empty());
  CAF_CHECK_LESS(position_of("put cancelled"), position_of("close"));
}

CAF_TEST(a cancel after success is refused and the record stays success) {
  auto d = start(outcome::succeed, outcome::succeed);
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::success);
  auto answer = ask(d, cancel_atom::value);
  CAF_CHECK(!answer.first);
  CAF_CHECK(answer.second); // finished (refused), or already gone
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::success);
  CAF_CHECK(rec->stopped.empty());
}

CAF_TEST(start cancel and wait from no local actor are refused) {
  auto d = start(outcome::hang, outcome::succeed);
  caf::anon_send(d, cancel_atom::value);
  caf::anon_send(d, tick_atom::value);
  run_all();
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::building);
  CAF_CHECK(!rec->builder_done);
}

CAF_TEST(an interrupted deployment ends failed with the reason) {
  auto d = start(outcome::hang, outcome::succeed);
  caf::anon_send(caf::actor_cast<caf::actor>(d),
                 caf::exit_msg{caf::actor_addr{}, make_error(errc::unavailable,
                                                             "interrupted by server shutdown")});
  run_all();
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::failed);
  CAF_CHECK_EQUAL(rec->last_record.error_message, "interrupted by server shutdown");
  CAF_CHECK(logged("Deployment interrupted by server shutdown"));
  CAF_CHECK_LESS(position_of("put failed"), position_of("close"));
}

CAF_TEST(with a proxy the route moves before success and the router retires the previous one) {
  start(outcome::succeed, outcome::succeed, spawn_router());
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::success);
  // The healthy container is routed first, then the success is reported.
  CAF_CHECK_LESS(position_of("route container-1:20001"), position_of("put success"));
  CAF_CHECK_LESS(position_of("put success"), rec->events.size());
  // The router drains the previous container: no retire the old way.
  CAF_CHECK(rec->retired_with.empty());
  CAF_CHECK(rec->log_closed);
}

CAF_TEST(a route that cannot be moved fails the deployment and removes its container) {
  rec->containers["container-1"] = "d-1";
  rec->containers["container-live"] = "d-0";
  start(outcome::succeed, outcome::succeed,
        spawn_router(make_error(errc::unavailable, "Caddy does not answer")));
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::failed);
  CAF_CHECK_EQUAL(rec->last_record.error_message,
                  "switch route failed: Caddy does not answer");
  CAF_CHECK(logged("switch route failed"));
  // Its own container goes; the live one stays, and nothing is retired.
  CAF_CHECK_EQUAL(rec->stopped, std::vector<std::string>{"container-1"});
  CAF_CHECK_EQUAL(rec->containers.count("container-live"), 1u);
  CAF_CHECK(rec->retired_with.empty());
  CAF_CHECK(rec->log_closed);
}

CAF_TEST(failed and cancelled deployments never touch the route) {
  start(outcome::succeed, outcome::fail, spawn_router());
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::failed);
  CAF_CHECK(!routed());
  rec->events.clear();
  auto d = start(outcome::succeed, outcome::hang, spawn_router());
  caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  run_all();
  sched.trigger_timeouts();
  run_all();
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::cancelled);
  CAF_CHECK(!routed());
}

/// The live deployment as the store answers it (newest success first).
deployment live_deployment(std::string image, std::string node) {
  deployment d;
  d.id = "d-live";
  d.status = deployment_status::success;
  d.image_name = std::move(image);
  d.run_node = std::move(node);
  d.commit_sha = "1234567890123456789012345678901234567890";
  return d;
}

CAF_TEST(a config release runs the image live when it starts on its node without a build) {
  base.record.kind = deployment_kind::config;
  base.record.image_name = "img-when-created";
  base.record.run_node = "node-old";
  base.record.commit_message = "Config change: set GREETING";
  // A deployment went live while the release was queued.
  rec->successes = {live_deployment("img-now-live", "node-7"),
                    live_deployment("img-when-created", "node-old")};
  start(outcome::succeed, outcome::succeed);
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::success);
  CAF_CHECK_EQUAL(rec->builds_placed, 0);
  CAF_CHECK_EQUAL(rec->run_pins, std::vector<std::string>{"node-7"});
  CAF_CHECK_EQUAL(rec->run_images, std::vector<std::string>{"img-now-live"});
  auto& d = rec->last_record;
  CAF_CHECK_EQUAL(d.image_name, "img-now-live");
  CAF_CHECK_EQUAL(d.run_node, "node-7");
  CAF_CHECK_EQUAL(d.commit_sha, "1234567890123456789012345678901234567890");
  CAF_CHECK(d.build_node.empty());
  CAF_CHECK(logged("Deployment d-live went live meanwhile"));
  CAF_CHECK(logged("Config change: set GREETING: the live image img-now-live runs with the "
                   "new settings"));
}

CAF_TEST(a config release with nothing live fails and starts no container) {
  base.record.kind = deployment_kind::config;
  base.record.image_name = "img-when-created";
  start(outcome::succeed, outcome::succeed);
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::failed);
  CAF_CHECK_EQUAL(rec->last_record.error_message,
                  "release settings failed: the environment has no live deployment");
  CAF_CHECK_EQUAL(rec->runners_requested, 0);
  CAF_CHECK(rec->run_pins.empty());
  CAF_CHECK(rec->log_closed);
}

CAF_TEST(a config release whose container fails keeps the live one) {
  base.record.kind = deployment_kind::config;
  rec->successes = {live_deployment("img-live", "node-1")};
  start(outcome::succeed, outcome::fail);
  CAF_CHECK_EQUAL(rec->statuses.back(), deployment_status::failed);
  CAF_CHECK(rec->retired_with.empty()); // the previous container is not retired
}

CAF_TEST_FIXTURE_SCOPE_END()
