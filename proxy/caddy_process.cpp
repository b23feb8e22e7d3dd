#include "proxy/caddy_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "protocol/error.hpp"

extern char** environ;

namespace gilgal::proxy {

namespace {

bool read_full(int fd, void* buf, size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    auto r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

void write_full(int fd, const void* buf, size_t n) {
  auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    auto r = ::write(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return;
    p += r;
    n -= static_cast<size_t>(r);
  }
}

} // namespace

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos)
    return ::access(name.c_str(), X_OK) == 0 ? name : std::string{};
  const char* path = std::getenv("PATH");
  std::istringstream dirs{path ? path : "/usr/local/bin:/usr/bin:/bin"};
  for (std::string dir; std::getline(dirs, dir, ':');) {
    auto candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return {};
}

bool process_alive(pid_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH))
    return false;
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text;
  std::getline(stat, text);
  auto paren = text.rfind(')');
  if (paren == std::string::npos || paren + 2 >= text.size())
    return true; // no /proc to ask: kill() said it exists
  return text[paren + 2] != 'Z' && text[paren + 2] != 'X';
}

pid_t running_caddy(const std::string& pid_file) {
  std::ifstream in{pid_file};
  long pid = 0;
  if (!(in >> pid) || pid <= 0)
    return 0;
  if (!process_alive(static_cast<pid_t>(pid)))
    return 0;
  // A pid is reused after its process exits: accept only a Caddy.
  std::ifstream cmd{"/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary};
  std::string argv0;
  std::getline(cmd, argv0, '\0');
  auto slash = argv0.rfind('/');
  auto base = slash == std::string::npos ? argv0 : argv0.substr(slash + 1);
  return base.find("caddy") != std::string::npos ? static_cast<pid_t>(pid) : 0;
}

caf::expected<pid_t> start_caddy(const caddy_launch& launch) {
  auto binary = find_program(launch.binary);
  if (binary.empty())
    return make_error(errc::not_found, "Caddy is not installed: no program '" + launch.binary
                                         + "' (Debian package caddy)");
  // Everything the children need is prepared here: after fork only
  // async-signal-safe calls are made.
  std::vector<std::string> args = {binary, "run", "--config", launch.config_file, "--pidfile",
                                   launch.pid_file};
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    std::string kv{*e};
    auto name = kv.substr(0, kv.find('='));
    if (launch.env.count(name) == 0)
      envs.push_back(std::move(kv));
  }
  for (auto& [k, v] : launch.env)
    envs.push_back(k + "=" + v);
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : envs)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  int out = ::open(launch.output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (out < 0)
    return make_error(errc::internal, "cannot open " + launch.output_file + ": "
                                        + std::strerror(errno));
  int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int report[2];
  if (null_in < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    ::close(out);
    if (null_in >= 0)
      ::close(null_in);
    return make_error(errc::internal, std::string{"cannot start Caddy: "} + std::strerror(errno));
  }
  pid_t first = ::fork();
  if (first == 0) {
    // First child: a new session, then Caddy as its child; it exits at once
    // so that Caddy is adopted by init.
    ::setsid();
    pid_t caddy = ::fork();
    if (caddy == 0) {
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::dup2(null_in, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execve(argv[0], argv.data(), envp.data());
      int err = errno;
      write_full(report[1], &err, sizeof err);
      ::_exit(127);
    }
    write_full(report[1], &caddy, sizeof caddy);
    ::_exit(caddy > 0 ? 0 : 1);
  }
  ::close(report[1]);
  ::close(out);
  ::close(null_in);
  if (first < 0) {
    ::close(report[0]);
    return make_error(errc::internal, std::string{"cannot fork: "} + std::strerror(errno));
  }
  int status = 0;
  while (::waitpid(first, &status, 0) < 0 && errno == EINTR) {
  }
  pid_t caddy = -1;
  bool got_pid = read_full(report[0], &caddy, sizeof caddy);
  int exec_errno = 0;
  bool exec_failed = got_pid && read_full(report[0], &exec_errno, sizeof exec_errno);
  ::close(report[0]);
  if (!got_pid || caddy <= 0)
    return make_error(errc::internal, "cannot start Caddy: fork failed");
  if (exec_failed)
    return make_error(errc::internal, "cannot run " + binary + ": " + std::strerror(exec_errno));
  return caddy;
}

} // namespace gilgal::proxy
