#define CAF_SUITE http.persistence
#include <caf/test/unit_test.hpp>

#include "tests/fixtures/services.hpp"
#include "tests/http/api_support.hpp"

using namespace gilgal;
using namespace gilgal::test;
using nlohmann::json;

namespace {

/// Creates data, restarts the server, and checks that everything is still
/// there, tokens included, and that the server keeps working.
void check_restart_keeps_data(server_options opts) {
  gilgal_server srv{opts};
  auto tok = srv.token();
  auto bob = srv.create_user("bob");
  std::string project_id;
  std::string env_id;
  std::string deleted_id;
  json project_before;
  json env_before;
  {
    auto cli = srv.client();
    project_id = make_project(*cli, tok, "keep");
    deleted_id = make_project(*cli, tok, "gone");
    CAF_REQUIRE_EQUAL(call(*cli, "DELETE", "/api/projects/" + deleted_id, tok).status, 204);
    auto patched = call(*cli, "PATCH", "/api/projects/" + project_id, tok,
                        json{{"branch", "develop"}, {"framework", "python"}});
    CAF_REQUIRE_EQUAL(patched.status, 200);
    project_before = patched.body;
    auto env = call(*cli, "POST", "/api/projects/" + project_id + "/environments", tok,
                    json{{"name", "production"},
                         {"type", "production"},
                         {"domain", "keep.example.com"},
                         {"environmentVariables", {{"SECRET", "persisted-value"}, {"N", "1"}}},
                         {"resources", {{"memoryMb", 300}}},
                         {"healthCheck", {{"path", "/up"}}}});
    CAF_REQUIRE_EQUAL(env.status, 201);
    env_id = env.body["id"].get<std::string>();
    env_before = env.body;
  }
  CAF_CHECK_EQUAL(srv.restart(), 0);
  auto cli = srv.client();
  auto p = call(*cli, "GET", "/api/projects/" + project_id, tok);
  CAF_CHECK_EQUAL(p.status, 200);
  CAF_CHECK_EQUAL(p.body, project_before);
  auto e = call(*cli, "GET", "/api/environments/" + env_id, tok);
  CAF_CHECK_EQUAL(e.status, 200);
  CAF_CHECK_EQUAL(e.body, env_before);
  CAF_CHECK_EQUAL(call(*cli, "GET", "/api/projects/" + deleted_id, tok).status, 404);
  auto list = call(*cli, "GET", "/api/projects", tok);
  CAF_CHECK_EQUAL(list.body["total"], 1);
  // Ownership and tokens survive too.
  CAF_CHECK_EQUAL(call(*cli, "GET", "/api/projects/" + project_id, bob).status, 404);
  auto bobs = call(*cli, "GET", "/api/projects", bob);
  CAF_CHECK_EQUAL(bobs.status, 200);
  CAF_CHECK_EQUAL(bobs.body["total"], 0);
  // And it keeps working.
  CAF_CHECK_EQUAL(call(*cli, "POST", "/api/projects", tok, project_body("after")).status, 201);
}

} // namespace

CAF_TEST(a restart keeps all data on sqlite) {
  check_restart_keeps_data({});
}

CAF_TEST(a restart keeps all data on postgresql) {
  auto url = postgres_url();
  if (url.empty()) {
    CAF_MESSAGE("GILGAL_TEST_DATABASE_URL not set: skipped");
    return;
  }
  server_options opts;
  opts.database_url = url;
  check_restart_keeps_data(opts);
}
