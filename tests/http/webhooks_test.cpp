// Incoming webhooks through a real `gilgal serve`: signatures computed here
// with OpenSSL's HMAC as GitHub, GitLab and Gitea document them (never with
// the server's helper), forged and missing signatures, replays, deleted
// branches and tag pushes (nothing created), and a real commit of a local
// repository deployed by the push event that names it.
#define CAF_SUITE http.webhooks
#include <caf/test/unit_test.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "nodes/docker_client.hpp"
#include "protocol/ids.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/test_images.hpp"
#include "tests/http/api_support.hpp"

using namespace gilgal;
using namespace gilgal::test;
using nlohmann::json;

namespace {

// A real build and a health check on a loaded machine: more than CAF test's
// default 30 s watchdog. The command line's -r still wins.
const bool webhooks_watchdog = [] {
  caf::test::engine::max_runtime(180);
  return true;
}();

/// Lower-case hex HMAC-SHA256 with OpenSSL (independent of the server's libsodium).
std::string openssl_hmac_hex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += digits[mac[i] >> 4];
    out += digits[mac[i] & 0xf];
  }
  return out;
}

/// A GitHub-style push payload.
json push_payload(const std::string& ref, const std::string& before, const std::string& after,
                  const std::string& message) {
  json head = message.empty() ? json(nullptr)
                              : json{{"id", after}, {"message", message}, {"distinct", true}};
  return json{{"ref", ref},
              {"before", before},
              {"after", after},
              {"created", false},
              {"deleted", after == std::string(40, '0')},
              {"repository", {{"full_name", "example/app"}}},
              {"commits", message.empty() ? json::array() : json::array({head})},
              {"head_commit", head}};
}

api_response post_raw(httplib::Client& cli, const std::string& path, const std::string& body,
                      const httplib::Headers& headers) {
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.headers = headers;
  req.headers.emplace("Content-Type", "application/json");
  req.body = body;
  api_response out;
  if (auto res = cli.send(req)) {
    out.status = res->status;
    out.raw = res->body;
    out.headers = res->headers;
    out.body = json::parse(res->body, nullptr, false);
    if (out.body.is_discarded())
      out.body = nullptr;
  }
  return out;
}

server_options options() {
  server_options o;
  o.allow_local_sources = true;
  o.extra_args = {"--docker-host", docker_host_or_default()};
  return o;
}

struct fixture {
  git_repo repo;
  std::string first_sha = repo.commit({{"README", "hello\n"}}, "first");
  gilgal_server srv{options()};
  std::unique_ptr<httplib::Client> cli = srv.client();
  std::string alice = srv.token();
  std::string project_id;
  std::string secret;

  fixture() {
    auto p = call(*cli, "POST", "/api/projects", alice,
                  json{{"name", "app"}, {"repositoryUrl", repo.path()}, {"branch", "main"}});
    CAF_REQUIRE_EQUAL(p.status, 201);
    project_id = p.body["id"];
    auto hook = call(*cli, "POST", "/api/projects/" + project_id + "/webhook", alice,
                     std::optional<std::string>{});
    CAF_REQUIRE_EQUAL(hook.status, 201);
    secret = hook.body["secret"];
  }

  std::string hook_path(const std::string& provider) const {
    return "/hooks/" + provider + "/" + project_id;
  }

  /// POSTs a GitHub delivery signed with `key` (empty: no signature header).
  api_response github(const std::string& event, const std::string& body,
                      const std::string& delivery, const std::string& key) {
    httplib::Headers h{{"X-GitHub-Event", event}, {"X-GitHub-Delivery", delivery}};
    if (!key.empty())
      h.emplace("X-Hub-Signature-256", "sha256=" + openssl_hmac_hex(key, body));
    return post_raw(*cli, hook_path("github"), body, h);
  }

  int64_t deployment_count() {
    auto list = call(*cli, "GET", "/api/projects/" + project_id + "/deployments", alice);
    CAF_REQUIRE_EQUAL(list.status, 200);
    return list.body["total"].get<int64_t>();
  }

