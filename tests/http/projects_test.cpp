#define CAF_SUITE http.projects
#include <caf/test/unit_test.hpp>

#include "tests/http/api_support.hpp"

using namespace gilgal;
using namespace gilgal::test;
using nlohmann::json;

namespace {

struct fixture {
  gilgal_server srv;
  std::unique_ptr<httplib::Client> cli = srv.client();
  std::string tok = srv.token();
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(projects, fixture)

CAF_TEST(create get patch delete) {
  auto created = call(*cli, "POST", "/api/projects", tok,
                      json{{"name", "My App"},
                           {"repositoryUrl", "git@github.com:org/my-app.git"}});
  CAF_REQUIRE_EQUAL(created.status, 201);
  auto id = created.body["id"].get<std::string>();
  CAF_CHECK_EQUAL(created.header("Location"), "/api/projects/" + id);
  CAF_CHECK_EQUAL(created.body["name"], "My App");
  CAF_CHECK_EQUAL(created.body["repositoryUrl"], "git@github.com:org/my-app.git");
  CAF_CHECK_EQUAL(created.body["branch"], "main");
  CAF_CHECK_EQUAL(created.body["framework"], "auto");
  CAF_CHECK(created.body["createdAt"].is_string());
  CAF_CHECK(created.body["updatedAt"].is_string());
  auto got = call(*cli, "GET", "/api/projects/" + id, tok);
  CAF_CHECK_EQUAL(got.status, 200);
  CAF_CHECK_EQUAL(got.body, created.body);
  auto patched = call(*cli, "PATCH", "/api/projects/" + id, tok,
                      json{{"branch", "release/1.2"}, {"framework", "nextjs"}});
  CAF_CHECK_EQUAL(patched.status, 200);
  CAF_CHECK_EQUAL(patched.body["branch"], "release/1.2");
  CAF_CHECK_EQUAL(patched.body["framework"], "nextjs");
  CAF_CHECK_EQUAL(patched.body["name"], "My App");
  CAF_CHECK_EQUAL(patched.body["repositoryUrl"], "git@github.com:org/my-app.git");
  auto reread = call(*cli, "GET", "/api/projects/" + id, tok);
  CAF_CHECK_EQUAL(reread.body["branch"], "release/1.2");
  // An empty PATCH changes nothing.
  auto same = call(*cli, "PATCH", "/api/projects/" + id, tok, json::object());
  CAF_CHECK_EQUAL(same.status, 200);
  CAF_CHECK_EQUAL(same.body["framework"], "nextjs");
  // A rejected PATCH changes nothing either.
  auto bad = call(*cli, "PATCH", "/api/projects/" + id, tok,
                  json{{"name", "renamed"}, {"branch", "a..b"}});
  CAF_CHECK_EQUAL(bad.status, 400);
  CAF_CHECK(bad.names_field("branch"));
  reread = call(*cli, "GET", "/api/projects/" + id, tok);
  CAF_CHECK_EQUAL(reread.body["name"], "My App");
  // Soft delete: 204, then 404 everywhere, gone from the list.
  auto del = call(*cli, "DELETE", "/api/projects/" + id, tok);
  CAF_CHECK_EQUAL(del.status, 204);
  CAF_CHECK(del.raw.empty());
  CAF_CHECK_EQUAL(call(*cli, "GET", "/api/projects/" + id, tok).status, 404);
  CAF_CHECK_EQUAL(call(*cli, "PATCH", "/api/projects/" + id, tok, json{{"name", "x"}}).status,
                  404);
  CAF_CHECK_EQUAL(call(*cli, "DELETE", "/api/projects/" + id, tok).status, 404);
  CAF_CHECK_EQUAL(call(*cli, "GET", "/api/projects/" + id + "/environments", tok).status, 404);
  auto list = call(*cli, "GET", "/api/projects", tok);
  CAF_CHECK_EQUAL(list.body["total"], 0);
  CAF_CHECK_EQUAL(list.body["items"].size(), 0u);
}

CAF_TEST(every accepted repository form) {
  for (auto url : {"https://github.com/org/repo.git", "https://git.example.com:8443/a/b",
                   "git@github.com:org/repo.git", "ssh://git@host.example/org/repo"}) {
    auto r = call(*cli, "POST", "/api/projects", tok,
                  json{{"name", "app"}, {"repositoryUrl", url}});
    CHECK_WHY(r.status == 201, std::string{url} + " -> " + r.describe());
  }
  for (auto fw : {"auto", "dockerfile", "nextjs", "react", "nodejs", "django", "python",
                  "static"}) {
    auto r = call(*cli, "POST", "/api/projects", tok,
                  json{{"name", "app"}, {"repositoryUrl", "https://h.example/x"},
                       {"framework", fw}, {"branch", "dev"}});
    CHECK_WHY(r.status == 201 && r.body["framework"] == fw, r.describe());
  }
}

CAF_TEST(local sources are refused unless the server allows them) {
  for (auto url : {"/srv/git/app", "file:///srv/git/app"}) {
    auto r = call(*cli, "POST", "/api/projects", tok,
                  json{{"name", "app"}, {"repositoryUrl", url}});
    CHECK_WHY(r.status == 400 && r.names_field("repositoryUrl"), r.describe());
  }
  server_options opts;
  opts.allow_local_sources = true;
  gilgal_server local{opts};
  auto lc = local.client();
  for (auto url : {"/srv/git/app", "file:///srv/git/app"}) {
    auto r = call(*lc, "POST", "/api/projects", local.token(),
                  json{{"name", "app"}, {"repositoryUrl", url}});
    CHECK_WHY(r.status == 201 && r.body["repositoryUrl"] == url, r.describe());
  }
  auto r = call(*lc, "POST", "/api/projects", local.token(),
                json{{"name", "app"}, {"repositoryUrl", "/srv/$(reboot)"}});
  CHECK_WHY(r.status == 400 && r.names_field("repositoryUrl"), r.describe());
}

// The token is write-only: accepted on create and update, shown only as
// hasRepositoryToken, never in an answer.
CAF_TEST(repository token is write only) {
  const std::string secret = "glpat-Wr1teOnlyTokenValue";
  auto created = call(*cli, "POST", "/api/projects", tok,
                      json{{"name", "private"},
                           {"repositoryUrl", "https://gitlab.example/org/private.git"},
                           {"repositoryToken", secret}});
  CAF_REQUIRE_EQUAL(created.status, 201);
  CAF_CHECK(created.raw.find(secret) == std::string::npos);
  CAF_CHECK_EQUAL(created.body["hasRepositoryToken"], true);
  CAF_CHECK(created.body["deployKey"].is_null());
  CAF_CHECK(!created.body.contains("repositoryToken"));
  auto id = created.body["id"].get<std::string>();
  for (auto path : {"/api/projects/" + id, std::string{"/api/projects"}}) {
    auto got = call(*cli, "GET", path, tok);
    CAF_CHECK_EQUAL(got.status, 200);
    CAF_CHECK(got.raw.find(secret) == std::string::npos);
    CAF_CHECK(got.raw.find("\"hasRepositoryToken\":true") != std::string::npos);
  }
  // A PATCH without it keeps it; null removes it; a new one replaces it.
  auto renamed = call(*cli, "PATCH", "/api/projects/" + id, tok, json{{"name", "renamed"}});
  CAF_CHECK_EQUAL(renamed.body["hasRepositoryToken"], true);
  auto cleared = call(*cli, "PATCH", "/api/projects/" + id, tok,
                      json{{"repositoryToken", nullptr}});
  CAF_CHECK_EQUAL(cleared.status, 200);
  CAF_CHECK_EQUAL(cleared.body["hasRepositoryToken"], false);
  auto set = call(*cli, "PATCH", "/api/projects/" + id, tok,
                  json{{"repositoryToken", "bot:" + secret}});
  CAF_CHECK_EQUAL(set.body["hasRepositoryToken"], true);
  CAF_CHECK(set.raw.find(secret) == std::string::npos);
  // A bad token is refused without being repeated.
  auto bad = call(*cli, "PATCH", "/api/projects/" + id, tok,
                  json{{"repositoryToken", "has space " + secret}});
  CAF_CHECK_EQUAL(bad.status, 400);
  CAF_CHECK(bad.names_field("repositoryToken"));
  CAF_CHECK(bad.raw.find(secret) == std::string::npos);
  CAF_CHECK_EQUAL(call(*cli, "PATCH", "/api/projects/" + id, tok,
                       json{{"repositoryToken", 42}}).status,
                  400);
  auto kept = call(*cli, "GET", "/api/projects/" + id, tok);
  CAF_CHECK_EQUAL(kept.body["hasRepositoryToken"], true);
}

CAF_TEST(deploy key is made once rotated removed and owned) {
  auto created = call(*cli, "POST", "/api/projects", tok,
                      json{{"name", "private"}, {"repositoryUrl", "git@github.com:org/p.git"}});
  CAF_REQUIRE_EQUAL(created.status, 201);
  auto id = created.body["id"].get<std::string>();
  auto base = "/api/projects/" + id + "/deploy-key";
  CAF_CHECK_EQUAL(call(*cli, "GET", base, tok).status, 404);
  auto made = call(*cli, "POST", base, tok);
  CAF_REQUIRE_EQUAL(made.status, 201);
  auto key = made.body["publicKey"].get<std::string>();
  CAF_CHECK_EQUAL(key.rfind("ssh-ed25519 AAAA", 0), 0u);
  CAF_CHECK_EQUAL(made.body["fingerprint"].get<std::string>().rfind("SHA256:", 0), 0u);
  CAF_CHECK(made.raw.find("PRIVATE") == std::string::npos);
  // A second POST answers the same key; GET and the project show it.
  auto again = call(*cli, "POST", base, tok);
  CAF_CHECK_EQUAL(again.status, 200);
  CAF_CHECK_EQUAL(again.body["publicKey"], key);
  auto shown = call(*cli, "GET", base, tok);
  CAF_CHECK_EQUAL(shown.body["publicKey"], key);
  auto project_shown = call(*cli, "GET", "/api/projects/" + id, tok);
  CAF_CHECK_EQUAL(project_shown.body["deployKey"], key);
  // Rotation makes another one.
  auto rotated = call(*cli, "POST", base + "/rotate", tok);
  CAF_CHECK_EQUAL(rotated.status, 201);
  CAF_CHECK_NOT_EQUAL(rotated.body["publicKey"], key);
  auto shown_rotated = call(*cli, "GET", base, tok);
  CAF_CHECK_EQUAL(shown_rotated.body["publicKey"], rotated.body["publicKey"]);
  // Another user sees none of it.
  auto other = srv.create_user("mallory");
  CAF_CHECK_EQUAL(call(*cli, "GET", base, other).status, 404);
  CAF_CHECK_EQUAL(call(*cli, "POST", base, other).status, 404);
  CAF_CHECK_EQUAL(call(*cli, "POST", base + "/rotate", other).status, 404);
  CAF_CHECK_EQUAL(call(*cli, "DELETE", "/api/projects/" + id + "/known-hosts", other).status,
                  404);
  // Known hosts: none yet; forgetting them works.
  auto hosts = call(*cli, "GET", "/api/projects/" + id + "/known-hosts", tok);
  CAF_CHECK_EQUAL(hosts.status, 200);
  CAF_CHECK_EQUAL(hosts.body["knownHosts"], json::array());
  CAF_CHECK_EQUAL(call(*cli, "DELETE", "/api/projects/" + id + "/known-hosts", tok).status, 204);
  // Removed.
  CAF_CHECK_EQUAL(call(*cli, "DELETE", base, tok).status, 204);
  CAF_CHECK_EQUAL(call(*cli, "GET", base, tok).status, 404);
  CAF_CHECK_EQUAL(call(*cli, "DELETE", base, tok).status, 404);
  auto without = call(*cli, "GET", "/api/projects/" + id, tok);
  CAF_CHECK(without.body["deployKey"].is_null());
}

CAF_TEST_FIXTURE_SCOPE_END()
