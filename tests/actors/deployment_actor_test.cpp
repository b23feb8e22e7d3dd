// The deployment actor's state machine, on CAF's deterministic scheduler, with
// stand-in node, builder, runner, logger and store actors.
#define CAF_SUITE actors.deployment_actor
#include <caf/test/dsl.hpp>

#include <memory>
#include <set>

#include "actors/deployment_actor.hpp"
#include "protocol/error.hpp"

using namespace gilgal;

namespace {

struct config : caf::actor_system_config {
  config() {
    gilgal::add_message_types(*this);
  }
};

/// What the stand-ins saw.
struct recording {
  std::vector<std::string> statuses;       // status of every stored record
  deployment last_record;
  std::vector<std::string> log_messages;
  bool log_closed = false;
  std::vector<std::string> retired_with;   // container kept by each retire
  int runners_requested = 0;
  caf::error builder_exit = caf::sec::none; // reason the builder terminated with
  bool builder_done = false;
  builder_actor builder;
  bool runner_done = false;
  caf::error runner_exit = caf::sec::none;
  int builds_placed = 0;                   // build placements the scheduler gave
  std::vector<std::string> released;       // deployment ids released
  int64_t queue_position = 0;              // what the scheduler says while placing
};

enum class outcome { succeed, fail, hang };

builder_actor::behavior_type fake_builder(builder_actor::pointer self,
                                          std::shared_ptr<recording> rec, outcome out) {
  self->attach_functor([rec](const caf::error& reason) {
    rec->builder_done = true;
    rec->builder_exit = reason;
  });
  return {
    [=](build_atom, const build_job& job) -> caf::result<build_result> {
      if (out == outcome::fail)
        return make_error(errc::build_failed, "RUN false returned 1");
      if (out == outcome::hang)
        return self->make_response_promise<build_result>(); // never delivered
      build_result res;
      res.image_name = "gilgal-" + job.source.id.substr(0, 8) + "-abcdef12";
      res.commit_sha = "abcdef1234567890abcdef1234567890abcdef12";
      res.commit_message = "initial";
      return res;
    },
  };
}

runner_actor::behavior_type fake_runner(runner_actor::pointer self,
                                        std::shared_ptr<recording> rec, outcome out) {
  self->attach_functor([rec](const caf::error& reason) {
    rec->runner_done = true;
    rec->runner_exit = reason;
  });
  return {
    [=](run_atom, const run_job& job) -> caf::result<run_result> {
      if (out == outcome::fail)
        return make_error(errc::run_failed, "health check timed out");
      if (out == outcome::hang)
        return self->make_response_promise<run_result>();
      CAF_CHECK_EQUAL(job.variables.at("GREETING"), "hello");
      return run_result{"container-1", 20001};
    },
  };
}

node_actor::behavior_type fake_node(node_actor::pointer self, std::shared_ptr<recording> rec,
                                    outcome build, outcome run) {
  return {
    [=](new_atom, build_atom) -> builder_actor {
      rec->builder = self->spawn(fake_builder, rec, build);
      return rec->builder;
    },
    [=](new_atom, run_atom) -> runner_actor {
      ++rec->runners_requested;
      return self->spawn(fake_runner, rec, run);
    },
    [=](stop_atom, const std::string&) { return true; },
    [=](retire_atom, const std::string&, const std::string& keep) -> int64_t {
      rec->retired_with.push_back(keep);
      return 1;
    },
    [=](list_atom) { return std::map<std::string, std::string>{}; },
    [=](health_atom, const std::string&) { return container_health{}; },
    [=](retain_atom, const std::string&, const std::set<std::string>&) { return int64_t{0}; },
  };
}

/// A one-node scheduler: every placement is on `node`, named node-N for the
/// N-th build placement.
scheduler_actor::behavior_type fake_cluster(scheduler_actor::pointer self,
                                            std::shared_ptr<recording> rec, node_actor node) {
  return {
    [=](join_atom, const node_info&, const node_actor&) { return true; },
    [=](heartbeat_atom, const std::string&) {},
    [=](place_atom, build_atom, const std::string&, const std::map<std::string, std::string>&) {
      ++rec->builds_placed;
      return placement{"node-" + std::to_string(rec->builds_placed), node};
    },
    [=](place_atom, run_atom, const std::string&, const std::string& pin,
        const std::map<std::string, std::string>&) {
      return placement{pin.empty() ? std::string{"node-run"} : pin, node};
    },
    [=](release_atom, const std::string& id) { rec->released.push_back(id); },
    [=](queue_atom, const std::string&) { return rec->queue_position; },
    [=](list_atom, node_atom) { return std::vector<node_status>{}; },
    [=](stop_atom, const std::string& id) -> caf::result<bool> {
      return self->delegate(node, stop_atom::value, id);
    },
    [=](retire_atom, const std::string& env, const std::string& keep) -> caf::result<int64_t> {
      return self->delegate(node, retire_atom::value, env, keep);
    },
    [=](list_atom) { return std::map<std::string, std::string>{}; },
    [=](health_atom, const std::string&) { return container_health{}; },
    [=](retain_atom, const std::string&, const std::set<std::string>&) { return int64_t{0}; },
    [=](tick_atom) {},
  };
}

logger_actor::behavior_type fake_logger(logger_actor::pointer,
                                        std::shared_ptr<recording> rec) {
  return {
    [=](log_atom, const std::string&, const std::string&, const std::string& msg) {
      rec->log_messages.push_back(msg);
    },
    [=](close_atom, const std::string&) { rec->log_closed = true; },
    [=](subscribe_atom, const std::string&, int64_t,
        const caf::actor&) -> caf::result<std::vector<log_line>, bool> {
      return {std::vector<log_line>{}, false};
    },
    [=](unsub_atom, const std::string&, const caf::actor&) {},
    [=](flush_atom) { return true; },
    [=](tick_atom) {},
  };
}

deployment_store_actor::behavior_type fake_store(deployment_store_actor::pointer,
                                                 std::shared_ptr<recording> rec) {
  return {
    [=](put_atom, const deployment& d) {
      rec->statuses.push_back(d.status);
      rec->last_record = d;
      return true;
    },
    [=](live_atom, const std::string&) { return std::vector<deployment>{}; },
    [=](recover_atom) { return std::vector<deployment>{}; },
    [=](keep_atom, const std::map<std::string, std::string>&) {
      return std::vector<std::string>{};
    },
    [=](retain_atom, const std::string&, int64_t) { return std::set<std::string>{}; },
  };
}

struct fixture : test_coordinator_fixture<config> {
  std::shared_ptr<recording> rec = std::make_shared<recording>();
  std::vector<caf::actor> stand_ins;
  scheduler_actor cluster; // the stand-in scheduler of the latest start()

