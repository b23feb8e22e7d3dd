// Two Docker daemons side by side (the build farm's test setup): a private
// daemon with its own socket, data root, exec root and bridge answers beside
// the main one; a container started on it is invisible to the main daemon and
// answers on 127.0.0.1; stopping it (even after a hard kill) leaves the main
// daemon's docker0 and its published ports intact and nothing of its own behind.
#define CAF_SUITE nodes.docker_daemon
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "nodes/docker_client.hpp"
#include "nodes/http_probe.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "tests/fixtures/docker_daemon.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"

using namespace gilgal;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

bool interface_exists(const std::string& name) {
  return std::filesystem::exists("/sys/class/net/" + name);
}

bool mounted_under(const std::string& dir) {
  std::ifstream in{"/proc/self/mountinfo"};
  std::string line;
  while (std::getline(in, line))
    if (line.find(" " + dir + "/") != std::string::npos)
      return true;
  return false;
}

/// Polls GET url until it answers below 500 or `limit` passes.
bool answers(const std::string& url, std::chrono::milliseconds limit) {
  auto deadline = clock_type::now() + limit;
  for (;;) {
    auto status = probe_http(url, 1000ms);
    if (status > 0 && status < 500)
      return true;
    if (clock_type::now() >= deadline)
      return false;
    std::this_thread::sleep_for(100ms);
  }
}

/// A busybox httpd container publishing 8080 on a free port of 127.0.0.1.
caf::expected<std::string> start_httpd(docker_client& docker, int host_port) {
  container_spec spec;
  spec.name = "gilgal-dd-" + new_uuid().substr(0, 8);
  spec.image = test::busybox_image;
  spec.cmd = {"httpd", "-f", "-p", "8080", "-h", "/www"};
  spec.labels = {{"gilgal.test", "docker_daemon"}};
  spec.container_port = 8080;
  spec.host_port = host_port;
  spec.init = true;
  auto id = docker.create_container(spec);
  if (!id)
    return id;
  if (auto started = docker.start_container(*id); !started) {
    docker.remove_container(*id, true);
    return std::move(started.error());
  }
  return id;
}

struct fixture {
  docker_client main{test::docker_host_or_default()};
  std::vector<std::string> main_containers; // removed at the end

  fixture() {
    CAF_REQUIRE(test::ensure_busybox_image(main));
  }

  ~fixture() {
    for (auto& id : main_containers)
      main.remove_container(id, true);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(docker_daemon_tests, fixture)

CAF_TEST(a second daemon runs beside the first and leaves it intact) {
  if (auto why = test::docker_daemon::skip_reason(); !why.empty()) {
    CAF_MESSAGE("skipped: " << why);
    return;
  }
  // A container on the main daemon, to check its networking survives.
  auto main_port = test::free_port();
  auto main_id = start_httpd(main, main_port);
  if (!main_id)
    CAF_FAIL("start on the main daemon: " << message_of(main_id.error()));
  main_containers.push_back(*main_id);
  auto main_url = "http://127.0.0.1:" + std::to_string(main_port) + "/";
  CAF_REQUIRE(answers(main_url, 10s));

  std::string dir, bridge;
  {
    test::docker_daemon second;
    dir = second.dir();
    bridge = second.bridge();
    CAF_CHECK_LESS_OR_EQUAL(bridge.size(), 15u);
    CAF_CHECK(interface_exists(bridge));
    CAF_CHECK_EQUAL(second.host(), "unix://" + dir + "/docker.sock");
    docker_client other{second.host()};
    // Its own store: the test image is not there until copied.
    auto before = other.image_exists(test::busybox_image);
    CAF_REQUIRE(before);
    CAF_CHECK(!*before);
    auto copied = second.copy_image_from(main.host(), test::busybox_image);
    if (!copied)
      CAF_FAIL("copy: " << message_of(copied.error()));
    auto theirs = other.inspect_image(test::busybox_image);
    auto ours = main.inspect_image(test::busybox_image);
    CAF_REQUIRE(theirs && ours);
    CAF_CHECK_EQUAL(theirs->id, ours->id);

    auto port = test::free_port();
    auto id = start_httpd(other, port);
    if (!id)
      CAF_FAIL("start on the second daemon: " << message_of(id.error()) << "\n"
                                              << second.log_tail());
    CAF_CHECK(answers("http://127.0.0.1:" + std::to_string(port) + "/", 10s));
    // Not visible on the main daemon.
    auto seen = main.inspect_container(*id);
    CAF_REQUIRE(!seen);
    CAF_CHECK_EQUAL(code_of(seen.error()), errc::not_found);
    auto listed = main.list_containers({"gilgal.test=docker_daemon"}, true);
    CAF_REQUIRE(listed);
    for (auto& c : *listed)
      CAF_CHECK_NOT_EQUAL(c.id, *id);
    // And the main daemon's container is not visible on the second.
    auto theirs_list = other.list_containers({}, true);
    CAF_REQUIRE(theirs_list);
    CAF_CHECK_EQUAL(theirs_list->size(), 1u);
    auto stopped_at = clock_type::now();
    second.stop();
    CAF_CHECK(clock_type::now() - stopped_at < 15s);
    CAF_CHECK(!second.running());
  }
  // Nothing of the second daemon is left; the first is intact.
  CAF_CHECK(!interface_exists(bridge));
  CAF_CHECK(!std::filesystem::exists(dir));
  CAF_CHECK(!mounted_under(dir));
  CAF_CHECK(interface_exists("docker0"));
  CAF_CHECK(main.version());
  CAF_CHECK(answers(main_url, 5s));
}

CAF_TEST(a hard killed daemon is cleaned up) {
  if (auto why = test::docker_daemon::skip_reason(); !why.empty()) {
    CAF_MESSAGE("skipped: " << why);
    return;
  }
  std::string dir, bridge;
  {
    test::docker_daemon second;
    dir = second.dir();
    bridge = second.bridge();
    auto copied = second.copy_image_from(main.host(), test::busybox_image);
    CAF_REQUIRE(copied);
    docker_client other{second.host()};
    auto port = test::free_port();
    auto id = start_httpd(other, port);
    if (!id)
      CAF_FAIL("start: " << message_of(id.error()));
    auto url = "http://127.0.0.1:" + std::to_string(port) + "/";
    CAF_REQUIRE(answers(url, 10s));
    second.kill_hard();
    CAF_CHECK(!second.running());
    // The destructor kills the container left running without its daemon.
  }
  CAF_CHECK(!interface_exists(bridge));
  CAF_CHECK(!std::filesystem::exists(dir));
  CAF_CHECK(!mounted_under(dir));
  CAF_CHECK(interface_exists("docker0"));
  CAF_CHECK(main.version());
}

CAF_TEST(two private daemons at once get distinct bridges) {
  if (auto why = test::docker_daemon::skip_reason(); !why.empty()) {
    CAF_MESSAGE("skipped: " << why);
    return;
  }
  test::docker_daemon a;
  test::docker_daemon b;
  CAF_CHECK_NOT_EQUAL(a.bridge(), b.bridge());
  CAF_CHECK_NOT_EQUAL(a.host(), b.host());
  CAF_CHECK(docker_client{a.host()}.version());
  CAF_CHECK(docker_client{b.host()}.version());
}

CAF_TEST_FIXTURE_SCOPE_END()
