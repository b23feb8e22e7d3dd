// Keeps Gilgal's own Caddy running. At start it adopts a Caddy that already
// runs for this data directory (its admin API answers, or its pid file names a
// live Caddy that is still starting) instead of starting a second one; when
// Caddy stops answering it is started again, with a growing pause between
// attempts (0.5 s, 1 s, 2 s ... 30 s; back to 0.5 s once it has answered for a
// minute). Blocking: the router calls it from its own thread.
#pragma once

#include <chrono>
#include <string>
#include <sys/types.h>

#include <nlohmann/json.hpp>

#include "proxy/caddy_admin.hpp"
#include "proxy/caddy_process.hpp"

namespace gilgal::proxy {

class caddy_supervisor {
public:
  using clock = std::chrono::steady_clock;

  caddy_supervisor(caddy_launch launch, std::string admin_address);

  /// Writes the configuration Caddy starts with next time (atomically:
  /// a temporary file renamed over the old one).
  void write_config(const nlohmann::json& config);

  /// What one look found.
  enum class state {
    up,        // Caddy answers
    starting,  // a Caddy process runs but does not answer yet (or the pause lasts)
    started,   // Caddy was not running: started now
    failed,    // could not be started (the message says why)
  };

  /// One look: does Caddy answer? If not, starts it when no Caddy process
  /// runs and the pause since the last start is over; a Caddy that has not
  /// answered for `hang_limit` is killed and started again.
  state check(std::string& message, std::chrono::seconds hang_limit = std::chrono::seconds{10});

  /// Calls check() until Caddy answers or `deadline` passes.
  bool wait_until_up(std::chrono::milliseconds deadline, std::string& message);

  /// The pid of the Caddy last seen or started (0 if none).
  pid_t pid() const { return pid_; }

private:
  caddy_launch launch_;
  caddy_admin admin_;
  pid_t pid_ = 0;
  int attempts_ = 0;               // starts since Caddy last answered for a minute
  clock::time_point next_start_{}; // no start before this
  clock::time_point up_since_{};
  clock::time_point silent_since_{};
  bool was_up_ = false;
  bool silent_ = false;
};

} // namespace gilgal::proxy