  ~fixture() {
    for (auto& a : stand_ins)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    rec->builder = nullptr;
    sched.run();
  }

  deployment_actor start(outcome build, outcome run) {
    deployment_context ctx;
    ctx.record.id = "d-1";
    ctx.record.project_id = "p-1234567890";
    ctx.record.environment_id = "e-1";
    ctx.source.id = "p-1234567890";
    ctx.source.repository_url = "/srv/repo";
    ctx.target.id = "e-1";
    ctx.target.variables["GREETING"] = "hello";
    auto node = sys.spawn(fake_node, rec, build, run);
    ctx.cluster = sys.spawn(fake_cluster, rec, node);
    cluster = ctx.cluster;
    ctx.log = sys.spawn(fake_logger, rec);
    ctx.db = sys.spawn(fake_store, rec);
    for (auto a : {caf::actor_cast<caf::actor>(node), caf::actor_cast<caf::actor>(ctx.cluster),
                   caf::actor_cast<caf::actor>(ctx.log), caf::actor_cast<caf::actor>(ctx.db)})
      stand_ins.push_back(a);
    auto d = sys.spawn(deployment_pipeline, ctx);
    stand_ins.push_back(caf::actor_cast<caf::actor>(d));
    caf::anon_send(d, start_atom::value);
    run_all();
    return d;
  }

