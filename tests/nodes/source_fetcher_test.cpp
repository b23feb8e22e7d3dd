#define CAF_SUITE nodes.source_fetcher
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <fstream>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "nodes/process.hpp"
#include "nodes/source_fetcher.hpp"
#include "protocol/error.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;
using namespace std::chrono_literals;

namespace {

std::string git_out(const std::string& dir, std::vector<std::string> args) {
  std::vector<std::string> argv{"git", "-c", "user.name=Test", "-c", "user.email=t@example.org",
                                "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"};
  argv.insert(argv.end(), args.begin(), args.end());
  process_options opts;
  opts.cwd = dir;
  auto r = run_process(argv, opts);
  if (!r || r->exit_code != 0)
    CAF_FAIL("git " << args.front() << " failed: " << (r ? r->err : message_of(r.error())));
  auto out = r->out;
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  return out;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// A repository with two commits on main and one on a side branch.
struct fixture {
  std::string root = test::make_temp_dir("gilgal-fetch");
  std::string repo = root + "/repo";
  std::string first;
  std::string second;
  std::string side;
  fetch_options opts;
  std::vector<std::string> logs;

  fixture() {
    ::mkdir(repo.c_str(), 0755);
    git_out(repo, {"init", "-q"});
    write_file(repo + "/index.html", "v1");
    git_out(repo, {"add", "index.html"});
    git_out(repo, {"commit", "-q", "-m", "First commit"});
    first = git_out(repo, {"rev-parse", "HEAD"});
    write_file(repo + "/index.html", "v2");
    git_out(repo, {"commit", "-q", "-am", "Second commit"});
    second = git_out(repo, {"rev-parse", "HEAD"});
    git_out(repo, {"checkout", "-q", "-b", "feature/x"});
    write_file(repo + "/index.html", "side");
    git_out(repo, {"commit", "-q", "-am", "Side commit"});
    side = git_out(repo, {"rev-parse", "HEAD"});
    git_out(repo, {"checkout", "-q", "main"});
    opts.allow_local = true;
    opts.timeout = 30s;
    opts.backoff = 10ms;
    opts.on_log = [this](const std::string& line) { logs.push_back(line); };
  }

  ~fixture() { test::remove_tree(root); }

  std::string new_work_dir(const std::string& name) {
    auto dir = root + "/" + name;
    ::mkdir(dir.c_str(), 0700);
    return dir;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(source_fetcher_tests, fixture)

CAF_TEST(resolve head of a branch) {
  auto head = resolve_head(repo, "main", opts);
  CAF_REQUIRE(head);
  CAF_CHECK_EQUAL(*head, second);
  auto side_head = resolve_head("file://" + repo, "feature/x", opts);
  CAF_REQUIRE(side_head);
  CAF_CHECK_EQUAL(*side_head, side);
}

CAF_TEST(missing branch is not_found) {
  auto head = resolve_head(repo, "nope", opts);
  CAF_REQUIRE(!head);
  CAF_CHECK_EQUAL(code_of(head.error()), errc::not_found);
  CAF_CHECK(message_of(head.error()).find("nope") != std::string::npos);
}

CAF_TEST(fetch a full sha) {
  auto dir = new_work_dir("full");
  auto got = fetch_commit(repo, "main", first, dir, opts);
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->sha, first);
  CAF_CHECK_EQUAL(got->message, "First commit");
  CAF_CHECK_EQUAL(read_file(dir + "/index.html"), "v1");
}

CAF_TEST(fetch a short sha) {
  auto dir = new_work_dir("short");
  auto got = fetch_commit(repo, "main", second.substr(0, 7), dir, opts);
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->sha, second);
  CAF_CHECK_EQUAL(got->message, "Second commit");
  CAF_CHECK_EQUAL(read_file(dir + "/index.html"), "v2");
  // Upper-case hex is accepted and normalised.
  auto dir2 = new_work_dir("upper");
  std::string upper = first.substr(0, 12);
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto got2 = fetch_commit(repo, "main", upper, dir2, opts);
  CAF_REQUIRE(got2);
  CAF_CHECK_EQUAL(got2->sha, first);
}

CAF_TEST(fetch a commit of another branch) {
  auto dir = new_work_dir("side");
  auto got = fetch_commit(repo, "feature/x", side.substr(0, 10), dir, opts);
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->sha, side);
  CAF_CHECK_EQUAL(read_file(dir + "/index.html"), "side");
}

CAF_TEST(unknown sha fails clearly without retries) {
  auto start = std::chrono::steady_clock::now();
  opts.backoff = 2s; // a retry would show in the duration
  auto dir = new_work_dir("unknown");
  auto got = fetch_commit(repo, "main", "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef", dir, opts);
  CAF_REQUIRE(!got);
  CAF_CHECK_EQUAL(code_of(got.error()), errc::not_found);
  CAF_CHECK(message_of(got.error()).find("deadbeef") != std::string::npos);
  auto dir2 = new_work_dir("unknown-short");
  auto got2 = fetch_commit(repo, "main", "abcdef1", dir2, opts);
  CAF_REQUIRE(!got2);
  CAF_CHECK_EQUAL(code_of(got2.error()), errc::not_found);
  CAF_CHECK(std::chrono::steady_clock::now() - start < 2s);
  for (auto& line : logs)
    CAF_CHECK(line.find("retrying") == std::string::npos);
}

CAF_TEST(missing branch on fetch by prefix is not_found) {
  auto dir = new_work_dir("nobranch");
  auto got = fetch_commit(repo, "nope", second.substr(0, 8), dir, opts);
  CAF_REQUIRE(!got);
  CAF_CHECK_EQUAL(code_of(got.error()), errc::not_found);
  CAF_CHECK(message_of(got.error()).find("branch") != std::string::npos);
}

CAF_TEST(unreachable remote fails after retries with backoff) {
  opts.attempts = 3;
  opts.backoff = 50ms;
  auto start = std::chrono::steady_clock::now();
  auto head = resolve_head("https://127.0.0.1:1/x.git", "main", opts);
  auto took = std::chrono::steady_clock::now() - start;
  CAF_REQUIRE(!head);
  CAF_CHECK_EQUAL(code_of(head.error()), errc::unavailable);
  CAF_MESSAGE("error: " << message_of(head.error()));
  CAF_CHECK(message_of(head.error()).find("3 attempts") != std::string::npos);
  // Two waits: 50 ms and 100 ms.
  CAF_CHECK(took >= 150ms);
  size_t retries = 0;
  for (auto& line : logs)
    if (line.find("retrying") != std::string::npos)
      ++retries;
  CAF_CHECK_EQUAL(retries, 2u);
  logs.clear();
  auto dir = new_work_dir("unreachable");
  auto got = fetch_commit("https://127.0.0.1:1/x.git", "main", first, dir, opts);
  CAF_REQUIRE(!got);
  CAF_CHECK_EQUAL(code_of(got.error()), errc::unavailable);
}

CAF_TEST(missing local repository is unavailable without retries) {
  opts.backoff = 2s;
  auto start = std::chrono::steady_clock::now();
  auto head = resolve_head(root + "/no-such-repo", "main", opts);
  CAF_REQUIRE(!head);
  CAF_CHECK_EQUAL(code_of(head.error()), errc::unavailable);
  CAF_CHECK(std::chrono::steady_clock::now() - start < 2s);
}

CAF_TEST(hostile input is rejected before git runs) {
  auto dir = new_work_dir("hostile");
  for (auto branch : {"--upload-pack=touch /tmp/pwned", "-x", "a..b", "a b", "a;b", "$(id)",
                      "main.lock", "", "/main", "main/"}) {
    auto head = resolve_head(repo, branch, opts);
    CAF_REQUIRE(!head);
    CAF_CHECK_EQUAL(code_of(head.error()), errc::invalid_argument);
    auto got = fetch_commit(repo, branch, first, dir, opts);
    CAF_REQUIRE(!got);
    CAF_CHECK_EQUAL(code_of(got.error()), errc::invalid_argument);
  }
  for (auto sha : {"abc", "xyz1234", "--all", "0123456789012345678901234567890123456789ab"}) {
    auto got = fetch_commit(repo, "main", sha, dir, opts);
    CAF_REQUIRE(!got);
    CAF_CHECK_EQUAL(code_of(got.error()), errc::invalid_argument);
  }
  for (auto url : {"--upload-pack=id", "-oProxyCommand=id", "ext::sh -c id", "a b",
                   "fd::17", "ext:x"}) {
    auto head = resolve_head(url, "main", opts);
    CAF_REQUIRE(!head);
    CAF_CHECK_EQUAL(code_of(head.error()), errc::invalid_argument);
  }
  // Ordinary remote URLs pass.
  for (auto url : {"https://github.com/a/b.git", "https://[::1]:8443/x.git",
                   "git@github.com:a/b.git", "ssh://git@host:22/a/b.git"})
    CAF_CHECK(!check_repository_url(url, false));
  // Nothing was fetched into the work directory.
  CAF_CHECK(!exists(dir + "/.git"));
}

CAF_TEST(local sources need permission) {
  opts.allow_local = false;
  auto head = resolve_head(repo, "main", opts);
  CAF_REQUIRE(!head);
  CAF_CHECK_EQUAL(code_of(head.error()), errc::invalid_argument);
  auto head2 = resolve_head("file://" + repo, "main", opts);
  CAF_REQUIRE(!head2);
  CAF_CHECK_EQUAL(code_of(head2.error()), errc::invalid_argument);
}

CAF_TEST(scoped work dir is removed whatever happens) {
  std::string path;
  {
    auto wd = scoped_work_dir::create(root + "/work/nested");
    CAF_REQUIRE(wd);
    path = wd->path();
    CAF_CHECK(exists(path));
    auto got = fetch_commit(repo, "main", second, path, opts);
    CAF_REQUIRE(got);
    CAF_CHECK(exists(path + "/index.html"));
    // A read-only subdirectory and a symlink pointing outside must not stop removal
    // nor be followed.
    ::mkdir((path + "/ro").c_str(), 0755);
    write_file(path + "/ro/f", "x");
    ::chmod((path + "/ro").c_str(), 0555);
    CAF_CHECK_EQUAL(::symlink(repo.c_str(), (path + "/link").c_str()), 0);
  }
  CAF_CHECK(!exists(path));
  CAF_CHECK(exists(repo + "/index.html"));
  {
    auto wd = scoped_work_dir::create(root + "/work");
    CAF_REQUIRE(wd);
    path = wd->path();
    auto moved = std::move(*wd);
    CAF_CHECK_EQUAL(moved.path(), path);
    CAF_CHECK(exists(path));
  }
  CAF_CHECK(!exists(path));
}

CAF_TEST(non-empty work dir is refused) {
  auto dir = new_work_dir("dirty");
  write_file(dir + "/x", "x");
  auto got = fetch_commit(repo, "main", second, dir, opts);
  CAF_REQUIRE(!got);
  CAF_CHECK_EQUAL(code_of(got.error()), errc::internal);
}

CAF_TEST_FIXTURE_SCOPE_END()
