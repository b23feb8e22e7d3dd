// The HTTP server's worker pool: threads start only when no started one is
// free, the pool never exceeds its size, queued jobs wait for a free thread,
// and shutdown runs what is queued before joining.
#define CAF_SUITE http.worker_pool
#include <caf/test/unit_test.hpp>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>

#include "http/worker_pool.hpp"

using namespace gilgal;

namespace {

/// Counts events and lets a test wait until there were `n`.
class counter {
public:
  void add() {
    std::lock_guard<std::mutex> guard{mtx_};
    ++n_;
    cv_.notify_all();
  }
  void await(int n) {
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait(lock, [&] { return n_ >= n; });
  }
  int value() {
    std::lock_guard<std::mutex> guard{mtx_};
    return n_;
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  int n_ = 0;
};

} // namespace

CAF_TEST(one job at a time keeps few threads) {
  worker_pool pool{64};
  for (int i = 0; i < 200; ++i) {
    std::promise<void> done;
    pool.enqueue([&] { done.set_value(); });
    done.get_future().wait();
  }
  // Not one thread per job: an idle thread takes the next one. (A thread that
  // has just run a job may not be back yet when the next comes, so the exact
  // number depends on the scheduling of the machine.)
  CAF_CHECK_LESS_OR_EQUAL(pool.threads(), 8u);
  pool.shutdown();
}

CAF_TEST(concurrent jobs get their own threads up to the size then wait) {
  worker_pool pool{4};
  std::promise<void> gate;
  auto open = gate.get_future().share();
  counter started;
  counter finished;
  for (int i = 0; i < 6; ++i)
    pool.enqueue([&, open] {
      started.add();
      open.wait();
      finished.add();
    });
  started.await(4);
  CAF_CHECK_EQUAL(pool.threads(), 4u);
  CAF_CHECK_EQUAL(started.value(), 4); // two wait for a free thread
  gate.set_value();
  finished.await(6);
  CAF_CHECK_EQUAL(pool.threads(), 4u);
  pool.shutdown();
  pool.shutdown(); // idempotent
}

CAF_TEST(shutdown runs the queued jobs first) {
  worker_pool pool{1};
  std::promise<void> gate;
  auto open = gate.get_future().share();
  std::atomic<int> ran{0};
  counter started;
  pool.enqueue([&, open] {
    started.add();
    open.wait();
    ++ran;
  });
  started.await(1);
  for (int i = 0; i < 3; ++i)
    pool.enqueue([&] { ++ran; });
  gate.set_value();
  pool.shutdown();
  CAF_CHECK_EQUAL(ran.load(), 4);
}
