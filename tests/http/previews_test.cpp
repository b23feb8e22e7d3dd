// Preview environments end to end: a real `gilgal serve` with its own Caddy
// (--proxy-listen), real Docker, a local repository whose pull request branch
// gets real commits, and pull request deliveries signed here with OpenSSL's
// HMAC as GitHub documents it (GitLab: its token). Opened, synchronized and
// closed through the proxy; the cap; forged signatures; previews off and
// forks; GitLab merge requests; the TTL reaper with a short TTL.
#define CAF_SUITE http.previews
#include <caf/test/unit_test.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <sstream>
#include <thread>
#include <tuple>

#include "nodes/docker_client.hpp"
#include "protocol/ids.hpp"
#include "proxy/caddy_config.hpp"
#include "tests/fixtures/caddy_instance.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"
#include "tests/http/app_server.hpp"

using namespace gilgal;
using namespace gilgal::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Builds and health checks on a loaded machine: more than CAF test's default
// 30 s watchdog. The command line's -r still wins.
const bool previews_watchdog = [] {
  caf::test::engine::max_runtime(240);
  return true;
}();

const char* web_dockerfile = R"(FROM gilgal-test/busybox:latest
COPY www /www
CMD ["/bin/sh", "-c", "trap 'exit 0' TERM; httpd -f -p $PORT -h /www & wait"]
)";

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

/// GitHub's pull_request payload (the fields Gilgal reads and a few more).
json pull_request(const std::string& action, int number, const std::string& sha,
                  const std::string& branch, const std::string& head_repo = "acme/shop") {
  return json{{"action", action},
              {"number", number},
              {"pull_request",
               {{"number", number},
                {"title", "Preview me"},
                {"state", action == "closed" ? "closed" : "open"},
                {"head", {{"ref", branch}, {"sha", sha}, {"repo", {{"full_name", head_repo}}}}},
                {"base", {{"ref", "main"}, {"repo", {{"full_name", "acme/shop"}}}}}}},
              {"repository", {{"full_name", "acme/shop"}}}};
}

/// GitLab's Merge Request Hook payload.
json merge_request(const std::string& action, int iid, const std::string& sha,
                   const std::string& branch) {
  return json{{"object_kind", "merge_request"},
              {"object_attributes",
               {{"iid", iid},
                {"action", action},
                {"source_branch", branch},
                {"target_branch", "main"},
                {"source_project_id", 7},
                {"target_project_id", 7},
                {"last_commit", {{"id", sha}, {"message", "mr commit"}}}}}};
}

struct fixture : app_server {
  git_repo repo;
  std::string main_sha = repo.commit({{"README", "no app here\n"}}, "main");
  int proxy_port = free_port();
  std::string project_id;
  std::string base_env;
  std::string secret;

  fixture() {
    server_options opts;
    opts.allow_local_sources = true;
    opts.extra_args = {"--docker-host", docker_host_or_default(),
                       "--proxy-listen", "127.0.0.1:" + std::to_string(proxy_port),
                       "--drain-timeout", "2", "--preview-reap-interval", "1"};
    start(opts);
    std::tie(project_id, base_env) =
      create_app("shop", repo.path(), json::object(),
                 json{{"environmentVariables", {{"API_KEY", "base-s3cret"}}},
                      {"resources", {{"memoryMb", 128}}}});
    auto hook = api("POST", "/api/projects/" + project_id + "/webhook", json::object());
    CAF_REQUIRE_EQUAL(hook.status, 201);
    secret = hook.body["secret"].get<std::string>();
  }

  api_response enable_previews(json settings) {
    settings["enabled"] = true;
    return api("PATCH", "/api/projects/" + project_id, json{{"previews", settings}});
  }

  api_response post_hook(const std::string& provider, const std::string& body,
                         const httplib::Headers& headers) {
    auto cli = srv->client();
    cli->set_read_timeout(120, 0);
    httplib::Request req;
    req.method = "POST";
    req.path = "/hooks/" + provider + "/" + project_id;
    req.headers = headers;
    req.headers.emplace("Content-Type", "application/json");
    req.body = body;
    api_response out;
    if (auto res = cli->send(req)) {
      out.status = res->status;
      out.raw = res->body;
      out.body = json::parse(res->body, nullptr, false);
      if (out.body.is_discarded())
        out.body = nullptr;
    }
    return out;
  }

