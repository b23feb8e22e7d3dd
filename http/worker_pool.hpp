// The HTTP server's worker threads (cpp-httplib's task queue). At most
// `max_threads`; a thread starts only when a job finds none idle, and the one
// that went idle last takes the next job. So a load of N concurrent requests
// keeps about N threads busy and warm, instead of touching the stacks and
// malloc caches of every thread of a pool sized for the worst case (the
// edge's is sized for every log follower at once).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

namespace gilgal {

class worker_pool final : public httplib::TaskQueue {
public:
  explicit worker_pool(size_t max_threads);

  /// Shuts down if shutdown() was not called.
  ~worker_pool() override;

  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  /// Runs `fn` on an idle thread (the most recently idle one), else on a new
  /// thread while fewer than max_threads run, else once a thread is free.
  void enqueue(std::function<void()> fn) override;

  /// Runs the jobs still queued, then joins every thread. Idempotent.
  void shutdown() override;

  /// Threads started so far.
  size_t threads() const;

private:
  /// A thread waiting for a job.
  struct idle_thread {
    std::condition_variable cv;
    bool woken = false;
  };

  void work();

  size_t max_threads_;
  mutable std::mutex mtx_;
  std::deque<std::function<void()>> jobs_;
  std::vector<idle_thread*> idle_; // the last one went idle last
  std::vector<std::thread> threads_;
  size_t busy_ = 0; // threads running a job
  bool stopping_ = false;
};

} // namespace gilgal
