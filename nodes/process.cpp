#include "nodes/process.hpp"

#include <cerrno>
#include <cstring>
#include <set>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "protocol/error.hpp"

extern char** environ;

namespace gilgal {

const char* const inherited_by_default[11] = {"PATH", "HOME",     "USER",        "LOGNAME",
                                              "LANG", "LANGUAGE", "LC_ALL",      "LC_CTYPE",
                                              "LC_MESSAGES", "TZ", "TMPDIR"};

namespace {

using clock_type = std::chrono::steady_clock;

/// Closes a file descriptor when it goes out of scope.
struct fd_guard {
  int fd = -1;
  ~fd_guard() { reset(); }
  void reset() {
    if (fd >= 0)
      ::close(fd);
    fd = -1;
  }
};

struct spawn_guard {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  spawn_guard() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~spawn_guard() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

/// The environment of the child as "NAME=value" strings: the allow-listed
/// variables of the caller, then opts.env.
std::vector<std::string> child_environment(const process_options& opts) {
  std::set<std::string> keep(std::begin(inherited_by_default), std::end(inherited_by_default));
  keep.insert(opts.inherit_env.begin(), opts.inherit_env.end());
  std::vector<std::string> result;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry = *e;
    auto eq = entry.find('=');
    if (eq == std::string::npos)
      continue;
    auto name = entry.substr(0, eq);
    if (keep.count(name) != 0 && opts.env.count(name) == 0)
      result.push_back(std::move(entry));
  }
  for (auto& kv : opts.env)
    result.push_back(kv.first + "=" + kv.second);
  return result;
}

/// The value of PATH in `env`, or the default search path.
std::string path_of(const std::vector<std::string>& env) {
  for (auto& e : env)
    if (e.compare(0, 5, "PATH=") == 0)
      return e.substr(5);
  return "/usr/local/bin:/usr/bin:/bin";
}

bool is_executable_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)
         && ::access(path.c_str(), X_OK) == 0;
}

/// Resolves a program name through PATH (execvp semantics, done before the
/// spawn so that "not found" is a clear error).
caf::expected<std::string> resolve_program(const std::string& name,
                                           const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) {
    if (is_executable_file(name))
      return name;
    return make_error(errc::not_found, "program not found or not executable: " + name);
  }
  auto path = path_of(env);
  size_t begin = 0;
  while (begin <= path.size()) {
    auto end = path.find(':', begin);
    if (end == std::string::npos)
      end = path.size();
    auto dir = path.substr(begin, end - begin);
    if (dir.empty())
      dir = ".";
    auto candidate = dir + "/" + name;
    if (is_executable_file(candidate))
      return candidate;
    begin = end + 1;
  }
  return make_error(errc::not_found, "program not found in PATH: " + name);
}

