#include "actors/run_state.hpp"

namespace gilgal {

environment_state run_state_of(const container_health& h) {
  environment_state s;
  s.container_id = h.container_id;
  s.started_at = h.started_at;
  auto exit_text = "exited with code " + std::to_string(h.exit_code)
                   + (h.oom_killed ? " (killed: out of memory)" : "");
  if (h.running) {
    s.state = "running";
  } else if (h.state == "restarting") {
    s.state = "restarting";
    s.reason = "the app " + exit_text + "; Docker restarts it (restart "
               + std::to_string(h.restart_count) + ")";
  } else if (h.state == "exited" || h.state == "created" || h.state == "paused") {
    s.state = "stopped";
  } else {
    s.state = "failed";
    s.reason = "Docker reports the container " + (h.state.empty() ? std::string{"gone"} : h.state)
               + " (" + exit_text + ")";
  }
  return s;
}

} // namespace gilgal
