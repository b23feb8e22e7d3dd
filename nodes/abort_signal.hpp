// A one-shot, thread-safe "stop now" flag for blocking work (a Docker build,
// a push). The owner of the work (e.g. a builder actor's exit handler)
// triggers it from any thread; waiters registered by the running transfer are
// woken at once so the transfer stops promptly instead of at its next poll.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace gilgal {

class abort_signal {
public:
  static std::shared_ptr<abort_signal> make() {
    return std::make_shared<abort_signal>();
  }

  /// Sets the flag (idempotent) and runs every registered waker.
  void trigger();

  bool triggered() const noexcept {
    return flag_.load(std::memory_order_acquire);
  }

  /// Registers a waker run by trigger(); runs it at once if already triggered.
  /// Returns a token for remove_waker.
  int add_waker(std::function<void()> f);

  void remove_waker(int token);

private:
  std::atomic<bool> flag_{false};
  std::mutex mtx_;
  int next_token_ = 0;
  std::map<int, std::function<void()>> wakers_;
};

/// Waits `d`, or less if `abort` (may be null) fires meanwhile; true if it fired.
/// For the pauses between retries of blocking work.
bool wait_or_abort(std::chrono::milliseconds d, const std::shared_ptr<abort_signal>& abort);

} // namespace gilgal
