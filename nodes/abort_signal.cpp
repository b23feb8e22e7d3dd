#include "nodes/abort_signal.hpp"

namespace gilgal {

void abort_signal::trigger() {
  std::lock_guard<std::mutex> guard{mtx_};
  flag_.store(true, std::memory_order_release);
  for (auto& kvp : wakers_)
    kvp.second();
}

int abort_signal::add_waker(std::function<void()> f) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (flag_.load(std::memory_order_acquire))
    f();
  auto token = next_token_++;
  wakers_.emplace(token, std::move(f));
  return token;
}

void abort_signal::remove_waker(int token) {
  std::lock_guard<std::mutex> guard{mtx_};
  wakers_.erase(token);
}

} // namespace gilgal
