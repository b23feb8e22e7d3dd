#define CAF_SUITE http.environments
#include <caf/test/unit_test.hpp>

#include <vector>

#include "protocol/json.hpp"
#include "tests/http/api_support.hpp"

using namespace gilgal;
using namespace gilgal::test;
using nlohmann::json;

namespace {

struct fixture {
  gilgal_server srv;
  std::unique_ptr<httplib::Client> cli = srv.client();
  std::string tok = srv.token();
  std::string project_id = make_project(*cli, tok, "app");

  std::string envs_path() const {
    return "/api/projects/" + project_id + "/environments";
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(environments, fixture)

CAF_TEST(create and single get show values and the list masks them) {
  auto created = call(*cli, "POST", envs_path(), tok,
                      json{{"name", "Production"},
                           {"type", "production"},
                           {"domain", "myapp.gilgal.dev"},
                           {"environmentVariables",
                            {{"NODE_ENV", "production"},
                             {"API_URL", "https://api.example.com"},
                             {"DATABASE_PASSWORD", "hunter2-very-secret"}}}});
  CAF_REQUIRE_EQUAL(created.status, 201);
  auto id = created.body["id"].get<std::string>();
  CAF_CHECK_EQUAL(created.header("Location"), "/api/environments/" + id);
  CAF_CHECK_EQUAL(created.body["projectId"], project_id);
  CAF_CHECK_EQUAL(created.body["type"], "production");
  CAF_CHECK_EQUAL(created.body["domain"], "myapp.gilgal.dev");
  CAF_CHECK_EQUAL(created.body["environmentVariables"]["DATABASE_PASSWORD"],
                  "hunter2-very-secret");
  CAF_CHECK(created.body["resources"]["memoryMb"].is_null());
  CAF_CHECK(created.body["healthCheck"]["path"].is_null());
  auto list = call(*cli, "GET", envs_path(), tok);
  CAF_REQUIRE_EQUAL(list.status, 200);
  CAF_REQUIRE_EQUAL(list.body["items"].size(), 1u);
  auto vars = list.body["items"][0]["environmentVariables"];
  CAF_CHECK_EQUAL(vars.size(), 3u);
  for (auto& [k, v] : vars.items())
    CHECK_WHY(v == masked_value, k);
  CAF_CHECK(list.raw.find("hunter2") == std::string::npos);
  auto one = call(*cli, "GET", "/api/environments/" + id, tok);
  CAF_CHECK_EQUAL(one.status, 200);
  CAF_CHECK_EQUAL(one.body["environmentVariables"]["DATABASE_PASSWORD"],
                  "hunter2-very-secret");
  CAF_CHECK_EQUAL(one.body, created.body);
  // Neither values nor tokens reach the server log.
  auto log = srv.log();
  CAF_CHECK(log.find("hunter2") == std::string::npos);
  CAF_CHECK(log.find(tok) == std::string::npos);
}

CAF_TEST(patch merges variables and null deletes one) {
  auto id = make_environment(*cli, tok, project_id, "staging");
  auto r = call(*cli, "PATCH", "/api/environments/" + id, tok,
                json{{"environmentVariables", {{"NODE_ENV", nullptr}, {"NEW_ONE", "1"}}},
                     {"type", "staging"}});
  CAF_REQUIRE_EQUAL(r.status, 200);
  auto vars = r.body["environmentVariables"];
  CAF_CHECK_EQUAL(vars, (json{{"API_KEY", "s3cr3t-value"}, {"NEW_ONE", "1"}}));
  CAF_CHECK_EQUAL(r.body["type"], "staging");
  CAF_CHECK_EQUAL(r.body["name"], "staging");
  CAF_CHECK(r.body["domain"].get<std::string>().rfind(".example.com")
            != std::string::npos); // kept as created
  auto again = call(*cli, "GET", "/api/environments/" + id, tok);
  CAF_CHECK_EQUAL(again.body["environmentVariables"], vars);
  // Deleting a variable that does not exist is fine; domain null clears it.
  r = call(*cli, "PATCH", "/api/environments/" + id, tok,
           json{{"environmentVariables", {{"NOPE", nullptr}}}, {"domain", nullptr}});
  CAF_CHECK_EQUAL(r.status, 200);
  CAF_CHECK(r.body["domain"].is_null());
  CAF_CHECK_EQUAL(r.body["environmentVariables"].size(), 2u);
}

CAF_TEST(resources and health check) {
  auto r = call(*cli, "POST", envs_path(), tok,
                json{{"name", "dev"},
                     {"type", "development"},
                     {"resources", {{"memoryMb", 256}, {"cpus", 0.5}, {"pids", 64}}},
                     {"healthCheck", {{"path", "/health"}, {"timeoutSeconds", 30}}}});
  CAF_REQUIRE_EQUAL(r.status, 201);
  auto id = r.body["id"].get<std::string>();
  CAF_CHECK_EQUAL(r.body["resources"], (json{{"memoryMb", 256}, {"cpus", 0.5}, {"pids", 64}}));
  CAF_CHECK_EQUAL(r.body["healthCheck"], (json{{"path", "/health"}, {"timeoutSeconds", 30}}));
  CAF_CHECK(r.body["domain"].is_null());
  CAF_CHECK_EQUAL(r.body["environmentVariables"], json::object());
  r = call(*cli, "PATCH", "/api/environments/" + id, tok,
           json{{"resources", {{"memoryMb", 1024}, {"pids", nullptr}}}});
  CAF_CHECK_EQUAL(r.status, 200);
  CAF_CHECK_EQUAL(r.body["resources"],
                  (json{{"memoryMb", 1024}, {"cpus", 0.5}, {"pids", nullptr}}));
  auto reread = call(*cli, "GET", "/api/environments/" + id, tok);
  CAF_CHECK_EQUAL(reread.body["resources"], r.body["resources"]);
  for (auto bad : {json{{"resources", {{"memoryMb", 1}}}}, json{{"resources", {{"cpus", 999}}}},
                   json{{"resources", {{"pids", -3}}}},
                   json{{"healthCheck", {{"timeoutSeconds", 100000}}}},
                   json{{"healthCheck", {{"path", "no-slash"}}}}}) {
    auto res = call(*cli, "PATCH", "/api/environments/" + id, tok, bad);
    CHECK_WHY(res.status == 400, bad.dump() + " -> " + res.describe());
  }
}

CAF_TEST(node labels round trip and merge on patch) {
  auto r = call(*cli, "POST", envs_path(), tok,
                json{{"name", "gpu"},
                     {"type", "production"},
                     {"buildNodeLabels", {{"arch", "amd64"}, {"gilgal.dev/gpu", ""}}},
                     {"runNodeLabels", {{"zone", "eu-1"}}}});
  CAF_REQUIRE_EQUAL(r.status, 201);
  auto id = r.body["id"].get<std::string>();
  CAF_CHECK_EQUAL(r.body["buildNodeLabels"], (json{{"arch", "amd64"}, {"gilgal.dev/gpu", ""}}));
  CAF_CHECK_EQUAL(r.body["runNodeLabels"], (json{{"zone", "eu-1"}}));
  auto one = call(*cli, "GET", "/api/environments/" + id, tok);
  CAF_CHECK_EQUAL(one.body["buildNodeLabels"], r.body["buildNodeLabels"]);
  CAF_CHECK_EQUAL(one.body["runNodeLabels"], r.body["runNodeLabels"]);
  auto list = call(*cli, "GET", envs_path(), tok);
  CAF_REQUIRE_EQUAL(list.body["items"].size(), 1u);
  CAF_CHECK_EQUAL(list.body["items"][0]["runNodeLabels"], (json{{"zone", "eu-1"}}));
  // PATCH merges: a value sets, null deletes, others stay; other settings stay.
  r = call(*cli, "PATCH", "/api/environments/" + id, tok,
           json{{"buildNodeLabels", {{"gilgal.dev/gpu", nullptr}, {"disk", "ssd"}}}});
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_CHECK_EQUAL(r.body["buildNodeLabels"], (json{{"arch", "amd64"}, {"disk", "ssd"}}));
  CAF_CHECK_EQUAL(r.body["runNodeLabels"], (json{{"zone", "eu-1"}}));
  // The whole object null clears it.
  r = call(*cli, "PATCH", "/api/environments/" + id, tok, json{{"runNodeLabels", nullptr}});
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_CHECK_EQUAL(r.body["runNodeLabels"], json::object());
  CAF_CHECK_EQUAL(r.body["buildNodeLabels"], (json{{"arch", "amd64"}, {"disk", "ssd"}}));
  auto again = call(*cli, "GET", "/api/environments/" + id, tok);
  // The PATCH answer is the environment plus the release it started (none here).
  CAF_CHECK(r.body["deployment"].is_null());
  r.body.erase("deployment");
  CAF_CHECK_EQUAL(again.body, r.body);
  // Without labels: empty objects.
  auto plain = call(*cli, "GET", "/api/environments/"
                                   + make_environment(*cli, tok, project_id, "plain"),
                    tok);
  CAF_CHECK_EQUAL(plain.body["buildNodeLabels"], json::object());
  CAF_CHECK_EQUAL(plain.body["runNodeLabels"], json::object());
}

CAF_TEST(bad node labels answer 400 naming the field) {
  auto id = make_environment(*cli, tok, project_id, "labels");
  json many = json::object();
  for (int i = 0; i < 17; ++i)
    many["k" + std::to_string(i)] = "v";
  struct bad_case {
    json body;
    std::string field;
  };
  std::vector<bad_case> cases{
    {json{{"buildNodeLabels", "arch=amd64"}}, "buildNodeLabels"},
    {json{{"buildNodeLabels", json::array({"arch"})}}, "buildNodeLabels"},
    {json{{"runNodeLabels", 3}}, "runNodeLabels"},
    {json{{"buildNodeLabels", {{"arch", 64}}}}, "buildNodeLabels.arch"},
    {json{{"runNodeLabels", {{"gpu", true}}}}, "runNodeLabels.gpu"},
    {json{{"runNodeLabels", {{"zone", {{"a", "b"}}}}}}, "runNodeLabels.zone"},
    {json{{"buildNodeLabels", {{"", "x"}}}}, "buildNodeLabels"},
    {json{{"buildNodeLabels", {{"-arch", "x"}}}}, "buildNodeLabels"},
    {json{{"buildNodeLabels", {{"ar ch", "x"}}}}, "buildNodeLabels"},
    {json{{"buildNodeLabels", {{std::string(64, 'a'), "x"}}}}, "buildNodeLabels"},
    {json{{"runNodeLabels", {{"zone", "eu/1"}}}}, "runNodeLabels.zone"},
    {json{{"runNodeLabels", {{"zone", "eu 1"}}}}, "runNodeLabels.zone"},
    {json{{"runNodeLabels", {{"zone", std::string(64, 'x')}}}}, "runNodeLabels.zone"},
    {json{{"buildNodeLabels", many}}, "buildNodeLabels"},
  };
  for (auto& c : cases) {
    auto r = call(*cli, "PATCH", "/api/environments/" + id, tok, c.body);
    CHECK_WHY(r.status == 400 && r.names_field(c.field), c.body.dump() + " -> " + r.describe());
    auto created = call(*cli, "POST", envs_path(), tok,
                        [&] {
                          auto b = c.body;
                          b["name"] = "bad";
                          b["type"] = "staging";
                          return b;
                        }());
    CHECK_WHY(created.status == 400 && created.names_field(c.field),
              c.body.dump() + " -> " + created.describe());
  }
  // The limits themselves are fine: 63-character names and values, 16 labels, empty value.
  json edge = json::object();
  for (int i = 0; i < 15; ++i)
    edge["k" + std::to_string(i)] = "";
  edge[std::string(1, 'a') + std::string(62, '/')] = std::string(63, '.');
  auto ok = call(*cli, "PATCH", "/api/environments/" + id, tok, json{{"buildNodeLabels", edge}});
  CHECK_WHY(ok.status == 200, ok.describe());
  CAF_CHECK_EQUAL(ok.body["buildNodeLabels"].size(), 16u);
  // Nothing of the refused bodies was stored.
  auto stored = call(*cli, "GET", "/api/environments/" + id, tok);
  CAF_CHECK_EQUAL(stored.body["runNodeLabels"], json::object());
}

CAF_TEST(build variables are shown in full and merge on patch) {
  auto created = call(*cli, "POST", envs_path(), tok,
                      json{{"name", "web"},
                           {"type", "production"},
                           {"environmentVariables", {{"SECRET", "hunter2"}}},
                           {"buildVariables",
                            {{"VITE_API_URL", "https://api.example.com"},
                             {"NEXT_PUBLIC_MODE", "prod"}}}});
  CAF_REQUIRE_EQUAL(created.status, 201);
  auto id = created.body["id"].get<std::string>();
  json both{{"VITE_API_URL", "https://api.example.com"}, {"NEXT_PUBLIC_MODE", "prod"}};
  CAF_CHECK_EQUAL(created.body["buildVariables"], both);
  // Not secret: the list, which masks runtime variables, shows them.
  auto list = call(*cli, "GET", envs_path(), tok);
  CAF_REQUIRE_EQUAL(list.status, 200);
  CAF_CHECK_EQUAL(list.body["items"][0]["buildVariables"], both);
  CAF_CHECK_EQUAL(list.body["items"][0]["environmentVariables"]["SECRET"], masked_value);
  // A PATCH merges; null deletes one.
  auto patched = call(*cli, "PATCH", "/api/environments/" + id, tok,
                      json{{"buildVariables",
                            {{"NEXT_PUBLIC_MODE", nullptr}, {"REACT_APP_X", "1"}}}});
  CAF_REQUIRE_EQUAL(patched.status, 200);
  CAF_CHECK_EQUAL(patched.body["buildVariables"],
                  (json{{"VITE_API_URL", "https://api.example.com"}, {"REACT_APP_X", "1"}}));
  auto got = call(*cli, "GET", "/api/environments/" + id, tok);
  CAF_CHECK_EQUAL(got.body["buildVariables"], patched.body["buildVariables"]);
  // Bad names and values answer 400 naming the field; nothing changes.
  for (auto& bad : {json{{"buildVariables", {{"BAD NAME", "x"}}}},
                    json{{"buildVariables", {{"1X", "x"}}}},
                    json{{"buildVariables", {{"X", 1}}}},
                    json{{"buildVariables", "X=1"}},
                    json{{"buildVariables", {{"BIG", std::string(40 * 1024, 'z')}}}},
                    json{{"buildVariables", {{"A", std::string(30 * 1024, 'a')},
                                             {"B", std::string(30 * 1024, 'b')},
                                             {"C", std::string(30 * 1024, 'c')}}}}}) {
    auto r = call(*cli, "PATCH", "/api/environments/" + id, tok, bad);
    CHECK_WHY(r.status == 400 && r.error_message().rfind("buildVariables", 0) == 0,
              bad.dump().substr(0, 80) + " -> " + r.describe());
  }
  got = call(*cli, "GET", "/api/environments/" + id, tok);
  CAF_CHECK_EQUAL(got.body["buildVariables"], patched.body["buildVariables"]);
}

CAF_TEST(soft delete frees the name and live names are unique per project) {
  auto id = make_environment(*cli, tok, project_id, "production");
  auto dup = call(*cli, "POST", envs_path(), tok, environment_body("production"));
  CAF_CHECK_EQUAL(dup.status, 409);
  CAF_CHECK_EQUAL(dup.error_code(), "conflict");
  // Another project may use the same name.
  auto other = make_project(*cli, tok, "other");
  CAF_CHECK_EQUAL(call(*cli, "POST", "/api/projects/" + other + "/environments", tok,
                       environment_body("production"))
                    .status,
                  201);
  auto del = call(*cli, "DELETE", "/api/environments/" + id, tok);
  CAF_CHECK_EQUAL(del.status, 204);
  CAF_CHECK_EQUAL(call(*cli, "GET", "/api/environments/" + id, tok).status, 404);
  CAF_CHECK_EQUAL(call(*cli, "PATCH", "/api/environments/" + id, tok, json{{"name", "x"}}).status,
                  404);
  CAF_CHECK_EQUAL(call(*cli, "DELETE", "/api/environments/" + id, tok).status, 404);
  auto list = call(*cli, "GET", envs_path(), tok);
  CAF_CHECK_EQUAL(list.body["total"], 0);
  auto reused = call(*cli, "POST", envs_path(), tok, environment_body("production"));
  CAF_CHECK_EQUAL(reused.status, 201);
  CAF_CHECK_NOT_EQUAL(reused.body["id"], id);
}

CAF_TEST(environments of a deleted project are gone) {
  auto id = make_environment(*cli, tok, project_id, "production");
  CAF_CHECK_EQUAL(call(*cli, "DELETE", "/api/projects/" + project_id, tok).status, 204);
  CAF_CHECK_EQUAL(call(*cli, "GET", "/api/environments/" + id, tok).status, 404);
  CAF_CHECK_EQUAL(call(*cli, "GET", envs_path(), tok).status, 404);
  CAF_CHECK_EQUAL(call(*cli, "POST", envs_path(), tok, environment_body("x")).status, 404);
}

CAF_TEST(domains and aliases are unique across all users) {
  auto bob = srv.create_user("bob");
  auto bob_project = make_project(*cli, bob, "blog");
  auto bob_envs = "/api/projects/" + bob_project + "/environments";
  auto r = call(*cli, "POST", envs_path(), tok,
                json{{"name", "web"}, {"type", "production"}, {"domain", "Shop.Example.com"},
                     {"aliases", {"www.shop.example.com"}}});
  CAF_REQUIRE_EQUAL(r.status, 201);
  auto alice_env = r.body["id"].get<std::string>();
  CAF_CHECK_EQUAL(r.body["aliases"], json::array({"www.shop.example.com"}));
  // Without a proxy nobody can visit it; nothing is live yet.
  CAF_CHECK(r.body["url"].is_null());
  CAF_CHECK(r.body["liveDeploymentId"].is_null());
  // Another user's domain or alias, in any case: 409, and nothing is created.
  for (auto& host : {"shop.example.com", "SHOP.example.COM", "www.shop.example.com"}) {
    auto clash = call(*cli, "POST", bob_envs, bob,
                      json{{"name", "web"}, {"type", "production"}, {"domain", host}});
    CAF_CHECK_EQUAL(clash.status, 409);
    CAF_CHECK(clash.names_field("domain"));
  }
  auto as_alias = call(*cli, "POST", bob_envs, bob,
                       json{{"name", "web"}, {"type", "production"}, {"domain", "blog.example.com"},
                            {"aliases", {"www.shop.example.com"}}});
  CAF_CHECK_EQUAL(as_alias.status, 409);
  auto listed = call(*cli, "GET", bob_envs, bob);
  CAF_CHECK_EQUAL(listed.body["total"], 0);
  // A host Gilgal gives another environment (under the apps domain) is taken too.
  auto plain = call(*cli, "POST", envs_path(), tok,
                    json{{"name", "production"}, {"type", "production"}});
  CAF_REQUIRE_EQUAL(plain.status, 201);
  auto generated = call(*cli, "POST", bob_envs, bob,
                        json{{"name", "web"}, {"type", "production"},
                             {"domain", "production-app.localhost"}});
  CAF_CHECK_EQUAL(generated.status, 409);
  // Once alice's environment is deleted, its hosts are free.
  CAF_REQUIRE_EQUAL(call(*cli, "DELETE", "/api/environments/" + alice_env, tok).status, 204);
  auto freed = call(*cli, "POST", bob_envs, bob,
                    json{{"name", "web"}, {"type", "production"}, {"domain", "shop.example.com"},
                         {"aliases", {"www.shop.example.com"}}});
  CAF_CHECK_EQUAL(freed.status, 201);
  // Moving a domain to another of one's own environments: the old one lets go first.
  auto moved = call(*cli, "PATCH", "/api/environments/" + freed.body["id"].get<std::string>(),
                    bob, json{{"domain", "blog.example.com"}, {"aliases", nullptr}});
  CAF_CHECK_EQUAL(moved.status, 200);
  auto taken_back = call(*cli, "POST", envs_path(), tok,
                         json{{"name", "shop"}, {"type", "production"},
                              {"domain", "shop.example.com"}});
  CAF_CHECK_EQUAL(taken_back.status, 201);
}

CAF_TEST(domains must be single host names) {
  for (auto& bad : {"*.example.com", "10.0.0.1", "127.0.0.1", "a..b", "-a.com", "a b.com"}) {
    auto r = call(*cli, "POST", envs_path(), tok,
                  json{{"name", "web"}, {"type", "production"}, {"domain", bad}});
    CAF_CHECK_EQUAL(r.status, 400);
    CAF_CHECK(r.names_field("domain"));
  }
  auto r = call(*cli, "POST", envs_path(), tok,
                json{{"name", "web"}, {"type", "production"}, {"aliases", {"www.a.com"}}});
  CAF_CHECK_EQUAL(r.status, 400);
  CAF_CHECK(r.names_field("aliases")); // aliases need a domain
  r = call(*cli, "POST", envs_path(), tok,
           json{{"name", "web"}, {"type", "production"}, {"domain", "a.com"},
                {"aliases", {"*.a.com"}}});
  CAF_CHECK_EQUAL(r.status, 400);
  CAF_CHECK(r.names_field("aliases"));
}

CAF_TEST_FIXTURE_SCOPE_END()
