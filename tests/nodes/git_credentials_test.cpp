#define CAF_SUITE nodes.git_credentials
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <fstream>
#include <vector>

#include <csignal>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/deploy_key.hpp"
#include "nodes/git_credentials.hpp"
#include "nodes/process.hpp"
#include "nodes/source_fetcher.hpp"
#include "protocol/error.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/git_servers.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_certs.hpp"

using namespace gilgal;
using namespace std::chrono_literals;

namespace {

constexpr const char* token = "ghp_S3cretTokenValue4242";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Entries of a directory (without . and ..).
std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (auto* e = ::readdir(d))
      if (std::string{e->d_name} != "." && std::string{e->d_name} != "..")
        out.emplace_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

/// A private repository with two commits, and a fetcher set up to read it.
struct fixture {
  test::git_repo repo;
  std::string first;
  std::string second;
  std::string root = test::make_temp_dir("gilgal-gitauth");
  std::string temp = root + "/tmp";
  fetch_options opts;
  std::vector<std::string> logs;
  int work_dirs = 0;

  fixture() {
    first = repo.commit({{"index.html", "v1"}}, "First commit");
    second = repo.commit({{"index.html", "v2"}}, "Second commit");
    ::mkdir(temp.c_str(), 0700);
    opts.timeout = 30s;
    opts.attempts = 1;
    opts.allow_private_targets = true; // the git servers listen on 127.0.0.1
    opts.temp_dir = temp;
    opts.on_log = [this](const std::string& line) { logs.push_back(line); };
  }

  ~fixture() { test::remove_tree(root); }

  std::string new_work_dir() {
    auto dir = root + "/work" + std::to_string(++work_dirs);
    ::mkdir(dir.c_str(), 0700);
    return dir;
  }

  /// The repository's directory name and its parent (the servers' root).
  std::string repo_name() const { return repo.path().substr(repo.path().rfind('/') + 1); }
  std::string repo_parent() const { return repo.path().substr(0, repo.path().rfind('/')); }