  std::string make_env(const json& body) {
    auto r = call(*cli, "POST", "/api/projects/" + project_id + "/environments", alice, body);
    CAF_REQUIRE_EQUAL(r.status, 201);
    return r.body["id"];
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(webhooks, fixture)

CAF_TEST(the webhook secret is shown once and rotates and belongs to its owner) {
  auto path = "/api/projects/" + project_id + "/webhook";
  auto shown = call(*cli, "GET", path, alice);
  CAF_CHECK_EQUAL(shown.status, 200);
  CAF_CHECK_EQUAL(shown.body["configured"], true);
  CAF_CHECK(!shown.body.contains("secret"));
  CAF_CHECK_EQUAL(shown.body["url"], srv.base_url() + "/hooks/github/" + project_id);
  CAF_CHECK_EQUAL(secret.size(), 64u);
  // The secret is sealed at rest: not in the database files as it is.
  for (auto file : {"/gilgal.db", "/gilgal.db-wal"}) {
    std::ifstream in{srv.data_dir() + file, std::ios::binary};
    std::string bytes{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
    CAF_CHECK(bytes.find(secret) == std::string::npos);
  }
  auto rotated = call(*cli, "POST", path, alice, std::optional<std::string>{});
  CAF_REQUIRE_EQUAL(rotated.status, 201);
  auto fresh = rotated.body["secret"].get<std::string>();
  CAF_CHECK_NOT_EQUAL(fresh, secret);
  auto ping = json{{"zen", "Keep it logically awesome."}, {"hook_id", 1}}.dump();
  CAF_CHECK_EQUAL(github("ping", ping, new_uuid(), secret).status, 401);
  CAF_CHECK_EQUAL(github("ping", ping, new_uuid(), fresh).status, 200);
  // Another user cannot see nor rotate it.
  auto bob = srv.create_user("bob");
  CAF_CHECK_EQUAL(call(*cli, "POST", path, bob, std::optional<std::string>{}).status, 404);
  CAF_CHECK_EQUAL(call(*cli, "GET", path, bob).status, 404);
  CAF_CHECK_EQUAL(github("ping", ping, new_uuid(), fresh).status, 200);
  CAF_CHECK(srv.log().find(fresh) == std::string::npos);
}

CAF_TEST(environments take autoDeploy and a branch validated like the project branch) {
  auto base = json{{"name", "production"}, {"type", "production"}};
  auto bad_branch = base;
  bad_branch["branch"] = "bad..name";
  auto r = call(*cli, "POST", "/api/projects/" + project_id + "/environments", alice, bad_branch);
  CAF_CHECK_EQUAL(r.status, 400);
  CAF_CHECK(r.names_field("branch"));
  auto bad_flag = base;
  bad_flag["autoDeploy"] = "yes";
  r = call(*cli, "POST", "/api/projects/" + project_id + "/environments", alice, bad_flag);
  CAF_CHECK_EQUAL(r.status, 400);
  CAF_CHECK(r.names_field("autoDeploy"));
  auto good = base;
  good["autoDeploy"] = true;
  good["branch"] = "release/2";
  r = call(*cli, "POST", "/api/projects/" + project_id + "/environments", alice, good);
  CAF_REQUIRE_EQUAL(r.status, 201);
  CAF_CHECK_EQUAL(r.body["autoDeploy"], true);
  CAF_CHECK_EQUAL(r.body["branch"], "release/2");
  auto id = r.body["id"].get<std::string>();
  r = call(*cli, "PATCH", "/api/environments/" + id, alice,
           json{{"branch", nullptr}, {"autoDeploy", false}});
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_CHECK_EQUAL(r.body["autoDeploy"], false);
  CAF_CHECK(r.body["branch"].is_null());
}

CAF_TEST(forged or missing or misplaced signatures create nothing) {
  make_env({{"name", "production"}, {"type", "production"}, {"autoDeploy", true}});
  auto marker = "body-marker-" + new_uuid();
  auto body = push_payload("refs/heads/main", std::string(40, '0'), first_sha, marker).dump();
  CAF_CHECK_EQUAL(github("push", body, new_uuid(), "").status, 401);
  CAF_CHECK_EQUAL(github("push", body, new_uuid(), "not-the-secret").status, 401);
  // A valid signature of another body.
  httplib::Headers h{{"X-GitHub-Event", "push"}, {"X-GitHub-Delivery", new_uuid()},
                     {"X-Hub-Signature-256", "sha256=" + openssl_hmac_hex(secret, body + " ")}};
  CAF_CHECK_EQUAL(post_raw(*cli, hook_path("github"), body, h).status, 401);
  // The HMAC without GitHub's "sha256=" prefix, and upper-case hex.
  auto mac = openssl_hmac_hex(secret, body);
  h = {{"X-GitHub-Event", "push"}, {"X-Hub-Signature-256", mac}};
  CAF_CHECK_EQUAL(post_raw(*cli, hook_path("github"), body, h).status, 401);
  // GitLab's token and Gitea's signature are checked as well.
  h = {{"X-Gitlab-Event", "Push Hook"}, {"X-Gitlab-Token", secret + "x"}};
  CAF_CHECK_EQUAL(post_raw(*cli, hook_path("gitlab"), body, h).status, 401);
  h = {{"X-Gitlab-Event", "Push Hook"}};
  CAF_CHECK_EQUAL(post_raw(*cli, hook_path("gitlab"), body, h).status, 401);
  h = {{"X-Gitea-Event", "push"}, {"X-Gitea-Signature", openssl_hmac_hex("wrong", body)}};
  CAF_CHECK_EQUAL(post_raw(*cli, hook_path("gitea"), body, h).status, 401);
  h = {{"X-Gitea-Event", "push"}, {"X-Gitea-Signature", "sha256=" + mac}};
  CAF_CHECK_EQUAL(post_raw(*cli, hook_path("gitea"), body, h).status, 401);
  // Unknown projects, ids that are not ids, and projects without a webhook: 404.
  auto other = make_project(*cli, alice, "no-hook");
  for (auto& path : {"/hooks/github/" + new_uuid(), std::string{"/hooks/github/../etc"},
                     "/hooks/github/" + other, "/hooks/bitbucket/" + project_id}) {
    h = {{"X-GitHub-Event", "push"},
         {"X-Hub-Signature-256", "sha256=" + openssl_hmac_hex(secret, body)}};
    auto r = post_raw(*cli, path, body, h);
    CAF_CHECK_EQUAL(r.status, 404);
  }
  // Over 1 MiB: 413, whatever the signature.
  auto big = std::string(1024 * 1024 + 1, ' ');
  CAF_CHECK_EQUAL(github("push", big, new_uuid(), secret).status, 413);
  CAF_CHECK_EQUAL(deployment_count(), 0);
  // The bodies were not logged.
  CAF_CHECK(srv.log().find(marker) == std::string::npos);
  CAF_CHECK(srv.log().find("signature missing or wrong") != std::string::npos);
}

CAF_TEST(pings and other events and tag pushes and deleted branches deploy nothing) {
  make_env({{"name", "production"}, {"type", "production"}, {"autoDeploy", true}});
  auto ping = github("ping", json{{"zen", "Design for failure."}}.dump(), new_uuid(), secret);
  CAF_CHECK_EQUAL(ping.status, 200);
  CAF_CHECK_EQUAL(ping.body["event"], "ping");
  auto issues = github("issues", json{{"action", "opened"}}.dump(), new_uuid(), secret);
  CAF_CHECK_EQUAL(issues.status, 200);
  CAF_CHECK(issues.body["deployments"].empty());
  auto tag = github("push", push_payload("refs/tags/v1", std::string(40, '0'), first_sha, "tag")
                              .dump(),
                    new_uuid(), secret);
  CAF_CHECK_EQUAL(tag.status, 200);
  CAF_CHECK(tag.body["deployments"].empty());
  auto deleted = github("push", push_payload("refs/heads/main", first_sha, std::string(40, '0'),
                                             "")
                                  .dump(),
                        new_uuid(), secret);
  CAF_CHECK_EQUAL(deleted.status, 200);
  CAF_CHECK(deleted.body["deployments"].empty());
  // GitLab's tag pushes and branch deletions (its own event name, no "deleted").
  auto gl_tag = json{{"object_kind", "tag_push"}, {"ref", "refs/tags/v1"},
                     {"before", std::string(40, '0')}, {"after", first_sha}};
  httplib::Headers h{{"X-Gitlab-Event", "Tag Push Hook"}, {"X-Gitlab-Token", secret},
                     {"X-Gitlab-Event-UUID", new_uuid()}};
  auto r = post_raw(*cli, hook_path("gitlab"), gl_tag.dump(), h);
  CAF_CHECK_EQUAL(r.status, 200);
  auto gl_delete = json{{"object_kind", "push"}, {"ref", "refs/heads/main"},
                        {"before", first_sha}, {"after", std::string(40, '0')},
                        {"checkout_sha", nullptr}, {"commits", json::array()}};
  h = {{"X-Gitlab-Event", "Push Hook"}, {"X-Gitlab-Token", secret},
       {"X-Gitlab-Event-UUID", new_uuid()}};
  r = post_raw(*cli, hook_path("gitlab"), gl_delete.dump(), h);
  CAF_CHECK_EQUAL(r.status, 200);
  CAF_CHECK(r.body["deployments"].empty());
  // A push that is not one.
  r = github("push", json{{"ref", "refs/heads/main"}, {"after", "$(reboot)"}}.dump(), new_uuid(),
             secret);
  CAF_CHECK_EQUAL(r.status, 400);
  CAF_CHECK(r.names_field("after"));
  CAF_CHECK_EQUAL(deployment_count(), 0);
}

CAF_TEST(a pushed commit deploys exactly that commit once and redeliveries do nothing) {
  docker_client docker{docker_host_or_default()};
  CAF_REQUIRE(ensure_busybox_image(docker));
  auto site = [](const std::string& text) {
    return std::map<std::string, std::string>{
      {"Dockerfile", "FROM gilgal-test/busybox:latest\nCOPY www /www\n"
                     "CMD [\"/bin/sh\", \"-c\", \"exec httpd -f -p $PORT -h /www\"]\n"},
      {"www/index.html", text}};
  };
  auto pushed = repo.commit(site("version two\n"), "Version two\n\nWith a body.");
  // A later commit on the same branch: the push event names the one before it.
  repo.commit(site("version three\n"), "Version three");
  auto production = make_env({{"name", "production"}, {"type", "production"},
                              {"autoDeploy", true}});
  make_env({{"name", "manual"}, {"type", "staging"}});        // no autoDeploy
  make_env({{"name", "develop"}, {"type", "development"}, {"autoDeploy", true},
            {"branch", "develop"}});                            // another branch
  auto body = push_payload("refs/heads/main", first_sha, pushed, "Version two\n\nWith a body.")
                .dump();
  auto delivery = new_uuid();
  auto first = github("push", body, delivery, secret);
  CAF_REQUIRE_EQUAL(first.status, 200);
  CAF_REQUIRE_EQUAL(first.body["deployments"].size(), 1u);
  auto d = first.body["deployments"][0];
  CAF_CHECK_EQUAL(d["environmentId"], production);
  CAF_CHECK_EQUAL(d["commitSha"], pushed);
  CAF_CHECK_EQUAL(d["commitMessage"], "Version two");
  CAF_CHECK_EQUAL(d["trigger"]["kind"], "webhook");
  CAF_CHECK_EQUAL(d["trigger"]["provider"], "github");
  CAF_CHECK_EQUAL(d["trigger"]["deliveryId"], delivery);
  // GitHub's "Redeliver": same id, same body, same signature.
  auto again = github("push", body, delivery, secret);
  CAF_CHECK_EQUAL(again.status, 200);
  CAF_CHECK_EQUAL(again.body["duplicate"], true);
  CAF_CHECK(again.body["deployments"].empty());
  CAF_CHECK_EQUAL(deployment_count(), 1);
  // It builds and runs exactly the pushed commit.
  auto id = d["id"].get<std::string>();
  json end;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  for (;;) {
    auto r = call(*cli, "GET", "/api/deployments/" + id, alice);
    CAF_REQUIRE_EQUAL(r.status, 200);
    auto st = r.body["status"].get<std::string>();
    if (st != "pending" && st != "building") {
      end = r.body;
      break;
    }
    CAF_REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CAF_REQUIRE_EQUAL(end["status"], "success");
  CAF_CHECK_EQUAL(end["commitSha"], pushed);
  CAF_CHECK_EQUAL(end["trigger"]["deliveryId"], delivery);
  httplib::Client app{"127.0.0.1", end["port"].get<int>()};
  app.set_connection_timeout(2, 0);
  auto page = app.Get("/index.html");
  CAF_REQUIRE(page);
  CAF_CHECK_EQUAL(page->body, "version two\n");
  // The same push from Gitea (its own delivery id, hex signature, no prefix)
  // is another delivery; a deleted branch afterwards deploys nothing.
  httplib::Headers h{{"X-Gitea-Event", "push"}, {"X-Gitea-Delivery", new_uuid()},
                     {"X-Gitea-Signature", openssl_hmac_hex(secret, body)}};
  auto gitea = post_raw(*cli, hook_path("gitea"), body, h);
  CAF_CHECK_EQUAL(gitea.status, 200);
  CAF_CHECK_EQUAL(gitea.body["deployments"].size(), 1u);
  auto gone = github("push", push_payload("refs/heads/main", pushed, std::string(40, '0'), "")
                               .dump(),
                     new_uuid(), secret);
  CAF_CHECK_EQUAL(gone.status, 200);
  CAF_CHECK_EQUAL(deployment_count(), 2);
  // Let the second one end, then remove the apps before the server stops.
  auto second = gitea.body["deployments"][0]["id"].get<std::string>();
  for (;;) {
    auto r = call(*cli, "GET", "/api/deployments/" + second, alice);
    auto st = r.body["status"].get<std::string>();
    if (st != "pending" && st != "building")
      break;
    CAF_REQUIRE(std::chrono::steady_clock::now() < deadline + std::chrono::minutes(2));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (auto list = docker.list_containers({"gilgal.project=" + project_id}, true))
    for (auto& c : *list)
      docker.remove_container(c.id, true, true);
}

CAF_TEST(gitlab push hooks deploy with the token and their idempotency key) {
  make_env({{"name", "staging"}, {"type", "staging"}, {"autoDeploy", true},
            {"branch", "never-pushed"}});
  // A GitLab push to a branch no environment deploys: accepted, nothing created.
  auto body = json{{"object_kind", "push"}, {"ref", "refs/heads/main"},
                   {"before", std::string(40, '0')}, {"after", first_sha},
                   {"checkout_sha", first_sha},
                   {"commits", {{{"id", first_sha}, {"message", "first\n"}}}}}
                .dump();
  auto key = new_uuid();
  httplib::Headers h{{"X-Gitlab-Event", "Push Hook"}, {"X-Gitlab-Token", secret},
                     {"Idempotency-Key", key}, {"X-Gitlab-Event-UUID", new_uuid()}};
  auto r = post_raw(*cli, hook_path("gitlab"), body, h);
  CAF_CHECK_EQUAL(r.status, 200);
  CAF_CHECK_EQUAL(r.body["deliveryId"], key);
  CAF_CHECK(r.body["deployments"].empty());
  CAF_CHECK_EQUAL(deployment_count(), 0);
  // The same Idempotency-Key again (a GitLab retry): a duplicate.
  h = {{"X-Gitlab-Event", "Push Hook"}, {"X-Gitlab-Token", secret}, {"Idempotency-Key", key},
       {"X-Gitlab-Event-UUID", new_uuid()}};
  r = post_raw(*cli, hook_path("gitlab"), body, h);
  CAF_CHECK_EQUAL(r.status, 200);
  CAF_CHECK_EQUAL(r.body["duplicate"], true);
}

CAF_TEST_FIXTURE_SCOPE_END()
