// The gate in front of a build node's actor: over a real middleman connection
// on loopback, a peer that is not the control plane the node joined gets
// nothing done (its requests are dropped), anonymous messages are dropped
// even from the control plane, and the control plane's requests go through.
#define CAF_SUITE actors.node_gate
#include <caf/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/node_gate.hpp"
#include "protocol/error.hpp"
#include "protocol/type_ids.hpp"

using namespace gilgal;
using namespace std::chrono_literals;

namespace {

struct process {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;

  process() {
    add_message_types(cfg);
    cfg.load<caf::io::middleman>();
    cfg.set("scheduler.max-threads", 2);
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

/// A node that only counts the containers it was told to stop.
node_actor::behavior_type counting_node(node_actor::pointer,
                                        std::shared_ptr<std::atomic<int>> stops) {
  return {
    [](new_atom, build_atom) -> caf::result<builder_actor> {
      return make_error(errc::unavailable, "no");
    },
    [](new_atom, run_atom) -> caf::result<runner_actor> {
      return make_error(errc::unavailable, "no");
    },
    [stops](stop_atom, const std::string&) {
      ++*stops;
      return true;
    },
    [](retire_atom, const std::string&, const std::string&) { return int64_t{0}; },
    [](list_atom) { return std::map<std::string, std::string>{}; },
    [](health_atom, const std::string&) -> caf::result<container_health> {
      return make_error(errc::not_found, "no");
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

} // namespace

CAF_TEST(only the control plane the node joined gets through the gate) {
  process node_side;
  process peer;
  auto stops = std::make_shared<std::atomic<int>>(0);
  auto trusted = std::make_shared<admitted_nodes>();
  auto gate = spawn_node_gate(*node_side.sys, node_side.sys->spawn(counting_node, stops),
                              trusted);
  // Published only so that the test's peer can reach it.
  auto port = node_side.sys->middleman().publish(gate, 0, "127.0.0.1");
  CAF_REQUIRE(port);
  auto remote = peer.sys->middleman().remote_actor<node_actor>("127.0.0.1", *port);
  CAF_REQUIRE(remote);
  caf::scoped_actor self{*peer.sys};
  auto stop = [&](caf::timespan limit) {
    caf::expected<bool> out{caf::sec::none};
    self->request(*remote, limit, stop_atom::value, std::string{"c1"})
      .receive([&](bool b) { out = b; }, [&](caf::error& e) { out = std::move(e); });
    return out;
  };
  // A stranger: dropped, the node never hears of it.
  auto dropped = stop(1s);
  CAF_REQUIRE(!dropped);
  CAF_CHECK_EQUAL(dropped.error(), caf::sec::request_timeout);
  CAF_CHECK_EQUAL(stops->load(), 0);
  // The control plane (its actor system admitted by the agent): through.
  trusted->admit(peer.sys->node());
  caf::anon_send(*remote, stop_atom::value, std::string{"c1"});
  auto ok = stop(10s);
  CAF_REQUIRE(ok);
  CAF_CHECK_EQUAL(*ok, true);
  // In order on one connection: the anonymous stop before it was dropped.
  CAF_CHECK_EQUAL(stops->load(), 1);
  caf::anon_send_exit(gate, caf::exit_reason::user_shutdown);
}
