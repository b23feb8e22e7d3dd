// A node's follow of a container's log against the real Docker daemon: a
// container that does not run is waited for until its next start (Docker's
// events) within follow_ms, so a follower never has to come back in a loop;
// one removed meanwhile answers not_found at once; one that stays stopped
// answers `ended` only when follow_ms has passed.
#define CAF_SUITE nodes.container_logs
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <future>
#include <thread>

#include "nodes/container_logs.hpp"
#include "nodes/docker_client.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"

using namespace gilgal;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

struct timed_batch {
  caf::expected<container_log_batch> batch{container_log_batch{}};
  clock_type::time_point answered;
};

struct fixture {
  std::string host = test::docker_host_or_default();
  docker_client docker{host};
  std::string container;
  std::string since; // Docker time of the fixture's start: before any line

  fixture() {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
    since = std::to_string(now) + ".000000000";
    CAF_REQUIRE(test::ensure_busybox_image(docker));
    container_spec spec;
    spec.name = "gilgal-test-logs-" + new_uuid().substr(0, 8);
    spec.image = test::busybox_image;
    // Prints a line at each start; stops at once on SIGTERM.
    spec.cmd = {"/bin/sh", "-c", "trap 'exit 0' TERM; echo run-started; sleep 3600 & wait"};
    auto id = docker.create_container(spec);
    CAF_REQUIRE(id);
    container = *id;
  }

  ~fixture() {
    docker.remove_container(container, true);
  }

  /// A follow of the lines since the fixture's start, up to `follow`, on its own thread.
  std::future<timed_batch> follow_later(std::chrono::milliseconds follow) {
    container_log_query q;
    q.tail = -1;
    q.since = since;
    q.follow_ms = follow.count();
    return std::async(std::launch::async, [this, q] {
      timed_batch out;
      out.batch = read_container_logs(docker, container, q);
      out.answered = clock_type::now();
      return out;
    });
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(container_logs_tests, fixture)

CAF_TEST(a follow of a stopped container answers when it starts again) {
  // Never started: Docker closes its log stream at once.
  auto reading = follow_later(20s);
  // The read is under way (it began before the start, or the start comes
  // before it looks: either way it must answer "runs again", not "ended").
  CAF_REQUIRE(reading.wait_for(1500ms) == std::future_status::timeout);
  auto started = clock_type::now();
  CAF_REQUIRE(docker.start_container(container));
  CAF_REQUIRE(reading.wait_for(10s) == std::future_status::ready);
  auto got = reading.get();
  CAF_REQUIRE(got.batch);
  CAF_CHECK(!got.batch->ended);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(got.answered - started);
  CAF_MESSAGE("answered " << took.count() << " ms after the start");
  CAF_CHECK_LESS(took.count(), 1000);
  // Asked again, the line of the new run comes.
  auto again = follow_later(10s).get();
  CAF_REQUIRE(again.batch);
  CAF_REQUIRE(!again.batch->lines.empty());
  CAF_CHECK_EQUAL(again.batch->lines.front().message, "run-started");
}

CAF_TEST(a follow of a container removed meanwhile answers not found) {
  auto reading = follow_later(20s);
  CAF_REQUIRE(reading.wait_for(1500ms) == std::future_status::timeout);
  auto removed = clock_type::now();
  CAF_REQUIRE(docker.remove_container(container, true));
  CAF_REQUIRE(reading.wait_for(10s) == std::future_status::ready);
  auto got = reading.get();
  CAF_REQUIRE(!got.batch);
  CAF_CHECK_EQUAL(code_of(got.batch.error()), errc::not_found);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(got.answered - removed);
  CAF_CHECK_LESS(took.count(), 1000);
}

CAF_TEST(a follow of a container that stays stopped ends after follow_ms) {
  auto t0 = clock_type::now();
  auto got = follow_later(2500ms).get();
  CAF_REQUIRE(got.batch);
  CAF_CHECK(got.batch->ended);
  CAF_CHECK(got.batch->lines.empty());
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(got.answered - t0);
  CAF_MESSAGE("ended after " << took.count() << " ms");
  // Docker's event window ends on a whole second of its clock: the wait
  // lasts more than follow_ms less 1.5 s (an answer at once took a few ms).
  CAF_CHECK_GREATER_OR_EQUAL(took.count(), 1000);
  CAF_CHECK_LESS(took.count(), 4000);
}

CAF_TEST_FIXTURE_SCOPE_END()