  std::string all_logs() const {
    std::string out;
    for (auto& l : logs)
      out += l + "\n";
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(git_credentials_tests, fixture)

CAF_TEST(remote kinds) {
  CAF_CHECK(is_ssh_remote("ssh://git@github.com/a/b.git"));
  CAF_CHECK(is_ssh_remote("git@github.com:a/b.git"));
  CAF_CHECK(is_ssh_remote("github.com:a/b.git"));
  CAF_CHECK(!is_ssh_remote("https://github.com/a/b.git"));
  CAF_CHECK(!is_ssh_remote("/srv/git/a"));
  CAF_CHECK(!is_ssh_remote("file:///srv/git/a"));
  CAF_CHECK(!is_ssh_remote("./a:b"));
}

// What a git child gets, seen by a stand-in git: the token only in the
// environment (never argv), the key file 0600 in a 0700 directory that is
// gone after the call, no ssh agent of the server.
CAF_TEST(credentials reach git only through its environment and files that vanish) {
  auto marker = root + "/seen";
  auto fake = root + "/fake-git";
  std::ofstream(fake) << "#!/bin/sh\n"
                         "echo \"$*\" > '" << marker << ".args'\n"
                         "env > '" << marker << ".env'\n"
                         "stat -c '%a %n' '" << temp << "'/gilgal-git-auth.* '" << temp
                      << "'/gilgal-git-auth.*/* > '" << marker << ".files' 2>&1\n"
                         "echo \"fatal: repository 'x' not found\" >&2\n"
                         "exit 128\n";
  ::chmod(fake.c_str(), 0755);
  opts.git = fake;
  opts.repository_token = token;
  auto key = generate_deploy_key("test");
  CAF_REQUIRE(key);
  opts.deploy_key = key->private_key;
  ::setenv("SSH_AUTH_SOCK", "/tmp/server-agent.sock", 1);
  ::setenv("GIT_SSH_COMMAND", "ssh -i /root/.ssh/id_server", 1);
  auto https = resolve_head("https://git.example.test/a/b.git", "main", opts);
  CAF_CHECK(!https);
  auto args = read_file(marker + ".args");
  auto env = read_file(marker + ".env");
  CAF_CHECK(!contains(args, token));
  CAF_CHECK(!contains(args, "Authorization"));
  CAF_CHECK(contains(env, "GIT_CONFIG_COUNT=1\n"));
  CAF_CHECK(contains(env, "GIT_CONFIG_KEY_0=http.https://git.example.test/.extraHeader\n"));
  CAF_CHECK(contains(env, "GIT_CONFIG_VALUE_0=Authorization: Basic "));
  CAF_CHECK(!contains(env, "SSH_AUTH_SOCK"));
  CAF_CHECK(!contains(env, "id_server"));
  // Over ssh: the deploy key, 0600 in a 0700 directory, and the token not at all.
  auto ssh = resolve_head("git@git.example.test:a/b.git", "main", opts);
  CAF_CHECK(!ssh);
  env = read_file(marker + ".env");
  auto files = read_file(marker + ".files");
  CAF_MESSAGE("files during the call:\n" << files);
  ::unsetenv("SSH_AUTH_SOCK");
  ::unsetenv("GIT_SSH_COMMAND");
  CAF_CHECK(contains(env, "GIT_SSH_COMMAND=ssh -F /dev/null "));
  CAF_CHECK(contains(env, "IdentitiesOnly=yes"));
  CAF_CHECK(contains(env, "IdentityAgent=none"));
  CAF_CHECK(contains(env, "StrictHostKeyChecking=accept-new"));
  CAF_CHECK(!contains(env, "GIT_CONFIG_VALUE_0"));
  CAF_CHECK(!contains(env, "SSH_AUTH_SOCK"));
  CAF_CHECK(contains(files, "700 " + temp + "/gilgal-git-auth."));
  CAF_CHECK(contains(files, "/deploy_key"));
  CAF_CHECK(contains(files, "/known_hosts"));
  size_t lines = 0;
  for (size_t pos = 0; (pos = files.find('\n', pos)) != std::string::npos; ++pos)
    ++lines;
  CAF_CHECK_EQUAL(lines, 3u);
  for (size_t pos = files.find("/deploy_key"); pos != std::string::npos;
       pos = files.find("/deploy_key", pos + 1))
    CAF_CHECK_EQUAL(files.substr(files.rfind('\n', pos) + 1, 4), "600 ");
  // After the calls nothing is left.
  CAF_CHECK(entries(temp).empty());
}

CAF_TEST(https with the token fetches and the token is never seen elsewhere) {
  test::test_certs certs;
  test::https_git_server server(repo_parent(), certs.file("control-plane.pem"),
                                certs.file("control-plane.key"), token);
  opts.ca_file = certs.file("ca.pem");
  auto url = server.url(repo_name());
  // Without a token the server answers 401: a clear refusal, no retries.
  auto anonymous = resolve_head(url, "main", opts);
  CAF_REQUIRE(!anonymous);
  CAF_MESSAGE(message_of(anonymous.error()));
  CAF_CHECK_EQUAL(code_of(anonymous.error()), errc::unavailable);
  CAF_CHECK(contains(message_of(anonymous.error()), "repositoryToken"));
  CAF_CHECK(server.refused() > 0);
  // A wrong token is refused the same way, and not repeated in the message.
  opts.repository_token = "wrong-token-value";
  auto wrong = resolve_head(url, "main", opts);
  CAF_REQUIRE(!wrong);
  CAF_CHECK(contains(message_of(wrong.error()), "refused"));
  CAF_CHECK(!contains(message_of(wrong.error()), "wrong-token-value"));
  CAF_CHECK_EQUAL(server.served(), 0);
  // The right token: the head, then a fetch of the first commit.
  opts.repository_token = token;
  auto head = resolve_head(url, "main", opts);
  CAF_REQUIRE(head);
  CAF_CHECK_EQUAL(*head, second);
  auto got = fetch_commit(url, "main", first, new_work_dir(), opts);
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->sha, first);
  CAF_CHECK(server.served() > 0);
  // USER:TOKEN works too.
  opts.repository_token = std::string{"deploy-bot:"} + token;
  CAF_CHECK(resolve_head(url, "main", opts));
  for (auto& line : server.seen_outside_authorization())
    CAF_CHECK(!contains(line, token));
  CAF_CHECK(!contains(all_logs(), token));
  CAF_CHECK(entries(temp).empty());
}

CAF_TEST(ssh with the deploy key records the host on first use and refuses a changed one) {
  if (auto why = test::ssh_git_server::unavailable_reason(); !why.empty())
    CAF_FAIL(why);
  auto key = generate_deploy_key("gilgal-test");
  auto other = generate_deploy_key("gilgal-other");
  CAF_REQUIRE(key && other);
  test::ssh_git_server server(key->public_key);
  auto url = server.url(repo.path());
  std::string known_hosts;
  opts.known_hosts = &known_hosts;
  opts.deploy_key = key->private_key;
  // First use: the host key is recorded and said so in the log.
  auto head = resolve_head(url, "main", opts);
  if (!head)
    CAF_FAIL(message_of(head.error()));
  CAF_CHECK_EQUAL(*head, second);
  auto host_key = server.host_public_key();
  auto blob = host_key.substr(host_key.find(' ') + 1);
  blob = blob.substr(0, blob.find(' '));
  CAF_CHECK(contains(known_hosts, blob));
  CAF_CHECK(contains(all_logs(), "seen for the first time"));
  CAF_CHECK(contains(all_logs(), ssh_fingerprint(host_key)));
  // Later calls use the recorded key.
  auto recorded = known_hosts;
  auto got = fetch_commit(url, "main", first, new_work_dir(), opts);
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->sha, first);
  CAF_CHECK_EQUAL(known_hosts, recorded);
  // Another key is refused with a clear message.
  opts.deploy_key = other->private_key;
  auto refused = resolve_head(url, "main", opts);
  CAF_REQUIRE(!refused);
  CAF_MESSAGE(message_of(refused.error()));
  CAF_CHECK(contains(message_of(refused.error()), "refused the project's deploy key"));
  // No key at all: the server's own identities and agent are not tried.
  opts.deploy_key.clear();
  auto agent_dir = root + "/agent";
  ::mkdir(agent_dir.c_str(), 0700);
  auto server_key = agent_dir + "/id_server";
  {
    std::ofstream(server_key) << key->private_key;
    ::chmod(server_key.c_str(), 0600);
  }
  auto sock = agent_dir + "/agent.sock";
  process_options agent_opts;
  auto agent = run_process({"ssh-agent", "-a", sock}, agent_opts);
  CAF_REQUIRE(agent && agent->exit_code == 0);
  auto pid_at = agent->out.find("SSH_AGENT_PID=");
  auto agent_pid = pid_at == std::string::npos ? 0 : std::stoi(agent->out.substr(pid_at + 14));
  agent_opts.env["SSH_AUTH_SOCK"] = sock;
  auto added = run_process({"ssh-add", server_key}, agent_opts);
  CAF_CHECK(added && added->exit_code == 0);
  ::setenv("SSH_AUTH_SOCK", sock.c_str(), 1);
  auto without = resolve_head(url, "main", opts);
  ::unsetenv("SSH_AUTH_SOCK");
  if (agent_pid > 0)
    ::kill(agent_pid, SIGTERM);
  CAF_REQUIRE(!without);
  CAF_CHECK(contains(message_of(without.error()), "refused the project's deploy key"));
  // The host changes its key: refused, and the recorded key stays.
  opts.deploy_key = key->private_key;
  server.change_host_key();
  auto changed = resolve_head(url, "main", opts);
  CAF_REQUIRE(!changed);
  CAF_MESSAGE(message_of(changed.error()));
  CAF_CHECK(contains(message_of(changed.error()), "host key"));
  CAF_CHECK(contains(message_of(changed.error()), "has changed"));
  CAF_CHECK_EQUAL(known_hosts, recorded);
  auto dir = new_work_dir();
  CAF_CHECK(!fetch_commit(url, "main", first, dir, opts));
  CAF_CHECK(entries(temp).empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
