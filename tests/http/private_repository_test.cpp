// Deployments from private repositories through a real server and real
// Docker: over https with a token (git http-backend behind an authenticated
// https front) and over ssh with the project's deploy key (Debian's sshd with
// a throwaway host key), both on loopback.
#define CAF_SUITE http.private_repository
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <thread>

#include "nodes/docker_client.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/git_servers.hpp"
#include "tests/fixtures/gilgal_server.hpp"
#include "tests/fixtures/test_certs.hpp"
#include "tests/fixtures/test_images.hpp"
#include "tests/http/app_server.hpp"

using namespace gilgal;
using namespace gilgal::test;
using namespace std::chrono_literals;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

// Builds and health checks on a loaded machine take more than CAF test's
// default 30 s watchdog.
const bool private_repository_watchdog = [] {
  caf::test::engine::max_runtime(240);
  return true;
}();

constexpr const char* secret_token = "glpat-PrivateRepoTokenValue7";

const char* web_dockerfile = R"(FROM gilgal-test/busybox:latest
COPY www /www
CMD ["/bin/sh", "-c", "exec httpd -f -p $PORT -h /www"]
)";

std::string get_text(int port, const std::string& path) {
  httplib::Client cli{"127.0.0.1", port};
  cli.set_connection_timeout(2, 0);
  cli.set_read_timeout(5, 0);
  auto res = cli.Get(path.c_str());
  return res && res->status == 200 ? res->body : std::string{};
}

struct fixture : app_server {
  test_certs certs;
  git_repo repo;
  std::string commit;

  fixture() {
    commit = repo.commit({{"Dockerfile", web_dockerfile}, {"www/index.html", "private hello"}},
                         "private web");
    server_options opts;
    opts.extra_args = {"--git-ca-file", certs.file("ca.pem"), "--git-retries", "0",
                      "--allow-private-targets"}; // the git servers listen on 127.0.0.1
    start(opts);
  }

  /// A project (`extra` holds its repositoryUrl and credentials) with one
  /// environment; returns (project id, environment id).
  std::pair<std::string, std::string> create_app(const std::string& name, const json& extra) {
    return app_server::create_app(name, "", extra);
  }

  /// The whole stored log of a deployment, one line each (waits for the
  /// last line: the log closes after the final record).
  std::string log_text(const std::string& id, const std::string& must_contain) {
    auto deadline = clock_type::now() + 5s;
    for (;;) {
      std::string text;
      auto r = api("GET", "/api/deployments/" + id + "/logs");
      if (r.status == 200)
        for (auto& item : r.body["items"])
          text += item["message"].get<std::string>() + "\n";
      if (text.find(must_contain) != std::string::npos || clock_type::now() > deadline)
        return text + "(raw) " + r.raw;
      std::this_thread::sleep_for(50ms);
    }
  }

