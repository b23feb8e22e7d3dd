// Runs a program with an argument vector — never through a shell — and captures
// its output. The child is the leader of a new process group, so a timeout or a
// cancellation kills the program and everything it started.
//
// A child gets nothing of Gilgal's that it was not given: its environment is
// built from an allow-list (never GILGAL_* settings, the database URL, the
// cluster secret or the registry password), and every descriptor but its
// stdin, stdout and stderr is closed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "nodes/abort_signal.hpp"

namespace gilgal {

struct process_options {
  /// Working directory of the child; empty: the caller's.
  std::string cwd;
  /// The child's variables besides the inherited ones (these win).
  std::map<std::string, std::string> env;
  /// Names copied from the caller's environment when set, besides
  /// inherited_by_default (e.g. proxy settings for git).
  std::vector<std::string> inherit_env;
  /// Wall-clock limit; zero: none. On expiry the whole process group gets
  /// SIGKILL and the result has timed_out set.
  std::chrono::milliseconds timeout{0};
  /// At most this many bytes of stdout and of stderr are kept (each); the rest
  /// is read and dropped.
  size_t max_output_bytes = 1 << 20;
  /// When set and it fires, the process group is killed at once and
  /// run_process returns errc::cancelled.
  std::shared_ptr<abort_signal> abort;
};

/// What every child inherits from the caller when set: PATH, HOME, USER,
/// LOGNAME, LANG, LANGUAGE, LC_ALL, LC_CTYPE, LC_MESSAGES, TZ, TMPDIR.
extern const char* const inherited_by_default[11];

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
/// errc::cancelled when options.abort fired, errc::internal when the system
/// refuses (pipes, spawn). A non-zero exit or a timeout is NOT an error: look
/// at the result.
caf::expected<process_result> run_process(const std::vector<std::string>& argv,
                                          const process_options& options = {});

/// The last `max_lines` non-empty lines of `text`, joined by '\n' (for error
/// messages built from a program's stderr).
std::string tail_lines(const std::string& text, size_t max_lines);

} // namespace gilgal
