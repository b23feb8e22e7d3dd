#include "cli/serve_command.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/deployment_manager.hpp"
#include "actors/deployment_store.hpp"
#include "actors/environment_events.hpp"
#include "actors/environment_removal.hpp"
#include "actors/preview_reaper.hpp"
#include "actors/local_cluster.hpp"
#include "actors/node.hpp"
#include "actors/logger.hpp"
#include "actors/notifier.hpp"
#include "actors/router.hpp"
#include "actors/scheduler.hpp"
#include "cli/actor_runtime.hpp"
#include "cli/cluster_config.hpp"
#include "cli/cluster_listener.hpp"
#include "cli/logging.hpp"
#include "cli/proxy_setup.hpp"
#include "cli/settings_options.hpp"
#include "cli/shutdown_signals.hpp"
#include "cli/store_access.hpp"
#include "config/cluster_secret.hpp"
#include "http/http_edge.hpp"
#include "protocol/error.hpp"
#include "protocol/type_ids.hpp"

namespace gilgal::cli {

namespace {

constexpr auto actor_stop_timeout = std::chrono::seconds{15};
constexpr auto shutdown_limit = std::chrono::seconds{60};

std::string error_text(const caf::error& err) {
  auto msg = message_of(err);
  return msg.empty() ? std::string{to_string(code_of(err))} : msg;
}

} // namespace

int run_serve(const settings& s) {
  configure_logging(s.log_level);
  // Before any thread starts, so that every thread inherits the mask and only
  // wait_for_shutdown_signal() receives SIGTERM / SIGINT.
  block_shutdown_signals();

  auto db = open_configured_store(s);
  if (!db) {
    spdlog::error("cannot open the store ({}): {}", describe_store(s), error_text(db.error()));
    return 1;
  }
  spdlog::info("store: {}", describe_store(s));
  {
    caf::actor_system_config cfg;
    configure_actor_system(cfg);
    if (!s.cluster_listen.empty()) {
      // Build farm: middleman (+ OpenSSL); the secret is checked before anything starts.
      auto ready = configure_cluster(cfg, s);
      auto secret = ready ? load_cluster_secret(s) : caf::expected<std::string>{ready.error()};
      if (!secret) {
        spdlog::error("{}", error_text(secret.error()));
        return 2;
      }
    }
    caf::actor_system sys{cfg};

    // The deployment engine: logger, scheduler, the in-process node, the supervisor.
    // Nodes the gatekeeper admits; the only remote senders the scheduler's and
    // the logger's mailboxes let in.
    auto admitted = std::make_shared<admitted_nodes>();
    log_limits limits;
    limits.max_lines = s.log_max_lines;
    limits.max_bytes = s.log_max_mb << 20;
    auto logger = spawn_logger(sys, *db, admitted, limits);
    scheduler_config placing;
    placing.heartbeat_timeout = std::chrono::seconds{s.heartbeat_timeout_seconds};
    auto directory = std::make_shared<node_directory>(); // nodes' advertised addresses
    placing.directory = directory;
    auto scheduler = spawn_scheduler(sys, placing, admitted);
    node_actor node;
    if (!s.no_local_node) {
      node_settings local;
      local.cfg = node_config_of(s);
      local.housekeeping = true;
      local.work_root = s.data_dir + "/work";
      node = spawn_node(sys, local, logger);
      if (auto err = join_local_node(sys, scheduler, node,
                                     node_info{"local", s.max_concurrent_builds, {}, {}}))
        spdlog::error("the local node could not join: {}", message_of(err));
    }
    deployment_manager_config engine;
    engine.scheduler = scheduler;
    engine.log = logger;
    engine.db = spawn_deployment_store(sys, *db);
    engine.build_timeout = std::chrono::seconds{s.build_timeout_seconds};
    engine.run_timeout = std::chrono::seconds{s.health_check_timeout_seconds + 120};
    engine.image_retention = s.image_retention;
    // The proxy in front of apps (Caddy), owned by the router.
    auto routing = router_settings(s, *db, scheduler, logger);
    if (!routing) {
      spdlog::error("{}", error_text(routing.error()));
      return 2;
    }
    routing->nodes = directory;
    auto router = spawn_router(sys, *routing);
    if (routing->enabled) {
      if (auto warning = listener_migration_warning(); !warning.empty())
        spdlog::warn("proxy: {}", warning);
    }
    if (routing->enabled)
      engine.router = router; // deployments switch routes and hand it their replaced containers
    // Signed notifications of deployment events, told by the manager.
    notifier_config notifying;
    notifying.db = *db;
    notifying.allow_private_targets = s.allow_private_targets;
    notifying.apps_domain = s.apps_domain;
    notifying.proxy_https = s.proxy_tls != "off";
    if (!s.proxy_listen.empty())
      notifying.proxy_listen = notifying.proxy_https ? s.proxy_https_listen : s.proxy_listen;
    auto notifier = spawn_notifier(sys, notifying);
    engine.notifier = notifier;
    // Followers of runtime logs wait on it for deployments going live and deletions.
    auto events = sys.spawn(environment_events);
    engine.events = events;
    auto manager = sys.spawn(deployment_manager, engine);

    // Previews idle past their project's TTL go the way deleted environments go.
    preview_reaper_config reaping;
    reaping.db = *db;
    reaping.remove = [removal = environment_removal{&sys, *db, manager, router}](
                       const std::string& environment_id) {
      return remove_environment(removal, environment_id);
    };
    reaping.interval = std::chrono::seconds{s.preview_reap_interval_seconds};
    auto reaper = spawn_preview_reaper(sys, reaping);

    http_services services;
    services.db = *db;
    services.deployment_manager = manager;
    services.logger = logger;
    services.node = node;
    services.scheduler = scheduler;
    services.router = router;
    services.environment_events = events;
    // Stops the engine in order: deployments first, the store writer last.
    // Caddy keeps running: apps stay served while Gilgal is down.
    auto stop_engine = [&] {
      stop_actor(sys, caf::actor_cast<caf::actor>(reaper), "preview reaper");
      stop_actor(sys, caf::actor_cast<caf::actor>(manager), "deployment manager");
      // Deliveries still waiting to retry end with it (linked).
      stop_actor(sys, caf::actor_cast<caf::actor>(notifier), "notifier");
      stop_actor(sys, caf::actor_cast<caf::actor>(router), "router");
      stop_actor(sys, caf::actor_cast<caf::actor>(events), "environment events");
      stop_actor(sys, caf::actor_cast<caf::actor>(node), "node");
      stop_actor(sys, caf::actor_cast<caf::actor>(scheduler), "scheduler");
      {
        caf::scoped_actor self{sys};
        self->request(logger, actor_stop_timeout, flush_atom::value)
          .receive([](bool) {}, [](const caf::error&) {});
      }
      stop_actor(sys, caf::actor_cast<caf::actor>(logger), "logger");
      {
        // The store actor handles its mailbox in order: once this answers, every
        // record the deployments wrote while stopping is stored.
        caf::scoped_actor self{sys};
        self->request(engine.db, actor_stop_timeout, live_atom::value, std::string{})
          .receive([](const std::vector<deployment>&) {}, [](const caf::error&) {});
      }
      stop_actor(sys, caf::actor_cast<caf::actor>(engine.db), "deployment store");
    };
    auto edge = spawn_http_edge(sys, s, services);
    if (!edge) {
      spdlog::error("cannot serve HTTP on {}: {}", s.listen, error_text(edge.error()));
      stop_engine();
      return 1;
    }
    if (!s.cluster_listen.empty()) {
      auto port = open_cluster_listener(sys, s, scheduler, logger, engine.db, admitted);
      if (!port) {
        spdlog::error("{}", error_text(port.error()));
        stop_actor(sys, *edge, "http edge");
        stop_engine();
        return 1;
      }
      spdlog::info("cluster: listening on {}:{}",
                   s.cluster_listen.substr(0, s.cluster_listen.rfind(':')), *port);
    }
    {
      // Crash recovery once the address is ours (a server that cannot start touches
      // nothing): unfinished deployments end "interrupted
      // by restart"; containers of no live deployment are removed.
      caf::scoped_actor self{sys};
      self->request(manager, std::chrono::seconds(60), recover_atom::value)
        .receive([](int64_t) {},
                 [](const caf::error& err) {
                   spdlog::warn("recovery incomplete: {}", message_of(err));
                 });
    }
    if (routing->enabled) {
      // Adopts a running Caddy or starts one, and applies the routes.
      caf::scoped_actor self{sys};
      self->request(router, std::chrono::seconds(30), reconcile_atom::value)
        .receive(
          [&](int64_t n) {
            spdlog::info("proxy: serving {} environment(s) at {}", n, proxy_address(s));
          },
          [&](const caf::error& err) {
            spdlog::error("proxy: not serving yet ({}); retrying in the background",
                          message_of(err));
          });
    }
    spdlog::info("listening on http://{}", s.listen);
    spdlog::info("to get an API token: gilgal admin create-user NAME --data-dir {}{}", s.data_dir,
                 s.database_url.empty() ? "" : " --database-url URL");

    int sig = wait_for_shutdown_signal();
    spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    start_shutdown_watchdog(shutdown_limit);
    stop_actor(sys, *edge, "http edge");
    stop_engine();
  } // the actor system waits for every remaining actor here
  db->reset();
  spdlog::info("stopped");
  return 0;
}

void add_serve_command(CLI::App& app, int& exit_code) {
  auto* serve = app.add_subcommand(
    "serve", "Run the control plane: the HTTP API on --listen, the store (SQLite in the data "
             "directory by default, or PostgreSQL with --database-url) and the deployment "
             "engine. Precedence: flags > GILGAL_* environment > --config file > defaults. "
             "Stops cleanly on SIGTERM or SIGINT.");
  run_with_settings(*serve, setting_keys_for(setting_command::serve), exit_code, run_serve);
}

} // namespace gilgal::cli
