#include "nodes/container_control.hpp"

#include <chrono>

#include "nodes/docker_client.hpp"
#include "nodes/http_probe.hpp"
#include "protocol/utf8.hpp"

namespace gilgal {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr std::chrono::seconds stop_grace{10};

std::string time_or_empty(const std::string& t) {
  return t.rfind("0001-01-01", 0) == 0 ? std::string{} : t;
}

container_health health_of(const container_info& info) {
  container_health h;
  h.container_id = info.id;
  h.state = info.status;
  h.running = info.running && info.status != "restarting";
  h.restart_count = info.restart_count;
  h.exit_code = info.exit_code;
  h.oom_killed = info.oom_killed;
  h.started_at = time_or_empty(info.started_at);
  h.finished_at = time_or_empty(info.finished_at);
  return h;
}

/// After a start: waits until the app answers HTTP below 500 on its
/// published port, or stops running, or the deadline passes.
caf::expected<container_health> await_answer(docker_client& docker, const node_settings& node,
                                             const container_command& cmd,
                                             const std::shared_ptr<abort_signal>& abort) {
  auto info = docker.inspect_container(cmd.container_id);
  if (!info)
    return std::move(info.error());
  if (info->host_port <= 0)
    return health_of(*info); // nothing published: nothing to probe
  auto host = info->host_ip.empty() || info->host_ip == "0.0.0.0" ? std::string{"127.0.0.1"}
                                                                  : info->host_ip;
  auto path = !cmd.health_path.empty() ? cmd.health_path : node.cfg.health_check_path;
  if (path.empty() || path.front() != '/')
    path = "/";
  auto url = "http://" + host + ":" + std::to_string(info->host_port) + path;
  auto limit = std::chrono::seconds(cmd.health_timeout_seconds > 0 ? cmd.health_timeout_seconds
                                                                   : node.cfg.health_check_timeout_seconds);
  auto deadline = steady_clock::now() + limit;
  auto probing_since = steady_clock::now();
  auto pause = first_probe_pause;
  auto next_inspect = steady_clock::now() + milliseconds(500);
  for (;;) {
    if (abort && abort->triggered())
      return make_error(errc::cancelled, "cancelled");
    long status = probe_http(url, milliseconds(1000));
    if (status > 0 && status < 500)
      return health_of(*info);
    if (steady_clock::now() >= next_inspect) {
      next_inspect = steady_clock::now() + milliseconds(500);
      auto again = docker.inspect_container(cmd.container_id);
      if (!again)
        return std::move(again.error());
      *info = std::move(*again);
      if (!info->running || info->status == "restarting")
        return health_of(*info); // it exited: its state tells
    }
    if (steady_clock::now() >= deadline)
      return make_error(errc::run_failed, "no HTTP answer below 500 on " + path + " within "
                                            + std::to_string(limit.count()) + "s");
    if (wait_or_abort(pause, abort))
      continue;
    pause = next_probe_pause(pause, steady_clock::now() - probing_since);
  }
}

} // namespace

caf::expected<container_health> control_container(const node_settings& node,
                                                  docker_client& docker,
                                                  const container_command& cmd,
                                                  const std::shared_ptr<abort_signal>& abort) {
  caf::expected<void> done;
  if (cmd.action == "stop")
    done = docker.stop_container(cmd.container_id, stop_grace);
  else if (cmd.action == "start")
    done = docker.start_container(cmd.container_id);
  else if (cmd.action == "restart")
    done = docker.restart_container(cmd.container_id, stop_grace);
  else
    return make_error(errc::invalid_argument, "unknown container action: "
                                                + sanitize_log_text(cmd.action.substr(0, 40)));
  if (!done) {
    if (code_of(done.error()) == errc::not_found)
      return make_error(errc::not_found, "no container " + cmd.container_id.substr(0, 64));
    return make_error(code_of(done.error()), sanitize_log_text(message_of(done.error())));
  }
  if (cmd.action == "stop") {
    auto info = docker.inspect_container(cmd.container_id);
    if (!info)
      return std::move(info.error());
    return health_of(*info);
  }
  return await_answer(docker, node, cmd, abort);
}

} // namespace gilgal