  /// A GitHub pull_request delivery signed with `key`.
  api_response github(const json& payload, const std::string& delivery,
                      const std::string& key) {
    auto body = payload.dump();
    return post_hook("github", body,
                     {{"X-GitHub-Event", "pull_request"},
                      {"X-GitHub-Delivery", delivery},
                      {"X-Hub-Signature-256", "sha256=" + openssl_hmac_hex(key, body)}});
  }

  api_response gitlab(const json& payload) {
    return post_hook("gitlab", payload.dump(),
                     {{"X-Gitlab-Event", "Merge Request Hook"},
                      {"X-Gitlab-Token", secret},
                      {"X-Gitlab-Event-UUID", new_uuid()}});
  }

  json previews() {
    auto r = api("GET", "/api/projects/" + project_id + "/previews");
    CAF_REQUIRE_EQUAL(r.status, 200);
    return r.body;
  }

  int64_t environment_count() {
    auto r = api("GET", "/api/projects/" + project_id + "/environments");
    CAF_REQUIRE_EQUAL(r.status, 200);
    return r.body["total"].get<int64_t>();
  }

  int64_t deployment_count() {
    auto r = api("GET", "/api/projects/" + project_id + "/deployments");
    CAF_REQUIRE_EQUAL(r.status, 200);
    return r.body["total"].get<int64_t>();
  }

  /// Commits a page on the pull request's branch; returns the commit.
  std::string commit_page(const std::string& text) {
    repo.switch_branch("feature/cart");
    return repo.commit({{"Dockerfile", web_dockerfile}, {"www/index.html", text}}, text);
  }

  size_t containers_of(const std::string& env_id) {
    auto list = docker.list_containers({"gilgal.environment=" + env_id}, true);
    CAF_REQUIRE(list);
    return list->size();
  }

