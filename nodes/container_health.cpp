#include "nodes/container_health.hpp"

#include "nodes/docker_client.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

/// Docker reports "0001-01-01T00:00:00Z" for "never".
std::string time_or_empty(const std::string& t) {
  return t.rfind("0001-01-01", 0) == 0 ? std::string{} : t;
}

} // namespace

caf::expected<container_health> container_health_of(docker_client& docker,
                                                    const std::string& container_id) {
  auto info = docker.inspect_container(container_id);
  if (!info)
    return std::move(info.error());
  container_health h;
  h.container_id = info->id;
  h.state = info->status;
  h.running = info->running && info->status != "restarting";
  h.restart_count = info->restart_count;
  h.exit_code = info->exit_code;
  h.oom_killed = info->oom_killed;
  h.started_at = time_or_empty(info->started_at);
  h.finished_at = time_or_empty(info->finished_at);
  if (h.running) {
    // A container that stops between inspect and stats keeps zeros.
    if (auto s = docker.stats(info->id)) {
      h.cpu_percent = s->cpu_percent;
      h.memory_bytes = s->memory_usage;
      h.memory_limit_bytes = s->memory_limit;
    }
  }
  return h;
}

} // namespace gilgal
