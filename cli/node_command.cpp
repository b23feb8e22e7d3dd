#include "cli/node_command.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <mutex>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/gatekeeper.hpp"
#include "actors/node.hpp"
#include "actors/logger_relay.hpp"
#include "actors/node_agent.hpp"
#include "actors/node_gate.hpp"
#include "cli/actor_runtime.hpp"
#include "cli/cluster_config.hpp"
#include "cli/logging.hpp"
#include "cli/settings_options.hpp"
#include "cli/shutdown_signals.hpp"
#include "config/cluster_secret.hpp"
#include "protocol/error.hpp"
#include "protocol/type_ids.hpp"

namespace gilgal::cli {

namespace {

constexpr auto shutdown_limit = std::chrono::seconds{60};

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !*buf)
    return "node";
  return buf;
}

int fail(const std::string& message) {
  fprintf(stderr, "error: %s\n", message.c_str());
  return 2;
}

// What the agent's thread tells the main thread.
struct refusal {
  std::mutex mtx;
  bool refused = false;
  std::string message;
};

} // namespace

int run_node(const settings& s) {
  configure_logging(s.log_level);
  if (s.join.empty())
    return fail("gilgal node needs --join HOST:PORT (the control plane's --cluster-listen)");
  auto address = split_host_port(s.join);
  if (!address)
    return fail("--join: " + message_of(address.error()));
  auto secret = load_cluster_secret(s);
  if (!secret)
    return fail(message_of(secret.error()));
  node_info info;
  info.name = s.node_name.empty() ? host_name() : s.node_name;
  info.capacity = s.node_capacity > 0 ? s.node_capacity : s.max_concurrent_builds;
  auto labels = parse_node_labels(s.node_labels);
  if (!labels)
    return fail(message_of(labels.error()));
  info.labels = std::move(*labels);
  info.address = s.advertise_address;
  if (auto ok = check_node_info(info); !ok)
    return fail(message_of(ok.error()) + (s.node_name.empty() ? " (set one with --name)" : ""));

  // Before any thread starts, so that only wait_for_shutdown_signal() gets them.
  block_shutdown_signals();
  int exit_code = 0;
  {
    caf::actor_system_config cfg;
    configure_actor_system(cfg);
    if (auto ok = configure_cluster(cfg, s); !ok)
      return fail(message_of(ok.error()));
    caf::actor_system sys{cfg};

    auto relay = spawn_logger_relay(sys);
    node_settings ns;
    ns.name = info.name;
    ns.cfg = node_config_of(s);
    // Its housekeeping: restarts and OOM kills of this node's containers go
    // to their deployments' logs on the control plane (through the relay).
    ns.housekeeping = true;
    // Containers are published where the control plane's proxy reaches them.
    if (!s.advertise_address.empty())
      ns.cfg.bind_address = s.advertise_address;
    ns.work_root = s.data_dir + "/work";
    // The control plane reaches the node only through a gate that lets in
    // nothing but this process and the control plane it joined.
    auto control_planes = std::make_shared<admitted_nodes>();
    auto node = spawn_node_gate(sys, spawn_node(sys, ns, relay), control_planes);

    auto refused = std::make_shared<refusal>();
    node_agent_config agent_cfg;
    agent_cfg.host = address->first;
    agent_cfg.port = address->second;
    agent_cfg.tls = s.tls_enabled();
    agent_cfg.secret = std::move(*secret);
    agent_cfg.info = info;
    agent_cfg.node = node;
    agent_cfg.relay = relay;
    agent_cfg.control_planes = control_planes;
    agent_cfg.on_joined = [name = info.name, where = s.join] {
      spdlog::info("cluster: joined the control plane at {} as node '{}'", where, name);
      fprintf(stdout, "node %s joined %s\n", name.c_str(), where.c_str());
      fflush(stdout);
    };
    agent_cfg.on_refused = [refused](const caf::error& err) {
      {
        std::lock_guard<std::mutex> guard{refused->mtx};
        refused->refused = true;
        auto msg = message_of(err);
        refused->message = msg.empty() ? to_string(code_of(err)) : msg;
      }
      ::kill(::getpid(), SIGTERM); // wakes the main thread's sigwait
    };
    spdlog::info("node '{}' (capacity {}) joining {}{}", info.name, info.capacity, s.join,
                 agent_cfg.tls ? " over TLS" : "");
    auto agent = spawn_node_agent(sys, std::move(agent_cfg));

    int sig = wait_for_shutdown_signal();
    {
      std::lock_guard<std::mutex> guard{refused->mtx};
      if (refused->refused) {
        fprintf(stderr, "error: the control plane refused this node: %s\n",
                refused->message.c_str());
        exit_code = 1;
      }
    }
    if (exit_code == 0)
      spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    start_shutdown_watchdog(shutdown_limit);
    stop_actor(sys, agent, "node agent");
    stop_actor(sys, caf::actor_cast<caf::actor>(node), "node");
    stop_actor(sys, caf::actor_cast<caf::actor>(relay), "logger relay");
  }
  spdlog::info("stopped");
  return exit_code;
}

void add_node_command(CLI::App& app, int& exit_code) {
  auto* node = app.add_subcommand(
    "node", "Run a build node of a farm: join the control plane at --join HOST:PORT (its "
            "--cluster-listen) with the cluster secret (GILGAL_CLUSTER_SECRET or "
            "--cluster-secret-file), build and run on this machine's Docker (--docker-host). "
            "Rejoins after the control plane is lost. Stops cleanly on SIGTERM or SIGINT; exits "
            "1 if the control plane refuses it.");
  run_with_settings(*node, setting_keys_for(setting_command::node), exit_code, run_node);
}

} // namespace gilgal::cli