  void run_all() {
    sched.run();
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
  CAF_CHECK_EQUAL(rec->statuses.front(), status::building);
  CAF_CHECK_EQUAL(rec->statuses.back(), status::success);
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
}

CAF_TEST(a failing build ends failed and never starts a container) {
  start(outcome::fail, outcome::succeed);
  CAF_CHECK_EQUAL(rec->statuses.back(), status::failed);
  CAF_CHECK_EQUAL(rec->last_record.error_message, "build image failed: RUN false returned 1");
  CAF_CHECK_EQUAL(rec->runners_requested, 0);
  CAF_CHECK(rec->retired_with.empty());
  CAF_CHECK(logged("build image failed"));
  CAF_CHECK(rec->log_closed);
}

CAF_TEST(a failing run ends failed and keeps the previous container) {
  start(outcome::succeed, outcome::fail);
  CAF_CHECK_EQUAL(rec->statuses.back(), status::failed);
  CAF_CHECK_EQUAL(rec->last_record.error_message,
                  "run container failed: health check timed out");
  CAF_CHECK(rec->retired_with.empty());
  CAF_CHECK(rec->last_record.container_id.empty());
}

CAF_TEST(cancel during the build exits with user_shutdown and the link stops the builder) {
  auto d = start(outcome::hang, outcome::succeed);
  CAF_CHECK_EQUAL(rec->statuses.back(), status::building);
  CAF_CHECK(!rec->builder_done);
  caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  run_all();
  CAF_CHECK(rec->builder_done);
  CAF_CHECK_EQUAL(rec->builder_exit, caf::error{caf::exit_reason::user_shutdown});
  CAF_CHECK_EQUAL(rec->statuses.back(), status::cancelled);
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
  CAF_CHECK_EQUAL(rec->statuses.back(), status::cancelled);
  CAF_CHECK(rec->retired_with.empty());
}

CAF_TEST(a builder that crashes fails the deployment instead of leaving it stuck) {
  start(outcome::hang, outcome::succeed);
  CAF_CHECK_EQUAL(rec->statuses.back(), status::building);
  caf::anon_send_exit(rec->builder, caf::exit_reason::unhandled_exception);
  run_all();
  CAF_CHECK_EQUAL(rec->statuses.back(), status::failed);
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
  CAF_CHECK_EQUAL(rec->statuses.back(), status::building);
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
  CAF_CHECK_EQUAL(rec->statuses.back(), status::building);
  CAF_CHECK_EQUAL(rec->builds_placed, 2);
  // The scheduler reports the second node lost: no third try.
  caf::send_as(cluster, d, lost_atom::value, std::string{"node-2"});
  run_all();
  CAF_CHECK_EQUAL(rec->statuses.back(), status::failed);
  CAF_CHECK_EQUAL(rec->last_record.error_message, "build image failed: node lost");
  CAF_CHECK(rec->log_closed);
}

CAF_TEST(a queued build logs its position and cancel releases it) {
  rec->queue_position = 3;
  auto d = start(outcome::hang, outcome::succeed);
  CAF_CHECK(logged("Queued at position 3: waiting for a free build slot"));
  caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  run_all();
  CAF_CHECK_EQUAL(rec->statuses.back(), status::cancelled);
  CAF_REQUIRE(!rec->released.empty());
  CAF_CHECK_EQUAL(rec->released.back(), "d-1");
}

CAF_TEST(a second start is refused and places nothing) {
  auto d = start(outcome::hang, outcome::succeed);
  CAF_CHECK_EQUAL(rec->builds_placed, 1);
  caf::anon_send(d, start_atom::value);
  run_all();
  CAF_CHECK_EQUAL(rec->builds_placed, 1);
  CAF_CHECK_EQUAL(rec->statuses.back(), status::building);
}

CAF_TEST_FIXTURE_SCOPE_END()
