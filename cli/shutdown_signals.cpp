#include "cli/shutdown_signals.hpp"

#include <csignal>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <pthread.h>
#include <thread>

#include <spdlog/spdlog.h>

namespace gilgal::cli {

namespace {

sigset_t shutdown_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

} // namespace

void block_shutdown_signals() {
  auto set = shutdown_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_shutdown_signal() {
  auto set = shutdown_set();
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
    // sigwait only fails for an invalid set; retry defensively.
  }
  return sig;
}

void start_shutdown_watchdog(std::chrono::seconds limit) {
  std::thread{[limit] {
    auto set = shutdown_set();
    timespec timeout{static_cast<time_t>(limit.count()), 0};
    int sig;
    while ((sig = sigtimedwait(&set, nullptr, &timeout)) < 0 && errno == EINTR) {
      // interrupted by another signal: keep waiting (the limit restarts)
    }
    if (sig > 0)
      spdlog::warn("second {} during shutdown: exiting now", sig == SIGINT ? "SIGINT" : "SIGTERM");
    else
      spdlog::error("shutdown did not finish within {}s: exiting now", limit.count());
    spdlog::default_logger()->flush();
    std::_Exit(1);
  }}.detach();
}

} // namespace gilgal::cli
