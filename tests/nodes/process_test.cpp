#define CAF_SUITE nodes.process
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>

#include <signal.h>
#include <sys/stat.h>

#include "nodes/process.hpp"
#include "protocol/error.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;
using namespace std::chrono_literals;

namespace {

bool process_alive(pid_t pid) {
  // A zombie still "exists" for kill(); look at its state instead.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat)
    return false;
  std::string pid_field, comm, state;
  stat >> pid_field >> comm >> state;
  return state != "Z" && state != "X";
}

} // namespace

CAF_TEST(exit codes and output are captured) {
  auto r = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->exit_code, 3);
  CAF_CHECK_EQUAL(r->out, "out\n");
  CAF_CHECK_EQUAL(r->err, "err\n");
  CAF_CHECK(!r->timed_out);
  auto ok = run_process({"true"});
  CAF_REQUIRE(ok);
  CAF_CHECK_EQUAL(ok->exit_code, 0);
}

CAF_TEST(arguments are not interpreted by a shell) {
  auto r = run_process({"printf", "%s|%s", "$(echo pwned)", "a b;c `id` *"});
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->exit_code, 0);
  CAF_CHECK_EQUAL(r->out, "$(echo pwned)|a b;c `id` *");
}

CAF_TEST(missing program is not_found) {
  auto r = run_process({"gilgal-no-such-program-xyz"});
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(code_of(r.error()), errc::not_found);
  auto empty = run_process({});
  CAF_REQUIRE(!empty);
  CAF_CHECK_EQUAL(code_of(empty.error()), errc::invalid_argument);
}

CAF_TEST(cwd and environment overrides) {
  auto dir = test::make_temp_dir("gilgal-process");
  process_options opts;
  opts.cwd = dir;
  opts.env["GILGAL_TEST_VALUE"] = "v1";
  opts.env["HOME"] = "/nonexistent";
  auto r = run_process({"sh", "-c", "pwd; echo \"$GILGAL_TEST_VALUE\"; echo \"${HOME-unset}\""},
                       opts);
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->out, dir + "\nv1\n/nonexistent\n");
  opts.cwd = dir + "/missing";
  CAF_CHECK(!run_process({"true"}, opts));
  test::remove_tree(dir);
}

// The attack: a program Gilgal runs (git and whatever git runs) reads the
// server's environment or its open descriptors to find the cluster secret, the
// registry password, the database URL or the database file.
CAF_TEST(a child inherits no secrets and no descriptors) {
  const std::map<std::string, std::string> secrets = {
    {"GILGAL_CLUSTER_SECRET", "cluster-secret-value"},
    {"GILGAL_REGISTRY_PASSWORD", "registry-password-value"},
    {"GILGAL_DATABASE_URL", "postgresql://u:db-password-value@h/db"},
    {"DATABASE_URL", "postgresql://u:db-password-value@h/db"},
    {"AWS_SECRET_ACCESS_KEY", "aws-value"}};
  for (auto& [name, value] : secrets)
    ::setenv(name.c_str(), value.c_str(), 1);
  ::setenv("LANG", "C.UTF-8", 1);
  // A descriptor opened without O_CLOEXEC, as a library might hold one.
  auto dir = test::make_temp_dir("gilgal-process");
  int fd = ::open((dir + "/secret.key").c_str(), O_CREAT | O_RDWR, 0600);
  CAF_REQUIRE(fd >= 0);
  CAF_REQUIRE(::dup2(fd, 57) == 57);
  auto r = run_process({"env"});
  auto fds = run_process({"ls", "/proc/self/fd"});
  for (auto& kv : secrets)
    ::unsetenv(kv.first.c_str());
  ::close(57);
  ::close(fd);
  test::remove_tree(dir);
  CAF_REQUIRE(r);
  for (auto& [name, value] : secrets) {
    CAF_CHECK(r->out.find(name + "=") == std::string::npos);
    CAF_CHECK(r->out.find(value) == std::string::npos);
  }
  // Harmless variables pass.
  CAF_CHECK(r->out.find("LANG=C.UTF-8\n") != std::string::npos);
  CAF_CHECK(r->out.find("PATH=") != std::string::npos);
  CAF_REQUIRE(fds);
  // 0, 1, 2 and the directory ls reads; never 57.
  CAF_MESSAGE("descriptors of the child: " << fds->out);
  CAF_CHECK(fds->out.find("57") == std::string::npos);
}

