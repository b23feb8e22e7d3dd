#include "nodes/abort_signal.hpp"

#include <condition_variable>
#include <thread>

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

bool wait_or_abort(std::chrono::milliseconds d, const std::shared_ptr<abort_signal>& abort) {
  if (!abort) {
    std::this_thread::sleep_for(d);
    return false;
  }
  auto mtx = std::make_shared<std::mutex>();
  auto cv = std::make_shared<std::condition_variable>();
  int token = abort->add_waker([mtx, cv] {
    std::lock_guard<std::mutex> guard{*mtx};
    cv->notify_all();
  });
  {
    std::unique_lock<std::mutex> lock{*mtx};
    cv->wait_for(lock, d, [&] { return abort->triggered(); });
  }
  abort->remove_waker(token);
  return abort->triggered();
}

} // namespace gilgal
