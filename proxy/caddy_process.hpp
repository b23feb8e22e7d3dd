// Starting and finding the Caddy process Gilgal runs itself.
//
// Caddy is started in a session of its own and is not Gilgal's child (a
// double fork hands it to the init process), so it outlives Gilgal, even a
// kill -9, and keeps serving apps. Caddy writes its pid to a pid file; a
// restarted Gilgal finds it there and adopts it instead of starting another.
#pragma once

#include <map>
#include <string>
#include <sys/types.h>

#include <caf/expected.hpp>

namespace gilgal::proxy {

struct caddy_launch {
  std::string binary = "caddy";   // a path, or a name looked up in PATH
  std::string config_file;        // JSON configuration Caddy starts with
  std::string pid_file;           // Caddy writes its pid here
  std::string output_file;        // Caddy's stdout and stderr (appended)
  std::map<std::string, std::string> env; // added to Gilgal's environment
};

/// Starts `caddy run --config FILE --pidfile PIDFILE` and returns its pid
/// (that of Caddy itself). errc::not_found when the binary is missing,
/// errc::internal when the system refuses. Does not wait for Caddy to answer.
caf::expected<pid_t> start_caddy(const caddy_launch& launch);

/// The pid in `pid_file` when that process is alive (not a zombie) and runs
/// Caddy; 0 otherwise.
pid_t running_caddy(const std::string& pid_file);

/// True while process `pid` exists and is not a zombie.
bool process_alive(pid_t pid);

/// `name` if it holds a '/', else its path in $PATH (empty if not found).
std::string find_program(const std::string& name);

} // namespace gilgal::proxy
