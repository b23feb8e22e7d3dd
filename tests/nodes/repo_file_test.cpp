// Hostile repository entries where Gilgal reads files (.dockerignore,
// package.json, Procfile, requirements.txt, Dockerfile): links to /dev/zero
// and /etc/shadow, a FIFO, a 2 GiB sparse file, a link in a parent directory.
// Each gives a clear error at once, reads nothing outside the checkout, and
// does not grow the process's memory.
#define CAF_SUITE nodes.repo_file
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nodes/build_context.hpp"
#include "nodes/framework_detector.hpp"
#include "nodes/recipe.hpp"
#include "nodes/repo_file.hpp"
#include "protocol/error.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;
using namespace std::chrono_literals;

namespace {

/// Resident memory of this process in KiB.
long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      long kib = 0;
      in >> kib;
      return kib;
    }
    in.ignore(1 << 12, '\n');
  }
  return 0;
}

/// Runs `fn` on a thread of its own; false when it did not return within
/// `limit` (a hang: the thread is left behind, the test fails).
bool returns_within(std::chrono::milliseconds limit, std::function<void()> fn) {
  auto done = std::make_shared<std::promise<void>>();
  auto fut = done->get_future();
  std::thread{[fn = std::move(fn), done] {
    fn();
    done->set_value();
  }}.detach();
  return fut.wait_for(limit) == std::future_status::ready;
}

enum class hostile { link_dev_zero, link_shadow, fifo, sparse_2g, link_parent };

const char* name_of(hostile h) {
  switch (h) {
    case hostile::link_dev_zero: return "a link to /dev/zero";
    case hostile::link_shadow: return "a link to /etc/shadow";
    case hostile::fifo: return "a FIFO";
    case hostile::sparse_2g: return "a 2 GiB sparse file";
    case hostile::link_parent: return "a file below a linked directory";
  }
  return "?";
}

struct fixture {
  std::string dir = test::make_temp_dir("gilgal-repo-file");
  std::string outside = test::make_temp_dir("gilgal-outside");

  ~fixture() {
    test::remove_tree(dir);
    test::remove_tree(outside);
  }

  void write(const std::string& rel, const std::string& text) {
    std::ofstream(dir + "/" + rel, std::ios::binary) << text;
  }

  /// Puts `h` at `rel` (replacing what was there).
  void plant(hostile h, const std::string& rel) {
    auto path = dir + "/" + rel;
    ::unlink(path.c_str());
    switch (h) {
      case hostile::link_dev_zero:
        CAF_REQUIRE_EQUAL(::symlink("/dev/zero", path.c_str()), 0);
        break;
      case hostile::link_shadow:
        CAF_REQUIRE_EQUAL(::symlink("/etc/shadow", path.c_str()), 0);
        break;
      case hostile::fifo:
        CAF_REQUIRE_EQUAL(::mkfifo(path.c_str(), 0644), 0);
        break;
      case hostile::sparse_2g: {
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        CAF_REQUIRE(fd >= 0);
        CAF_REQUIRE_EQUAL(::ftruncate(fd, off_t{2} << 30), 0);
        ::close(fd);
        break;
      }
      case hostile::link_parent: {
        // DIR/sub -> OUTSIDE, and OUTSIDE/<name> a harmless-looking file.
        std::ofstream(outside + "/" + rel) << "{\"secret\": true}";
        auto sub = dir + "/sub";
        ::unlink(sub.c_str());
        CAF_REQUIRE_EQUAL(::symlink(outside.c_str(), sub.c_str()), 0);
        break;
      }
    }
  }

  std::string rel_of(hostile h, const std::string& name) {
    return h == hostile::link_parent ? "sub/" + name : name;
  }
};

constexpr hostile all[] = {hostile::link_dev_zero, hostile::link_shadow, hostile::fifo,
                           hostile::sparse_2g, hostile::link_parent};

} // namespace

CAF_TEST_FIXTURE_SCOPE(repo_file_tests, fixture)

CAF_TEST(regular files are read and absent ones are not found) {
  write("package.json", "{\"name\":\"x\"}");
  auto text = read_repo_file(dir, "package.json");
  CAF_REQUIRE(text);
  CAF_CHECK_EQUAL(*text, "{\"name\":\"x\"}");
  auto absent = read_repo_file(dir, "Procfile");
  CAF_REQUIRE(!absent);
  CAF_CHECK_EQUAL(code_of(absent.error()), errc::not_found);
  CAF_CHECK(repo_entry_at(dir, "package.json") == repo_entry::file);
  CAF_CHECK(repo_entry_at(dir, "nothing") == repo_entry::absent);
  for (auto bad : {"../etc/passwd", "./package.json", "a//b", ""}) {
    auto r = read_repo_file(dir, bad);
    CAF_CHECK(!r && code_of(r.error()) == errc::build_failed);
  }
  // Exactly at the cap is fine; one byte more is not.
  write("big", std::string(repo_file_max_bytes, 'x'));
  CAF_CHECK(read_repo_file(dir, "big"));
  write("big", std::string(repo_file_max_bytes + 1, 'x'));
  auto big = read_repo_file(dir, "big");
  CAF_REQUIRE(!big);
  CAF_CHECK(message_of(big.error()).find("larger than 1 MiB") != std::string::npos);
}

