#include "actors/container_watcher.hpp"

#include <map>

#include <caf/blocking_actor.hpp>
#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/metrics.hpp"
#include "nodes/abort_signal.hpp"
#include "nodes/docker_client.hpp"
#include "nodes/docker_events.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

constexpr auto stream_window = std::chrono::minutes(10); // reconnect period
constexpr auto retry_delay = std::chrono::seconds(2);    // after a stream error

/// What the worker remembers per container between events.
struct container_memory {
  int64_t restarts_seen = 0;
  bool oom = false;             // an oom event came before the die
  bool restarting = false;      // a die answered by a restart; log the next start
};

class watcher_worker {
public:
  watcher_worker(caf::blocking_actor* self, container_watcher_config cfg,
                 std::shared_ptr<abort_signal> abort)
    : self_(self), cfg_(std::move(cfg)), abort_(std::move(abort)), docker_(*cfg_.docker) {
  }

  void run() {
    event_filter filter;
    filter.labels = {"gilgal.managed=true"};
    filter.types = {"container"};
    filter.actions = {"die", "oom", "start", "restart"};
    int64_t since = cfg_.since_nano > 0 ? cfg_.since_nano : now_nanos();
    while (!abort_->triggered()) {
      auto window_start = now_nanos();
      auto res = stream_docker_events(docker_, filter, since, stream_window, abort_,
                                      [&](const docker_event& ev) {
                                        since = std::max(since, ev.time_nano);
                                        handle(ev);
                                      });
      if (abort_->triggered())
        break;
      if (!res) {
        spdlog::warn("container watcher: {}; reconnecting", message_of(res.error()));
        wait_or_abort(retry_delay, abort_);
      } else {
        since = std::max(since, window_start);
      }
    }
  }

private:
  static int64_t now_nanos() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
  }

  void handle(const docker_event& ev) {
    auto dep = ev.attributes.find("gilgal.deployment");
    if (dep == ev.attributes.end() || dep->second.empty() || ev.id.empty())
      return;
    auto& mem = memory_[ev.id];
    if (ev.action == "oom") {
      mem.oom = true;
      metrics::add_container_oom_kill();
    } else if (ev.action == "die") {
      on_die(ev, dep->second, mem);
    } else if (ev.action == "start") {
      if (mem.restarting) {
        mem.restarting = false;
        log(dep->second, "info",
            "Container running again (restart " + std::to_string(mem.restarts_seen) + ")");
      }
    } else if (ev.action == "restart") {
      log(dep->second, "info", "Container restarted");
    }
  }

  void on_die(const docker_event& ev, const std::string& deployment_id,
              container_memory& mem) {
    std::string code = "?";
    if (auto i = ev.attributes.find("exitCode"); i != ev.attributes.end())
      code = i->second;
    // Docker decides on a restart (and counts it) before it emits "die".
    auto info = docker_.inspect_container(ev.id);
    bool oom = mem.oom || (info && info->oom_killed);
    mem.oom = false;
    bool restarting = false;
    if (info) {
      // "running" again with a higher count: restarted before we looked. An
      // exited or removed container (a stop through the API) was not.
      restarting = info->status == "restarting"
                   || (info->status == "running" && info->restart_count > mem.restarts_seen);
      mem.restarts_seen = std::max<int64_t>(mem.restarts_seen, info->restart_count);
    }
    std::string what = oom ? "Container killed: out of memory (exit code " + code + ")"
                           : "Container exited with code " + code;
    if (restarting) {
      mem.restarting = true;
      metrics::add_container_restart();
      log(deployment_id, oom ? "error" : "warning",
          what + "; restarting (restart " + std::to_string(mem.restarts_seen) + ")");
    } else if (oom) {
      log(deployment_id, "error", what);
    }
    if (!info)
      memory_.erase(ev.id); // removed: forget it
  }

  void log(const std::string& deployment_id, const std::string& level,
           const std::string& message) {
    if (!cfg_.logger)
      return;
    // The logger continues the stored numbering of a log it no longer holds.
    self_->send(cfg_.logger, log_atom::value, deployment_id, level, message);
  }

  caf::blocking_actor* self_;
  container_watcher_config cfg_;
  std::shared_ptr<abort_signal> abort_;
  docker_client& docker_; // cfg_ holds it
  std::map<std::string, container_memory> memory_;
};

caf::behavior watcher(caf::event_based_actor* self, container_watcher_config cfg) {
  auto abort = abort_signal::make();
  self->attach_functor([abort](const caf::error&) { abort->trigger(); });
  auto worker = self->spawn([cfg, abort](caf::blocking_actor* w) {
    watcher_worker{w, cfg, abort}.run();
  });
  self->monitor(worker);
  self->set_down_handler([self](caf::down_msg&) { self->quit(); });
  return {
    [](tick_atom) {}, // nothing to do: the worker does the work
  };
}

} // namespace

caf::actor spawn_container_watcher(caf::actor_system& sys, container_watcher_config cfg) {
  if (cfg.since_nano == 0)
    cfg.since_nano = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return sys.spawn(watcher, std::move(cfg));
}

} // namespace gilgal