  std::string repo_name() const { return repo.path().substr(repo.path().rfind('/') + 1); }
  std::string repo_parent() const { return repo.path().substr(0, repo.path().rfind('/')); }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(private_repository_tests, fixture)

CAF_TEST(https with a token deploys and the token shows nowhere) {
  https_git_server git(repo_parent(), certs.file("control-plane.pem"),
                       certs.file("control-plane.key"), secret_token);
  auto [project, env] = create_app("https-app", json{{"repositoryUrl", git.url(repo_name())},
                                                     {"repositoryToken", secret_token}});
  auto ok = deploy(project, env);
  auto log = log_text(ok["id"], "completed successfully");
  CAF_REQUIRE_EQUAL(ok["status"], "success");
  CAF_CHECK_EQUAL(ok["commitSha"], commit);
  CAF_CHECK_EQUAL(get_text(ok["port"].get<int>(), "/"), "private hello");
  CAF_CHECK(git.served() > 0);
  CAF_CHECK(log.find(secret_token) == std::string::npos);
  CAF_CHECK(ok.dump().find(secret_token) == std::string::npos);
  CAF_CHECK(api("GET", "/api/projects/" + project).raw.find(secret_token) == std::string::npos);
  // A wrong token: the deployment fails saying so, still without the token.
  auto patched = api("PATCH", "/api/projects/" + project,
                     json{{"repositoryToken", "wrong-token-xyz"}});
  CAF_REQUIRE_EQUAL(patched.status, 200);
  auto refused = deploy(project, env);
  CAF_CHECK_EQUAL(refused["status"], "failed");
  auto why = refused["errorMessage"].get<std::string>();
  CAF_MESSAGE(why);
  CAF_CHECK(why.find("refused the project's repositoryToken") != std::string::npos);
  auto refused_log = log_text(refused["id"], "repositoryToken");
  CAF_CHECK(refused_log.find("repositoryToken") != std::string::npos);
  CAF_CHECK(refused_log.find("wrong-token-xyz") == std::string::npos);
  CAF_CHECK(srv->log().find(secret_token) == std::string::npos);
  CAF_CHECK(srv->log().find("wrong-token-xyz") == std::string::npos);
  for (auto& line : git.seen_outside_authorization())
    CAF_CHECK(line.find(secret_token) == std::string::npos);
}

CAF_TEST(ssh with the deploy key deploys and a wrong key or changed host is refused) {
  if (auto why = ssh_git_server::unavailable_reason(); !why.empty())
    CAF_FAIL(why);
  ssh_git_server git("");
  auto [project, env] = create_app("ssh-app", json{{"repositoryUrl", git.url(repo.path())}});
  auto key = api("POST", "/api/projects/" + project + "/deploy-key");
  CAF_REQUIRE_EQUAL(key.status, 201);
  // Not yet added to the repository: refused with a clear reason.
  auto unknown = deploy(project, env);
  CAF_CHECK_EQUAL(unknown["status"], "failed");
  CAF_MESSAGE(unknown["errorMessage"]);
  CAF_CHECK(unknown["errorMessage"].get<std::string>().find("refused the project's deploy key")
            != std::string::npos);
  CAF_CHECK(log_text(unknown["id"], "deploy key").find("deploy key") != std::string::npos);
  // Added: deployed, the host key recorded on first use.
  git.set_authorized_keys(key.body["publicKey"].get<std::string>());
  auto ok = deploy(project, env);
  CAF_REQUIRE_EQUAL(ok["status"], "success");
  CAF_CHECK_EQUAL(get_text(ok["port"].get<int>(), "/"), "private hello");
  auto hosts = api("GET", "/api/projects/" + project + "/known-hosts");
  CAF_REQUIRE_EQUAL(hosts.status, 200);
  CAF_MESSAGE(hosts.raw);
  CAF_REQUIRE_EQUAL(hosts.body["knownHosts"].size(), 1u);
  CAF_CHECK_EQUAL(hosts.body["knownHosts"][0]["keyType"], "ssh-ed25519");
  auto fingerprint = hosts.body["knownHosts"][0]["fingerprint"].get<std::string>();
  CAF_CHECK(log_text(ok["id"], "seen for the first time").find(fingerprint)
            != std::string::npos);
  // The host presents another key: refused, the recorded key stays.
  git.change_host_key();
  auto changed = deploy(project, env);
  CAF_CHECK_EQUAL(changed["status"], "failed");
  CAF_MESSAGE(changed["errorMessage"]);
  CAF_CHECK(changed["errorMessage"].get<std::string>().find("host key") != std::string::npos);
  CAF_CHECK(log_text(changed["id"], "has changed").find("has changed") != std::string::npos);
  auto still = api("GET", "/api/projects/" + project + "/known-hosts");
  CAF_CHECK_EQUAL(still.body["knownHosts"][0]["fingerprint"], fingerprint);
  // Forgotten on purpose: the new key is recorded and the deployment works.
  CAF_CHECK_EQUAL(api("DELETE", "/api/projects/" + project + "/known-hosts").status, 204);
  auto again = deploy(project, env);
  CAF_CHECK_EQUAL(again["status"], "success");
  auto renewed = api("GET", "/api/projects/" + project + "/known-hosts");
  CAF_REQUIRE_EQUAL(renewed.body["knownHosts"].size(), 1u);
  CAF_CHECK_NOT_EQUAL(renewed.body["knownHosts"][0]["fingerprint"], fingerprint);
  // A rotated key is not the one the repository knows.
  auto rotated = api("POST", "/api/projects/" + project + "/deploy-key/rotate");
  CAF_REQUIRE_EQUAL(rotated.status, 201);
  auto stale = deploy(project, env);
  CAF_CHECK_EQUAL(stale["status"], "failed");
  CAF_CHECK(stale["errorMessage"].get<std::string>().find("deploy key") != std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()
