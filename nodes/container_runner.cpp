#include "nodes/container_runner.hpp"

#include <algorithm>
#include <thread>

#include <nlohmann/json.hpp>

#include "nodes/docker_client.hpp"
#include "nodes/docker_refs.hpp"
#include "nodes/environment_network.hpp"
#include "nodes/http_probe.hpp"
#include "nodes/image_puller.hpp"
#include "protocol/error.hpp"
#include "protocol/utf8.hpp"

namespace gilgal {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr int default_container_port = 8080;
constexpr int log_lines_on_failure = 50;
constexpr int max_port_attempts = 5;

/// EXPOSEd ports of an image ("3000/tcp"), read from GET /images/NAME/json.
std::vector<std::string> exposed_ports(docker_client& docker, const std::string& image) {
  std::vector<std::string> result;
  auto seg = image_path_segment(image);
  if (!seg)
    return result;
  docker_client::request req;
  req.path = "/images/" + *seg + "/json";
  auto res = docker.perform(req);
  if (!res || res->status != 200)
    return result;
  auto doc = nlohmann::json::parse(res->body, nullptr, false);
  if (doc.is_discarded() || !doc.contains("Config") || !doc["Config"].is_object())
    return result;
  auto& cfg = doc["Config"];
  if (cfg.contains("ExposedPorts") && cfg["ExposedPorts"].is_object())
    for (auto& item : cfg["ExposedPorts"].items())
      result.push_back(item.key());
  return result;
}

/// Removes the container and gives its port back, and the environment's
/// network when nothing else uses it; errors are ignored (this is cleanup
/// after another error).
void discard(docker_client& docker, const std::string& id, int port, port_allocator& ports,
             const std::string& environment_id) {
  docker.remove_container(id, true, true);
  ports.release(port);
  (void) remove_environment_network_if_unused(docker, environment_id);
}

/// An environment's own value, else the server default; never above the
/// server maximum (environments stored before a maximum was lowered).
template <class T>
T limited(T own, T fallback, T maximum) {
  return std::min(own > 0 ? own : fallback, maximum);
}

} // namespace

int container_port_of(const std::vector<std::string>& exposed) {
  std::vector<int> tcp;
  for (auto& p : exposed) {
    auto slash = p.find('/');
    auto proto = slash == std::string::npos ? "tcp" : p.substr(slash + 1);
    if (proto != "tcp")
      continue;
    try {
      tcp.push_back(std::stoi(p.substr(0, slash)));
    } catch (...) {
    }
  }
  return tcp.size() == 1 ? tcp.front() : default_container_port;
}

