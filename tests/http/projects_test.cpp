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

CAF_TEST_FIXTURE_SCOPE_END()