CAF_TEST(stdin is empty) {
  auto r = run_process({"cat"});
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->exit_code, 0);
  CAF_CHECK_EQUAL(r->out, "");
}

CAF_TEST(timeout kills the whole process group) {
  auto dir = test::make_temp_dir("gilgal-process");
  auto pidfile = dir + "/grandchild.pid";
  process_options opts;
  opts.timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  // The grandchild (a background sleep) writes its pid and must die with the group.
  auto r = run_process({"sh", "-c", "sleep 30 & echo $! > \"$0\"; wait", pidfile}, opts);
  auto took = std::chrono::steady_clock::now() - start;
  CAF_REQUIRE(r);
  CAF_CHECK(r->timed_out);
  CAF_CHECK_NOT_EQUAL(r->exit_code, 0);
  CAF_CHECK(took < 5s);
  std::ifstream in(pidfile);
  pid_t grandchild = 0;
  in >> grandchild;
  CAF_REQUIRE(grandchild > 0);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (process_alive(grandchild) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  CAF_CHECK(!process_alive(grandchild));
  test::remove_tree(dir);
}

CAF_TEST(a leader that exits does not wait for a lingering descendant) {
  auto start = std::chrono::steady_clock::now();
  auto r = run_process({"sh", "-c", "sleep 30 & echo started"});
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->exit_code, 0);
  CAF_CHECK_EQUAL(r->out, "started\n");
  CAF_CHECK(std::chrono::steady_clock::now() - start < 5s);
}

CAF_TEST(output is capped) {
  process_options opts;
  opts.max_output_bytes = 1000;
  auto r = run_process({"head", "-c", "100000", "/dev/zero"}, opts);
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->exit_code, 0);
  CAF_CHECK_EQUAL(r->out.size(), 1000u);
  CAF_CHECK(r->truncated);
}

CAF_TEST(an abort kills the process at once) {
  process_options opts;
  opts.abort = abort_signal::make();
  std::chrono::steady_clock::time_point fired;
  std::thread t([&] {
    std::this_thread::sleep_for(200ms); // the test's trigger, not a synchronisation
    fired = std::chrono::steady_clock::now();
    opts.abort->trigger();
  });
  auto r = run_process({"sleep", "30"}, opts);
  auto returned = std::chrono::steady_clock::now();
  t.join();
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(code_of(r.error()), errc::cancelled);
  // The wake pipe ends the wait: well under the 100 ms of a poll's timeout.
  CAF_CHECK(returned - fired < 60ms);
}

CAF_TEST(an abort fired before the start kills the process at once) {
  process_options opts;
  opts.abort = abort_signal::make();
  opts.abort->trigger();
  auto start = std::chrono::steady_clock::now();
  auto r = run_process({"sleep", "30"}, opts);
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(code_of(r.error()), errc::cancelled);
  CAF_CHECK(std::chrono::steady_clock::now() - start < 1s);
}

CAF_TEST(an abort reaches a child that closed its pipes but still runs) {
  // The shell leaves; its sleep keeps no pipe (redirected), so the second
  // wait (for the leader) is the one that must see the abort.
  process_options opts;
  opts.abort = abort_signal::make();
  std::chrono::steady_clock::time_point fired;
  std::thread t([&] {
    std::this_thread::sleep_for(200ms); // the test's trigger, not a synchronisation
    fired = std::chrono::steady_clock::now();
    opts.abort->trigger();
  });
  auto r = run_process({"sh", "-c", "exec sleep 30 >/dev/null 2>&1"}, opts);
  auto returned = std::chrono::steady_clock::now();
  t.join();
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(code_of(r.error()), errc::cancelled);
  CAF_CHECK(returned - fired < 60ms);
}

CAF_TEST(tail lines) {
  CAF_CHECK_EQUAL(tail_lines("a\n\nb\nc\n", 2), "b\nc");
  CAF_CHECK_EQUAL(tail_lines("x", 5), "x");
  CAF_CHECK_EQUAL(tail_lines("", 5), "");
}