/// Appends what is readable on `fd` to `buf` (up to `cap` bytes kept).
/// Returns false on EOF or error.
bool drain(int fd, std::string& buf, size_t cap, bool& truncated) {
  char chunk[16384];
  for (;;) {
    auto n = ::read(fd, chunk, sizeof(chunk));
    if (n > 0) {
      auto keep = buf.size() < cap ? std::min(cap - buf.size(), static_cast<size_t>(n)) : 0;
      buf.append(chunk, keep);
      if (keep < static_cast<size_t>(n))
        truncated = true;
      continue;
    }
    if (n == 0)
      return false;
    if (errno == EINTR)
      continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

int decode_status(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

} // namespace

caf::expected<process_result> run_process(const std::vector<std::string>& argv,
                                          const process_options& opts) {
  if (argv.empty() || argv[0].empty())
    return make_error(errc::invalid_argument, "run_process: empty argv");
  auto env = child_environment(opts);
  auto program = resolve_program(argv[0], env);
  if (!program)
    return program.error();
  if (!opts.cwd.empty()) {
    struct stat st;
    if (::stat(opts.cwd.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return make_error(errc::invalid_argument,
                        "run_process: working directory does not exist: " + opts.cwd);
  }
  // Argument and environment vectors (the strings outlive the spawn).
  std::vector<char*> cargv;
  for (auto& a : argv)
    cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  for (auto& e : env)
    cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  // Pipes for stdout and stderr; our ends are non-blocking and close-on-exec.
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0)
    return make_error(errc::internal, std::string("pipe: ") + std::strerror(errno));
  fd_guard out_r{out_pipe[0]}, out_w{out_pipe[1]};
  if (::pipe2(err_pipe, O_CLOEXEC) != 0)
    return make_error(errc::internal, std::string("pipe: ") + std::strerror(errno));
  fd_guard err_r{err_pipe[0]}, err_w{err_pipe[1]};
  ::fcntl(out_r.fd, F_SETFL, O_NONBLOCK);
  ::fcntl(err_r.fd, F_SETFL, O_NONBLOCK);
  spawn_guard sp;
  posix_spawn_file_actions_addopen(&sp.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&sp.actions, out_w.fd, 1);
  posix_spawn_file_actions_adddup2(&sp.actions, err_w.fd, 2);
  // Descriptors Gilgal holds without O_CLOEXEC (database, sockets of
  // libraries) stay out of the child.
  posix_spawn_file_actions_addclosefrom_np(&sp.actions, 3);
  if (!opts.cwd.empty())
    posix_spawn_file_actions_addchdir_np(&sp.actions, opts.cwd.c_str());
  // New process group; default signal dispositions and an empty mask, whatever
  // the calling thread (a CAF worker) has set.
  sigset_t empty_mask, defaults;
  sigemptyset(&empty_mask);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2})
    sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&sp.attr, &empty_mask);
  posix_spawnattr_setsigdefault(&sp.attr, &defaults);
  posix_spawnattr_setpgroup(&sp.attr, 0);
  posix_spawnattr_setflags(&sp.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK
                                       | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  auto rc = ::posix_spawn(&pid, program->c_str(), &sp.actions, &sp.attr, cargv.data(),
                          cenv.data());
  if (rc != 0)
    return make_error(rc == ENOENT ? errc::not_found : errc::internal,
                      "cannot start " + argv[0] + ": " + std::strerror(rc));
  out_w.reset();
  err_w.reset();
  // Read both pipes until EOF, the deadline, or a cancellation. The leader is
  // only reaped at the end (waitid WNOWAIT until then), so its pid, which is
  // the group id, cannot be reused while we may still signal the group.
  process_result result;
  auto start = clock_type::now();
  auto deadline = opts.timeout.count() > 0 ? start + opts.timeout : clock_type::time_point::max();
  bool out_open = true;
  bool err_open = true;
  bool cancelled = false;
  bool exited = false;
  // The abort signal writes to a pipe that the waits below watch, so a
  // cancel stops the child at once rather than at the next look.
  int wake_pipe[2] = {-1, -1};
  if (opts.abort && ::pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::kill(-pid, SIGKILL);
    int ignored = 0;
    while (::waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
    }
    return make_error(errc::internal, std::string("pipe: ") + std::strerror(errno));
  }
  fd_guard wake_r{wake_pipe[0]}, wake_w{wake_pipe[1]};
  struct waker_guard {
    std::shared_ptr<abort_signal> sig;
    int token = -1;
    ~waker_guard() {
      if (sig)
        sig->remove_waker(token);
    }
  } waker{opts.abort};
  if (opts.abort)
    waker.token = opts.abort->add_waker([fd = wake_w.fd] {
      char byte = 1;
      [[maybe_unused]] auto n = ::write(fd, &byte, 1); // full pipe: already woken
    });
  clock_type::time_point exited_at;
  auto leader_exited = [pid] {
    siginfo_t info;
    std::memset(&info, 0, sizeof(info));
    return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0
           && info.si_pid == pid;
  };
  auto must_stop = [&](clock_type::time_point now) {
    if (now >= deadline) {
      result.timed_out = true;
      return true;
    }
    if (opts.abort && opts.abort->triggered()) {
      cancelled = true;
      return true;
    }
    return false;
  };
  while (out_open || err_open) {
    auto now = clock_type::now();
    if (must_stop(now))
      break;
    // A leader that exited while a descendant keeps the pipes open: give the
    // descendants a moment, then stop reading (the group is killed below).
    if (!exited && leader_exited()) {
      exited = true;
      exited_at = now;
    }
    if (exited && now - exited_at > std::chrono::milliseconds(500))
      break;
    int wait_ms = 100;
    if (deadline != clock_type::time_point::max()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
      wait_ms = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(wait_ms, left)));
    }
    pollfd fds[3];
    nfds_t n = 0;
    if (out_open)
      fds[n++] = pollfd{out_r.fd, POLLIN, 0};
    if (err_open)
      fds[n++] = pollfd{err_r.fd, POLLIN, 0};
    if (wake_r.fd >= 0)
      fds[n++] = pollfd{wake_r.fd, POLLIN, 0};
    auto ready = ::poll(fds, n, wait_ms);
    if (ready < 0 && errno != EINTR)
      break;
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0 || fds[i].fd == wake_r.fd)
        continue; // a wake: must_stop sees the signal
      if (fds[i].fd == out_r.fd)
        out_open = drain(out_r.fd, result.out, opts.max_output_bytes, result.truncated);
      else
        err_open = drain(err_r.fd, result.err, opts.max_output_bytes, result.truncated);
    }
  }
  // A leader that closed its pipes may still run: wait for it (deadline and
  // cancellation still apply).
  while (!result.timed_out && !cancelled && !exited) {
    if (leader_exited())
      exited = true;
    else if (!must_stop(clock_type::now())) {
      // Until the leader exits (no descriptor tells that here), or a wake.
      pollfd wake{wake_r.fd, POLLIN, 0};
      ::poll(&wake, wake_r.fd >= 0 ? 1 : 0, 10);
    }
  }
  // Whatever is left of the group goes: the leader on timeout or cancel, and
  // descendants that outlived it in any case.
  ::kill(-pid, SIGKILL);
  if (out_open)
    drain(out_r.fd, result.out, opts.max_output_bytes, result.truncated);
  if (err_open)
    drain(err_r.fd, result.err, opts.max_output_bytes, result.truncated);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = decode_status(status);
  if (cancelled)
    return make_error(errc::cancelled, "cancelled: " + argv[0]);
  return result;
}

std::string tail_lines(const std::string& text, size_t max_lines) {
  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin < text.size()) {
    auto end = text.find('\n', begin);
    if (end == std::string::npos)
      end = text.size();
    auto line = text.substr(begin, end - begin);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
      line.pop_back();
    if (!line.empty())
      lines.push_back(std::move(line));
    begin = end + 1;
  }
  std::string result;
  auto first = lines.size() > max_lines ? lines.size() - max_lines : 0;
  for (auto i = first; i < lines.size(); ++i) {
    if (!result.empty())
      result += '\n';
    result += lines[i];
  }
  return result;
}

} // namespace gilgal
