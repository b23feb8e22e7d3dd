// Runs a program with an argument vector — never through a shell — and captures
// its output. The child is the leader of a new process group, so a timeout or a
// cancellation kills the program and everything it started.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace gilgal {

struct process_options {
  /// Working directory of the child; empty: the caller's.
  std::string cwd;
  /// Variables added to (or overriding) the caller's environment.
  std::map<std::string, std::string> env;
  /// Variables removed from the child's environment.
  std::vector<std::string> unset_env;
  /// Wall-clock limit; zero: none. On expiry the whole process group gets
  /// SIGKILL and the result has timed_out set.
  std::chrono::milliseconds timeout{0};
  /// At most this many bytes of stdout and of stderr are kept (each); the rest
  /// is read and dropped.
  size_t max_output_bytes = 1 << 20;
  /// When set and it becomes true, the process group is killed and run_process
  /// returns errc::cancelled.
  const std::atomic<bool>* cancel = nullptr;
};

struct process_result {
  int exit_code = -1;      // exit status, or 128 + signal number when killed
  std::string out;         // captured stdout (possibly truncated)
  std::string err;         // captured stderr (possibly truncated)
  bool timed_out = false;  // killed because options.timeout expired
  bool truncated = false;  // some output was dropped (max_output_bytes)
};

/// Runs argv[0] (looked up in PATH when it has no '/') with the arguments
/// argv[1..], stdin connected to /dev/null. Errors: errc::invalid_argument for
/// an empty argv, errc::not_found when the program does not exist,
/// errc::cancelled when options.cancel fired, errc::internal when the system
/// refuses (pipes, spawn). A non-zero exit or a timeout is NOT an error: look
/// at the result.
caf::expected<process_result> run_process(const std::vector<std::string>& argv,
                                          const process_options& options = {});

/// The last `max_lines` non-empty lines of `text`, joined by '\n' (for error
/// messages built from a program's stderr).
std::string tail_lines(const std::string& text, size_t max_lines);

} // namespace gilgal
