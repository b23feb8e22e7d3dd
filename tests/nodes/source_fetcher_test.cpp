#define CAF_SUITE nodes.source_fetcher
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "nodes/host_resolver.hpp"
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

/// A stand-in git that records its arguments, environment and HOME next to
/// `marker` and fails like a missing repository.
std::string write_fake_git(const std::string& path, const std::string& marker) {
  write_file(path, "#!/bin/sh\n"
                   "echo \"$*\" > '" + marker + ".args'\n"
                   "env > '" + marker + ".env'\n"
                   "printf %s \"$HOME\" > '" + marker + ".home'\n"
                   "touch '" + marker + "'\n"
                   "echo \"fatal: repository 'x' not found\" >&2\n"
                   "exit 128\n");
  ::chmod(path.c_str(), 0755);
  return path;
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
  opts.allow_private_targets = true; // 127.0.0.1:1 refuses connections
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

// The attack: a repositoryUrl that points git at this machine, the cloud
// metadata service or the private network (to probe or reach internal
// services), directly or through a name that resolves there.
CAF_TEST(private targets are refused before git runs) {
  auto marker = root + "/git-ran";
  opts.git = write_fake_git(root + "/fake-git", marker);
  opts.backoff = 2s;
  for (auto url : {"https://127.0.0.1/x.git", "https://[::1]:8443/x.git",
                   "https://169.254.169.254/latest/meta-data", "https://10.1.2.3/x.git",
                   "git@192.168.1.1:x.git", "ssh://git@0x7f.1/x.git", "https://2130706433/x.git",
                   "https://localhost/x.git", "https://a.localhost/x.git",
                   "https://[::ffff:127.0.0.1]/x.git", "https://100.64.0.1/x.git",
                   "https://[fe80::1]/x.git", "https://93.184.216.34/x.git"}) {
    auto start = std::chrono::steady_clock::now();
    auto head = resolve_head(url, "main", opts);
    CAF_REQUIRE(!head);
    CAF_CHECK_EQUAL(code_of(head.error()), errc::invalid_argument);
    CAF_MESSAGE(url << ": " << message_of(head.error()));
    CAF_CHECK(message_of(head.error()).find("repositoryUrl: host") == 0);
    CAF_CHECK(std::chrono::steady_clock::now() - start < 2s); // no retries
    auto got = fetch_commit(url, "main", first, new_work_dir("private"), opts);
    CAF_REQUIRE(!got);
    CAF_CHECK_EQUAL(code_of(got.error()), errc::invalid_argument);
    CAF_MESSAGE(message_of(got.error()));
    test::remove_tree(root + "/private");
  }
  CAF_CHECK(!exists(marker));
}

CAF_TEST(names resolving to private addresses are refused) {
  auto marker = root + "/git-ran";
  opts.git = write_fake_git(root + "/fake-git", marker);
  std::map<std::string, std::vector<std::string>> dns = {
    {"git.internal.example", {"10.0.0.5"}},
    {"metadata.example", {"169.254.169.254"}},
    {"mixed.example", {"93.184.216.34", "127.0.0.1"}},
    {"v6.example", {"fd00::1"}}};
  opts.resolve = [&](const std::string& host) -> caf::expected<std::vector<ip_address>> {
    std::vector<ip_address> out;
    for (auto& text : dns[host])
      out.push_back(*parse_ip_literal(text));
    return out;
  };
  for (auto& [host, addresses] : dns) {
    auto head = resolve_head("https://" + host + "/x.git", "main", opts);
    CAF_REQUIRE(!head);
    CAF_CHECK_EQUAL(code_of(head.error()), errc::invalid_argument);
    CAF_MESSAGE(message_of(head.error()));
    CAF_CHECK(message_of(head.error()).find("resolves to") != std::string::npos);
    auto ssh = resolve_head("git@" + host + ":x.git", "main", opts);
    CAF_REQUIRE(!ssh);
    CAF_CHECK_EQUAL(code_of(ssh.error()), errc::invalid_argument);
  }
  CAF_CHECK(!exists(marker));
  // The system resolver: this machine's own name resolves to itself.
  char name[256] = {0};
  ::gethostname(name, sizeof(name) - 1);
  auto own = resolve_host_addresses(name);
  if (own && !own->empty() && scope_of(own->front()) != address_scope::public_internet) {
    opts.resolve = nullptr;
    auto head = resolve_head(std::string{"https://"} + name + "/x.git", "main", opts);
    CAF_REQUIRE(!head);
    CAF_CHECK_EQUAL(code_of(head.error()), errc::invalid_argument);
    CAF_MESSAGE(message_of(head.error()));
    CAF_CHECK(!exists(marker));
  } else {
    CAF_MESSAGE("this machine's name " << name << " does not resolve to a private address");
  }
  // With --allow-private-targets git runs.
  opts.allow_private_targets = true;
  opts.attempts = 1;
  CAF_CHECK(!resolve_head("https://git.internal.example/x.git", "main", opts));
  CAF_CHECK(exists(marker));
}

// The attack: the server's git configuration, credential helpers or secrets
// in its environment serve (or leak to) a tenant's repository.
CAF_TEST(git runs pinned with nothing of the server) {
  auto marker = root + "/git-ran";
  opts.git = write_fake_git(root + "/fake-git", marker);
  opts.temp_dir = root + "/tmp";
  opts.attempts = 1;
  opts.resolve = [](const std::string& host) -> caf::expected<std::vector<ip_address>> {
    if (host != "git.example.test")
      return make_error(errc::unavailable, "no such host");
    return std::vector<ip_address>{*parse_ip_literal("93.184.216.34"),
                                   *parse_ip_literal("2606:2800:220:1::1")};
  };
  ::setenv("GILGAL_CLUSTER_SECRET", "cluster-secret-value", 1);
  ::setenv("GILGAL_REGISTRY_PASSWORD", "registry-password-value", 1);
  ::setenv("GILGAL_DATABASE_URL", "postgresql://u:pw@h/db", 1);
  ::setenv("GIT_CONFIG_PARAMETERS", "'credential.helper'='store'", 1);
  auto head = resolve_head("https://git.example.test/a/b.git", "main", opts);
  for (auto* v : {"GILGAL_CLUSTER_SECRET", "GILGAL_REGISTRY_PASSWORD", "GILGAL_DATABASE_URL",
                  "GIT_CONFIG_PARAMETERS"})
    ::unsetenv(v);
  CAF_REQUIRE(!head);
  auto args = read_file(marker + ".args");
  auto env = read_file(marker + ".env");
  CAF_MESSAGE("git " << args);
  CAF_CHECK(args.find("http.curloptResolve=git.example.test:443:93.184.216.34,"
                      "[2606:2800:220:1::1]")
            != std::string::npos);
  CAF_CHECK(args.find("credential.helper= ") != std::string::npos);
  CAF_CHECK(args.find("http.followRedirects=false") != std::string::npos);
  CAF_CHECK(args.find("protocol.allow=never") != std::string::npos);
  CAF_CHECK(env.find("GIT_CONFIG_NOSYSTEM=1\n") != std::string::npos);
  CAF_CHECK(env.find("GIT_CONFIG_GLOBAL=/dev/null\n") != std::string::npos);
  CAF_CHECK(env.find("GIT_TERMINAL_PROMPT=0\n") != std::string::npos);
  CAF_CHECK(env.find("HOME=" + root + "/tmp/gilgal-git-home.") != std::string::npos);
  for (auto* v : {"GILGAL_", "cluster-secret-value", "registry-password-value",
                  "GIT_CONFIG_PARAMETERS", "postgresql://"})
    CAF_CHECK(env.find(v) == std::string::npos);
  // The temporary HOME is gone.
  CAF_CHECK(read_file(marker + ".home").empty() == false);
  CAF_CHECK(!exists(read_file(marker + ".home")));
  // A name that does not resolve is a network failure, retried.
  opts.attempts = 2;
  opts.backoff = 10ms;
  auto gone = resolve_head("https://nowhere.example.test/a/b.git", "main", opts);
  CAF_REQUIRE(!gone);
  CAF_CHECK_EQUAL(code_of(gone.error()), errc::unavailable);
}

CAF_TEST(the git configuration of the server is not read) {
  // A global and a system configuration that would send every fetch of this
  // repository elsewhere.
  auto home = root + "/server-home";
  ::mkdir(home.c_str(), 0700);
  write_file(home + "/.gitconfig",
             "[url \"file:///nonexistent/\"]\n\tinsteadOf = file://" + repo + "\n");
  std::string old_home = std::getenv("HOME") ? std::getenv("HOME") : "";
  ::setenv("HOME", home.c_str(), 1);
  ::setenv("GIT_CONFIG_SYSTEM", (home + "/.gitconfig").c_str(), 1);
  auto head = resolve_head("file://" + repo, "main", opts);
  auto dir = new_work_dir("config");
  auto got = fetch_commit("file://" + repo, "main", second, dir, opts);
  // The same configuration does redirect a git that reads it.
  process_options popts;
  popts.env["HOME"] = home;
  auto honoured = run_process({"git", "ls-remote", "file://" + repo}, popts);
  ::setenv("HOME", old_home.c_str(), 1);
  ::unsetenv("GIT_CONFIG_SYSTEM");
  CAF_REQUIRE(head);
  CAF_CHECK_EQUAL(*head, second);
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->sha, second);
  CAF_REQUIRE(honoured);
  CAF_CHECK(honoured->exit_code != 0);
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