  http_answer visit(const std::string& host) { return get_with_host(proxy_port, host); }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(previews_tests, fixture)

CAF_TEST(a pull request opened then synchronized then closed comes and goes at its host) {
  auto set = enable_previews({{"baseEnvironmentId", base_env}, {"domain", "preview.test"},
                              {"ttlHours", 72}, {"maxPreviews", 3}});
  CAF_REQUIRE_EQUAL(set.status, 200);
  CAF_CHECK_EQUAL(set.body["previews"]["enabled"], true);
  CAF_CHECK_EQUAL(set.body["previews"]["baseEnvironmentId"], base_env);
  const std::string host = "pr-7.preview.test";
  // Opened: pr-7 is created from production and deploys the head commit.
  auto first = commit_page("first");
  auto opened_delivery = new_uuid();
  auto opened = github(pull_request("opened", 7, first, "feature/cart"), opened_delivery, secret);
  CAF_REQUIRE_EQUAL(opened.status, 200);
  CAF_CHECK_EQUAL(opened.body["created"], true);
  auto env = opened.body["environment"];
  auto env_id = env["id"].get<std::string>();
  CAF_CHECK_EQUAL(env["name"], "pr-7");
  CAF_CHECK_EQUAL(env["type"], "development");
  CAF_CHECK_EQUAL(env["domain"], host);
  CAF_CHECK_EQUAL(env["preview"]["pullRequest"], 7);
  CAF_CHECK_EQUAL(env["preview"]["provider"], "github");
  CAF_CHECK_EQUAL(env["preview"]["branch"], "feature/cart");
  CAF_CHECK_EQUAL(env["environmentVariables"]["API_KEY"], "********");
  CAF_CHECK(opened.raw.find("base-s3cret") == std::string::npos);
  CAF_REQUIRE_EQUAL(opened.body["deployments"].size(), 1u);
  auto d1 = opened.body["deployments"][0];
  CAF_CHECK_EQUAL(d1["environmentId"], env_id);
  CAF_CHECK_EQUAL(d1["commitSha"], first);
  CAF_CHECK_EQUAL(d1["trigger"]["kind"], "webhook");
  CAF_CHECK_EQUAL(d1["trigger"]["deliveryId"], opened_delivery);
  // GitHub's "Redeliver": nothing more.
  auto again = github(pull_request("opened", 7, first, "feature/cart"), opened_delivery, secret);
  CAF_CHECK_EQUAL(again.status, 200);
  CAF_CHECK_EQUAL(again.body["duplicate"], true);
  CAF_CHECK(again.body["deployments"].empty());
  CAF_CHECK_EQUAL(deployment_count(), 1);
  // Variables, resources and health check came from the base (sealed copy,
  // readable with the same key).
  auto shown = api("GET", "/api/environments/" + env_id);
  CAF_REQUIRE_EQUAL(shown.status, 200);
  CAF_CHECK_EQUAL(shown.body["environmentVariables"]["API_KEY"], "base-s3cret");
  CAF_CHECK_EQUAL(shown.body["resources"]["memoryMb"], 128);
  CAF_CHECK_EQUAL(shown.body["healthCheck"]["timeoutSeconds"], 30);
  CAF_CHECK_EQUAL(shown.body["autoDeploy"], false);
  auto end1 = await_end(d1["id"].get<std::string>());
  CAF_REQUIRE_EQUAL(end1["status"], "success");
  CAF_CHECK_EQUAL(end1["commitMessage"], "first");
  CAF_CHECK(eventually([&] { return visit(host).body == "first"; }, 10s));
  // The list and the console show it.
  auto list = previews();
  CAF_REQUIRE_EQUAL(list["items"].size(), 1u);
  auto item = list["items"][0];
  CAF_CHECK_EQUAL(item["id"], env_id);
  CAF_CHECK_EQUAL(item["preview"]["pullRequest"], 7);
  CAF_CHECK_EQUAL(item["latestDeployment"]["commitSha"], first);
  CAF_CHECK_EQUAL(item["latestDeployment"]["status"], "success");
  CAF_CHECK_EQUAL(item["url"], "http://" + host + ":" + std::to_string(proxy_port));
  CAF_CHECK(item["preview"]["expiresAt"].get<std::string>()
            > item["preview"]["lastActivityAt"].get<std::string>());
  auto console = srv->run({"previews", "shop"}, {{{"COLUMNS", "80"}}});
  CAF_REQUIRE_EQUAL(console.exit_code, 0);
  std::istringstream rows{console.out};
  std::string header, row;
  std::getline(rows, header);
  std::getline(rows, row);
  CAF_CHECK_EQUAL(header.rfind("PR", 0), 0u);
  CAF_CHECK_EQUAL(row.rfind("#7", 0), 0u);
  CAF_CHECK(row.find("success") != std::string::npos);
  CAF_CHECK(header.size() <= 80 && row.size() <= 80);
  // Synchronized: a new commit on the branch replaces the first.
  auto second = commit_page("second");
  auto synced = github(pull_request("synchronize", 7, second, "feature/cart"), new_uuid(),
                       secret);
  CAF_REQUIRE_EQUAL(synced.status, 200);
  CAF_CHECK_EQUAL(synced.body["created"], false);
  CAF_CHECK_EQUAL(synced.body["environment"]["id"], env_id);
  CAF_REQUIRE_EQUAL(synced.body["deployments"].size(), 1u);
  auto end2 = await_end(synced.body["deployments"][0]["id"].get<std::string>());
  CAF_REQUIRE_EQUAL(end2["status"], "success");
  CAF_CHECK_EQUAL(end2["commitSha"], second);
  CAF_CHECK(eventually([&] { return visit(host).body == "second"; }, 10s));
  // Another delivery of the same commit (GitLab's "update" of a title, ...): nothing.
  auto same = github(pull_request("synchronize", 7, second, "feature/cart"), new_uuid(), secret);
  CAF_CHECK_EQUAL(same.status, 200);
  CAF_CHECK(same.body["deployments"].empty());
  CAF_CHECK_EQUAL(deployment_count(), 2);
  // Closed: no environment, no container, no route (Gilgal's 404 page).
  auto closed = github(pull_request("closed", 7, second, "feature/cart"), new_uuid(), secret);
  CAF_REQUIRE_EQUAL(closed.status, 200);
  CAF_CHECK_EQUAL(closed.body["removed"]["environmentId"], env_id);
  CAF_CHECK_EQUAL(api("GET", "/api/environments/" + env_id).status, 404);
  CAF_CHECK(eventually([&] { return visit(host).status == 404; }, 10s));
  CAF_CHECK_EQUAL(visit(host).body, proxy::not_found_page());
  CAF_CHECK_EQUAL(containers_of(env_id), 0u); // gone before the hook answered
  CAF_CHECK(previews()["items"].empty());
  // The base environment is untouched.
  CAF_CHECK_EQUAL(api("GET", "/api/environments/" + base_env).status, 200);
}

CAF_TEST(the cap forged signatures forks and disabled previews create nothing) {
  // Commits without an app: their deployments fail fast, no build runs.
  auto head = main_sha;
  auto opened = [&](int n, const std::string& delivery) {
    return github(pull_request("opened", n, head, "feature/cart"), delivery, secret);
  };
  // Off by default: accepted, nothing made.
  auto off = opened(1, new_uuid());
  CAF_CHECK_EQUAL(off.status, 200);
  CAF_CHECK(off.body["deployments"].empty());
  CAF_CHECK_EQUAL(environment_count(), 1);
  // Settings are validated.
  auto other = make_project(*srv->client(), srv->token(), "other");
  auto other_env = make_environment(*srv->client(), srv->token(), other, "production");
  for (auto [bad, field] :
       {std::make_pair(json{{"domain", "*.preview.test"}}, "previews.domain"),
        std::make_pair(json{{"domain", "10.0.0.1"}}, "previews.domain"),
        std::make_pair(json{{"ttlHours", 0}}, "previews.ttlHours"),
        std::make_pair(json{{"ttlHours", 9000}}, "previews.ttlHours"),
        std::make_pair(json{{"ttlHours", "72"}}, "previews.ttlHours"),
        std::make_pair(json{{"maxPreviews", 0}}, "previews.maxPreviews"),
        std::make_pair(json{{"maxPreviews", 101}}, "previews.maxPreviews"),
        std::make_pair(json{{"maxPreviews", 2.5}}, "previews.maxPreviews"),
        std::make_pair(json{{"baseEnvironmentId", other_env}}, "previews.baseEnvironmentId"),
        std::make_pair(json{{"baseEnvironmentId", "nope"}}, "previews.baseEnvironmentId"),
        std::make_pair(json{{"enabled", "yes"}}, "previews.enabled"),
        std::make_pair(json{{"ttl", 1}}, "previews.ttl")}) {
    auto r = api("PATCH", "/api/projects/" + project_id, json{{"previews", bad}});
    CAF_CHECK_EQUAL(r.status, 400);
    if (!r.names_field(field))
      CAF_FAIL("expected an error naming " << field << ", got " << r.describe());
  }
  auto set = enable_previews({{"maxPreviews", 1}});
  CAF_REQUIRE_EQUAL(set.status, 200);
  CAF_CHECK_EQUAL(set.body["previews"]["maxPreviews"], 1);
  CAF_CHECK_EQUAL(set.body["previews"]["ttlHours"], 72);
  CAF_CHECK(set.body["previews"]["domain"].is_null());
  // Forged or missing signatures: 401, nothing made.
  auto body = pull_request("opened", 1, head, "feature/cart").dump();
  CAF_CHECK_EQUAL(github(pull_request("opened", 1, head, "feature/cart"), new_uuid(),
                         "not-the-secret")
                    .status,
                  401);
  CAF_CHECK_EQUAL(post_hook("github", body, {{"X-GitHub-Event", "pull_request"}}).status, 401);
  CAF_CHECK_EQUAL(post_hook("gitlab", merge_request("open", 1, head, "x").dump(),
                            {{"X-Gitlab-Event", "Merge Request Hook"},
                             {"X-Gitlab-Token", secret + "x"}})
                    .status,
                  401);
  // A fork's pull request: no preview (its code would get the base's variables).
  auto fork = github(pull_request("opened", 1, head, "feature/cart", "mallory/shop"), new_uuid(),
                     secret);
  CAF_CHECK_EQUAL(fork.status, 200);
  CAF_CHECK(fork.body["deployments"].empty());
  CAF_CHECK_EQUAL(environment_count(), 1);
  CAF_CHECK_EQUAL(deployment_count(), 0);
  // The first preview is made (no base: no variables); the second is past the cap.
  auto first = opened(1, new_uuid());
  CAF_REQUIRE_EQUAL(first.status, 200);
  CAF_CHECK_EQUAL(first.body["environment"]["name"], "pr-1");
  CAF_CHECK(first.body["environment"]["environmentVariables"].empty());
  // Without a previews domain: the generated host under the apps domain.
  CAF_CHECK_EQUAL(first.body["environment"]["url"],
                  "http://pr-1-shop.localhost:" + std::to_string(proxy_port));
  auto refused_delivery = new_uuid();
  auto refused = opened(2, refused_delivery);
  CAF_CHECK_EQUAL(refused.status, 409);
  CAF_CHECK_EQUAL(refused.error_code(), "conflict");
  CAF_CHECK(refused.error_message().find("previews.maxPreviews is 1") != std::string::npos);
  CAF_CHECK_EQUAL(environment_count(), 2);
  CAF_CHECK_EQUAL(deployment_count(), 1);
  // A user's own environment named like a preview is never taken over.
  auto squatter = api("POST", "/api/projects/" + project_id + "/environments",
                      json{{"name", "pr-3"}, {"type", "staging"}});
  CAF_REQUIRE_EQUAL(squatter.status, 201);
  auto taken = github(pull_request("opened", 3, head, "x"), new_uuid(), secret);
  CAF_CHECK_EQUAL(taken.status, 409);
  CAF_CHECK(taken.error_message().find("is not this pull request's preview") != std::string::npos);
  // GitLab closes the first (merged); the refused delivery, redelivered, now works.
  auto merged = gitlab(merge_request("merge", 1, head, "feature/cart"));
  CAF_REQUIRE_EQUAL(merged.status, 200);
  CAF_CHECK_EQUAL(merged.body["removed"]["name"], "pr-1");
  auto redelivered = opened(2, refused_delivery);
  CAF_REQUIRE_EQUAL(redelivered.status, 200);
  CAF_CHECK_EQUAL(redelivered.body["environment"]["name"], "pr-2");
  // GitLab merge requests make previews the same way.
  CAF_CHECK_EQUAL(gitlab(merge_request("open", 5, head, "feature/cart")).status, 409); // cap
  CAF_CHECK_EQUAL(github(pull_request("closed", 2, head, "x"), new_uuid(), secret).status, 200);
  auto mr = gitlab(merge_request("open", 5, head, "feature/cart"));
  CAF_REQUIRE_EQUAL(mr.status, 200);
  CAF_CHECK_EQUAL(mr.body["environment"]["name"], "pr-5");
  CAF_CHECK_EQUAL(mr.body["environment"]["preview"]["provider"], "gitlab");
  CAF_CHECK_EQUAL(mr.body["deployments"][0]["trigger"]["provider"], "gitlab");
  auto list = previews();
  CAF_REQUIRE_EQUAL(list["total"], 1);
  CAF_CHECK_EQUAL(list["items"][0]["preview"]["pullRequest"], 5);
  auto console_json = srv->run({"previews", project_id, "--json"});
  CAF_REQUIRE_EQUAL(console_json.exit_code, 0);
  auto printed = json::parse(console_json.out, nullptr, false);
  if (!printed.is_object() || printed.value("items", json::array()).size() != 1)
    CAF_FAIL("gilgal previews --json printed " << console_json.out);
  CAF_CHECK_EQUAL(printed["items"][0]["id"], list["items"][0]["id"]);
  CAF_CHECK_EQUAL(list["previews"]["maxPreviews"], 1);
  auto mr_closed = gitlab(merge_request("close", 5, head, "feature/cart"));
  CAF_CHECK_EQUAL(mr_closed.status, 200);
  CAF_CHECK(previews()["items"].empty());
  // A close of a pull request without a preview is fine.
  auto nothing = github(pull_request("closed", 9, head, "x"), new_uuid(), secret);
  CAF_CHECK_EQUAL(nothing.status, 200);
  CAF_CHECK(nothing.body["removed"].is_null());
}

CAF_TEST(previews idle past their ttl are reaped) {
  // 0.004 h = 14.4 s without a deployment or a change.
  auto set = enable_previews({{"baseEnvironmentId", base_env}, {"domain", "preview.test"},
                              {"ttlHours", 0.004}});
  CAF_REQUIRE_EQUAL(set.status, 200);
  const std::string host = "pr-4.preview.test";
  auto sha = commit_page("short-lived");
  auto opened = github(pull_request("opened", 4, sha, "feature/cart"), new_uuid(), secret);
  CAF_REQUIRE_EQUAL(opened.status, 200);
  auto env_id = opened.body["environment"]["id"].get<std::string>();
  auto end = await_end(opened.body["deployments"][0]["id"].get<std::string>());
  CAF_REQUIRE_EQUAL(end["status"], "success");
  // Served while fresh (however long the build took: idle counts from its end).
  CAF_CHECK(eventually([&] { return visit(host).body == "short-lived"; }, 5s));
  CAF_CHECK_EQUAL(api("GET", "/api/environments/" + env_id).status, 200);
  CAF_CHECK_EQUAL(containers_of(env_id), 1u);
  // Then reaped: no environment, no route, no container.
  CAF_CHECK(eventually([&] { return api("GET", "/api/environments/" + env_id).status == 404; },
                       40s));
  CAF_CHECK(eventually([&] { return visit(host).status == 404; }, 10s));
  CAF_CHECK(srv->wait_for_log("preview reaper: removed preview pr-4", 5s));
  CAF_CHECK_EQUAL(containers_of(env_id), 0u); // gone before the store forgot it
  // The base environment is no preview: never reaped.
  CAF_CHECK_EQUAL(api("GET", "/api/environments/" + base_env).status, 200);
}

CAF_TEST_FIXTURE_SCOPE_END()
