#include "cli/shutdown_signals.hpp"

#include <csignal>
#include <pthread.h>

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

} // namespace gilgal::cli
