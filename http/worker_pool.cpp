#include "http/worker_pool.hpp"

#include <system_error>

namespace gilgal {

worker_pool::worker_pool(size_t max_threads) : max_threads_(max_threads == 0 ? 1 : max_threads) {
}

worker_pool::~worker_pool() {
  shutdown();
}

void worker_pool::enqueue(std::function<void()> fn) {
  std::lock_guard<std::mutex> guard{mtx_};
  jobs_.push_back(std::move(fn));
  if (!idle_.empty()) {
    auto* next = idle_.back();
    idle_.pop_back();
    next->woken = true;
    next->cv.notify_one();
  }
  // Every thread not running a job takes one before it waits again; start
  // another only for jobs that none of them will take.
  if (jobs_.size() > threads_.size() - busy_ && threads_.size() < max_threads_ && !stopping_) {
    try {
      threads_.emplace_back([this] { work(); });
    } catch (const std::system_error&) {
      if (threads_.empty())
        throw;
      // Out of threads for now: a busy one takes the job when it is done.
    }
  }
}

void worker_pool::shutdown() {
  std::vector<std::thread> joining;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
    for (auto* waiting : idle_)
      waiting->cv.notify_one();
    idle_.clear();
    joining.swap(threads_);
  }
  for (auto& t : joining)
    t.join();
}

size_t worker_pool::threads() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return threads_.size();
}

void worker_pool::work() {
  idle_thread self;
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    if (!jobs_.empty()) {
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      ++busy_;
      lock.unlock();
      job();
      lock.lock();
      --busy_;
      continue;
    }
    if (stopping_)
      return;
    self.woken = false;
    idle_.push_back(&self);
    self.cv.wait(lock, [&] { return self.woken || stopping_; });
    // Woken by enqueue (which took us off idle_) or by shutdown (which
    // cleared idle_): either way we are no longer listed.
  }
}

} // namespace gilgal