CAF_TEST(hostile entries are refused by name without a hang or memory growth) {
  auto rss_before = rss_kib();
  for (auto h : all) {
    auto rel = rel_of(h, "Procfile");
    plant(h, rel);
    caf::expected<std::string> res{std::string{}};
    CAF_CHECK(returns_within(5s, [&] { res = read_repo_file(dir, rel); }));
    CAF_MESSAGE(name_of(h) << ": " << (res ? std::string{"read"} : message_of(res.error())));
    CAF_REQUIRE(!res);
    CAF_CHECK_EQUAL(code_of(res.error()), errc::build_failed);
    CAF_CHECK(message_of(res.error()).find(rel) == 0);
  }
  CAF_CHECK_LESS(rss_kib() - rss_before, 32 * 1024);
}

CAF_TEST(the detector fails clearly on hostile manifests) {
  auto rss_before = rss_kib();
  for (auto name : {"package.json", "Procfile", "requirements.txt"}) {
    for (auto h : all) {
      if (h == hostile::link_parent)
        continue; // the detector reads top-level files only
      test::remove_tree(dir);
      ::mkdir(dir.c_str(), 0755);
      // A Python app, so that requirements.txt is read too (for gunicorn).
      write("manage.py", "");
      ::mkdir((dir + "/web").c_str(), 0755);
      write("web/wsgi.py", "");
      plant(h, name);
      caf::expected<detection> d{detection{}};
      CAF_CHECK(returns_within(5s, [&] { d = detect_framework(dir); }));
      CAF_MESSAGE(name << " as " << name_of(h) << ": "
                       << (d ? "detected " + d->framework : message_of(d.error())));
      CAF_REQUIRE(!d);
      CAF_CHECK_EQUAL(code_of(d.error()), errc::build_failed);
      CAF_CHECK(message_of(d.error()).find(name) == 0);
    }
  }
  CAF_CHECK_LESS(rss_kib() - rss_before, 32 * 1024);
}

CAF_TEST(a Dockerfile that is not a regular file fails the detection) {
  for (auto h : {hostile::link_dev_zero, hostile::link_shadow, hostile::fifo}) {
    plant(h, "Dockerfile");
    auto d = detect_framework(dir);
    CAF_REQUIRE(!d);
    CAF_CHECK_EQUAL(code_of(d.error()), errc::build_failed);
    CAF_CHECK(message_of(d.error()).find("Dockerfile") == 0);
  }
  // A 2 GiB Dockerfile is a regular file: the recipe refuses to read it.
  plant(hostile::sparse_2g, "Dockerfile");
  auto d = detect_framework(dir);
  CAF_REQUIRE(d);
  auto r = render_recipe(*d, {}, default_recipes_dir(), dir);
  CAF_REQUIRE(!r);
  CAF_CHECK(message_of(r.error()).find("larger than 1 MiB") != std::string::npos);
}

CAF_TEST(the build context refuses a hostile dockerignore and a huge tree) {
  write("index.html", "hi");
  auto rss_before = rss_kib();
  for (auto h : {hostile::link_dev_zero, hostile::link_shadow, hostile::fifo,
                 hostile::sparse_2g}) {
    plant(h, ".dockerignore");
    caf::expected<std::string> tar{std::string{}};
    CAF_CHECK(returns_within(5s, [&] { tar = make_build_context(dir); }));
    CAF_REQUIRE(!tar);
    CAF_MESSAGE(".dockerignore as " << name_of(h) << ": " << message_of(tar.error()));
    CAF_CHECK_EQUAL(code_of(tar.error()), errc::build_failed);
    CAF_CHECK(message_of(tar.error()).find(".dockerignore") == 0);
  }
  ::unlink((dir + "/.dockerignore").c_str());
  // A 2 GiB file anywhere is over the context cap, found before reading it.
  plant(hostile::sparse_2g, "blob.bin");
  caf::expected<std::string> tar{std::string{}};
  auto t0 = std::chrono::steady_clock::now();
  CAF_CHECK(returns_within(5s, [&] { tar = make_build_context(dir); }));
  CAF_REQUIRE(!tar);
  CAF_CHECK_EQUAL(code_of(tar.error()), errc::payload_too_large);
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - t0, 1s);
  CAF_CHECK_LESS(rss_kib() - rss_before, 32 * 1024);
  // Links and FIFOs elsewhere are archived as links or skipped, never read.
  ::unlink((dir + "/blob.bin").c_str());
  plant(hostile::link_dev_zero, "zero");
  plant(hostile::fifo, "pipe");
  CAF_CHECK(returns_within(5s, [&] { tar = make_build_context(dir); }));
  CAF_REQUIRE(tar);
  CAF_CHECK_LESS(tar->size(), size_t{64} << 10);
}

CAF_TEST_FIXTURE_SCOPE_END()