namespace {

caf::expected<run_result> run(const run_job& job, const node_settings& node,
                              docker_client& docker, port_allocator& ports,
                              const std::shared_ptr<abort_signal>& abort,
                              const log_function& log) {
  const auto& cfg = node.cfg;
  // Handoff: an image built on another node comes from the registry.
  auto pull = push_options_of(cfg);
  pull.abort = abort;
  if (auto have = ensure_image(docker, job.image_name, job.registry_image, node.name, pull, log);
      !have)
    return have.error();
  auto host_port = ports.allocate();
  if (!host_port)
    return host_port.error();
  int port = *host_port;
  int container_port = container_port_of(exposed_ports(docker, job.image_name));

  container_spec spec;
  spec.name = "gilgal-" + job.environment_id.substr(0, 8) + "-" + job.deployment_id.substr(0, 8);
  spec.image = job.image_name;
  for (auto& [name, value] : job.variables)
    if (name != "PORT")
      spec.env.push_back(name + "=" + value);
  spec.env.push_back("PORT=" + std::to_string(container_port));
  spec.labels = {{"gilgal.project", job.project_id},
                 {"gilgal.environment", job.environment_id},
                 {"gilgal.deployment", job.deployment_id},
                 {"gilgal.managed", "true"}};
  spec.container_port = container_port;
  spec.host_ip = cfg.bind_address;
  spec.host_port = port;
  const auto& s = job.settings;
  spec.memory_bytes = limited(s.memory_mb, cfg.default_memory_mb, cfg.max_memory_mb) * 1024 * 1024;
  spec.nano_cpus = static_cast<int64_t>(limited(s.cpus, cfg.default_cpus, cfg.max_cpus) * 1e9);
  spec.pids_limit = limited(s.pids, cfg.default_pids, cfg.max_pids);
  spec.no_new_privileges = true;
  spec.drop_all_capabilities = true;
  // PID 1 is Docker's init: an app that ignores SIGTERM as PID 1 (python
  // http.server, busybox httpd) would otherwise hold every stop for 10 s.
  spec.init = true;
  // Docker restarts a crashed container itself, with exponential backoff
  // (100 ms doubling, reset after 10 s up); a stop through the API is final.
  spec.restart_policy = "unless-stopped";
  spec.log_max_mb = cfg.container_log_max_mb;
  spec.log_max_files = cfg.container_log_max_files;

  // Another process (or another Gilgal on the same daemon) may take the port
  // between our bind test and Docker's: then try the next free one.
  caf::expected<std::string> id{std::string{}};
  for (int attempt = 1;; ++attempt) {
    // The environment's own network (nodes/environment_network); one that
    // vanished between ensure and create (the last container of the
    // environment was just removed) is created again.
    for (int tries = 1;; ++tries) {
      auto network = ensure_environment_network(docker, job.environment_id, job.project_id);
      if (!network) {
        ports.release(port);
        return network.error();
      }
      spec.network_mode = *network;
      id = docker.create_container(spec);
      if (id || code_of(id.error()) != errc::not_found
          || message_of(id.error()).find("network") == std::string::npos || tries == 3)
        break;
    }
    if (!id) {
      ports.release(port);
      return id.error();
    }
    auto started = docker.start_container(*id);
    if (started)
      break;
    discard(docker, *id, port, ports, job.environment_id);
    auto text = message_of(started.error());
    bool port_taken = text.find("port is already allocated") != std::string::npos
                      || text.find("address already in use") != std::string::npos;
    if (!port_taken || attempt == max_port_attempts)
      return started.error();
    auto next = ports.allocate();
    if (!next)
      return next.error();
    port = *next;
    spec.host_port = port;
  }

  // Health: any HTTP answer below 500 on the health path, within the timeout.
  auto path = !s.health_check_path.empty() ? s.health_check_path : cfg.health_check_path;
  auto limit = std::chrono::seconds(s.health_check_timeout_seconds > 0
                                      ? s.health_check_timeout_seconds
                                      : cfg.health_check_timeout_seconds);
  auto probe_host = cfg.bind_address == "0.0.0.0" ? std::string{"127.0.0.1"} : cfg.bind_address;
  auto url = "http://" + probe_host + ":" + std::to_string(port) + path;
  log("info", "Waiting for the container to answer HTTP on " + path + "...");
  auto deadline = steady_clock::now() + limit;
  std::string failure;
  // Probes come quickly at first and back off (nodes/http_probe).
  auto probing_since = steady_clock::now();
  auto pause = first_probe_pause;
  auto next_inspect = steady_clock::now() + milliseconds(1000);
  for (;;) {
    if (abort->triggered()) {
      discard(docker, *id, port, ports, job.environment_id);
      return make_error(errc::cancelled, "cancelled");
    }
    long status = probe_http(url, milliseconds(1000));
    if (status > 0 && status < 500)
      return run_result{*id, port};
    if (steady_clock::now() >= next_inspect) { // about once a second: has it died?
      next_inspect = steady_clock::now() + milliseconds(1000);
      auto info = docker.inspect_container(*id);
      // A crash is "restarting" (Running stays true) under the restart policy.
      if (info && (!info->running || info->status == "restarting" || info->restart_count > 0)) {
        failure = "container exited with code " + std::to_string(info->exit_code)
                  + (info->oom_killed ? " (killed: out of memory)" : "");
        break;
      }
    }
    if (steady_clock::now() >= deadline) {
      failure = "health check failed: no HTTP answer on " + path + " within "
                + std::to_string(limit.count()) + "s"
                + (status >= 500 ? " (last status " + std::to_string(status) + ")" : "");
      break;
    }
    if (wait_or_abort(pause, abort))
      continue; // cancelled: handled at the top of the loop
    pause = next_probe_pause(pause, steady_clock::now() - probing_since);
  }
  if (auto lines = docker.container_logs(*id, log_lines_on_failure); lines && !lines->empty()) {
    log("error", "Last lines of the container's output:");
    for (auto& line : *lines)
      log("error", line);
  }
  discard(docker, *id, port, ports, job.environment_id);
  return make_error(errc::run_failed, failure);
}

} // namespace

caf::expected<run_result> run_container(const run_job& job, const node_settings& node,
                                        docker_client& docker, port_allocator& ports,
                                        const std::shared_ptr<abort_signal>& abort,
                                        const log_function& log) {
  auto result = run(job, node, docker, ports, abort, log);
  if (!result && result.error().category() == error_category)
    // Messages quote Docker; they end up in records and logs.
    return make_error(code_of(result.error()), sanitize_log_text(message_of(result.error())));
  return result;
}

caf::expected<bool> remove_container_and_port(const std::string& container_id,
                                              docker_client& docker,
                                              port_allocator& ports) {
  auto info = docker.inspect_container(container_id);
  if (!info)
    return code_of(info.error()) == errc::not_found ? caf::expected<bool>{false}
                                                    : caf::expected<bool>{info.error()};
  docker.stop_container(container_id, std::chrono::seconds(10));
  if (auto removed = docker.remove_container(container_id, true, true); !removed)
    return removed.error();
  if (info->host_port > 0)
    ports.release(info->host_port);
  if (auto env = info->labels.find("gilgal.environment"); env != info->labels.end())
    (void) remove_environment_network_if_unused(docker, env->second);
  return true;
}

caf::expected<std::vector<std::string>>
containers_to_retire(const std::string& environment_id, const std::string& keep_container_id,
                     docker_client& docker) {
  auto list = docker.list_containers({"gilgal.environment=" + environment_id}, true);
  if (!list)
    return list.error();
  std::vector<std::string> ids;
  for (auto& c : *list)
    if (c.id != keep_container_id)
      ids.push_back(c.id);
  return ids;
}

} // namespace gilgal

namespace gilgal {

caf::expected<std::map<std::string, std::string>>
list_managed_containers(docker_client& docker) {
  auto list = docker.list_containers({"gilgal.managed=true"}, true);
  if (!list)
    return list.error();
  std::map<std::string, std::string> result;
  for (auto& c : *list) {
    auto i = c.labels.find("gilgal.deployment");
    result.emplace(c.id, i == c.labels.end() ? std::string{} : i->second);
  }
  return result;
}

} // namespace gilgal
