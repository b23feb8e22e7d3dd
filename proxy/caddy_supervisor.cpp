#include "proxy/caddy_supervisor.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "protocol/error.hpp"

namespace gilgal::proxy {

namespace {

std::chrono::milliseconds pause_after(int attempts) {
  auto ms = 500LL << std::min(attempts, 6); // 0.5 s, 1 s, ... 32 s
  return std::chrono::milliseconds{std::min<long long>(ms, 30000)};
}

} // namespace

caddy_supervisor::caddy_supervisor(caddy_launch launch, std::string admin_address)
  : launch_(std::move(launch)), admin_(std::move(admin_address), std::chrono::seconds{5}) {
}

void caddy_supervisor::write_config(const nlohmann::json& config) {
  auto tmp = launch_.config_file + ".tmp";
  {
    std::ofstream out{tmp, std::ios::trunc};
    out << config.dump(2) << '\n';
  }
  std::rename(tmp.c_str(), launch_.config_file.c_str());
}

caddy_supervisor::state caddy_supervisor::check(std::string& message,
                                                std::chrono::seconds hang_limit) {
  auto now = clock::now();
  if (admin_.answers()) {
    if (!was_up_) {
      was_up_ = true;
      up_since_ = now;
    }
    if (now - up_since_ > std::chrono::minutes{1})
      attempts_ = 0;
    silent_ = false;
    if (auto running = running_caddy(launch_.pid_file); running > 0)
      pid_ = running;
    return state::up;
  }
  was_up_ = false;
  if (!silent_) {
    silent_ = true;
    silent_since_ = now;
  }
  auto running = running_caddy(launch_.pid_file);
  if (running > 0) {
    pid_ = running;
    if (now - silent_since_ < hang_limit)
      return state::starting;
    message = "Caddy (pid " + std::to_string(running) + ") has not answered for "
              + std::to_string(hang_limit.count()) + " s: killing it";
    ::kill(running, SIGKILL);
    for (int i = 0; i < 100 && process_alive(running); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  if (now < next_start_)
    return state::starting;
  // A socket file left by a Caddy that died would make the new one fail.
  if (!admin_.socket_path().empty())
    ::unlink(admin_.socket_path().c_str());
  next_start_ = now + pause_after(attempts_);
  ++attempts_;
  auto pid = start_caddy(launch_);
  if (!pid) {
    message = message_of(pid.error());
    return state::failed;
  }
  pid_ = *pid;
  silent_since_ = now;
  message = "started Caddy (pid " + std::to_string(*pid) + ")";
  return state::started;
}

bool caddy_supervisor::wait_until_up(std::chrono::milliseconds deadline, std::string& message) {
  auto until = clock::now() + deadline;
  for (;;) {
    std::string note;
    auto st = check(note);
    if (!note.empty())
      message = note;
    if (st == state::up)
      return true;
    if (st == state::failed || clock::now() >= until)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
}

} // namespace gilgal::proxy
