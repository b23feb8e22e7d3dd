#define CAF_SUITE http.bad_input
#include <caf/test/unit_test.hpp>

#include "tests/http/api_support.hpp"

using namespace gilgal;
using namespace gilgal::test;
using nlohmann::json;

namespace {

const std::vector<std::string> hostile = {
  "$(reboot)", ";rm -rf /", "-oProxyCommand=x", "`id`", "a|b", "a&&b", "a\nb",
  std::string{"a\0b", 3}, "a\rb", "a\tb", "a b", "x > /etc/passwd", "'quoted'", "\x1b[31m",
};

struct fixture {
  gilgal_server srv;
  std::unique_ptr<httplib::Client> cli = srv.client();
  std::string tok = srv.token();
  std::string project_id = make_project(*cli, tok, "app");
  std::string environment_id = make_environment(*cli, tok, project_id, "production");

  std::vector<std::pair<std::string, std::string>> write_routes() const {
    return {{"POST", "/api/projects"},
            {"PATCH", "/api/projects/" + project_id},
            {"POST", "/api/projects/" + project_id + "/environments"},
            {"PATCH", "/api/environments/" + environment_id}};
  }

  /// Sends `body` and checks for 400 naming `field`.
  void expect_400(const std::string& method, const std::string& path, const std::string& body,
                  const std::string& field) {
    auto r = call(*cli, method, path, tok, std::optional<std::string>{body});
    CHECK_WHY(r.status == 400 && r.error_code() == "invalid_argument" && r.names_field(field),
              method + " " + path + " "
                + json(body.substr(0, 80)).dump(-1, ' ', false, json::error_handler_t::replace)
                + " -> " + r.describe());
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(bad_input, fixture)

CAF_TEST(malformed json) {
  for (auto& [method, path] : write_routes())
    for (std::string body : std::vector<std::string>{"", "{", "not json", "[]", "\"str\"", "42", "null", "{\"name\":}",
                             "{\"name\":\"a\"} trailing", "{'name':'a'}", "{\"a\":\"\xff\"}",
                             std::string(1000, '[') + std::string(1000, ']')})
      expect_400(method, path, body, "body");
}

CAF_TEST(wrong types) {
  auto projects = std::string{"/api/projects"};
  for (auto bad : {json(5), json(true), json::array(), json::object(), json(nullptr)}) {
    auto body = project_body("x");
    body["name"] = bad;
    expect_400("POST", projects, body.dump(), "name");
    body = project_body("x");
    body["repositoryUrl"] = bad;
    expect_400("POST", projects, body.dump(), "repositoryUrl");
    expect_400("PATCH", "/api/projects/" + project_id, json{{"branch", bad}}.dump(), "branch");
    expect_400("PATCH", "/api/projects/" + project_id, json{{"framework", bad}}.dump(),
               "framework");
    auto envs = "/api/projects/" + project_id + "/environments";
    auto ebody = environment_body("x");
    ebody["type"] = bad;
    expect_400("POST", envs, ebody.dump(), "type");
    expect_400("PATCH", "/api/environments/" + environment_id, json{{"name", bad}}.dump(),
               "name");
  }
  auto env = "/api/environments/" + environment_id;
  expect_400("PATCH", env, R"({"environmentVariables":"A=1"})", "environmentVariables");
  expect_400("PATCH", env, R"({"environmentVariables":["A"]})", "environmentVariables");
  expect_400("PATCH", env, R"({"environmentVariables":{"A":5}})", "environmentVariables.A");
  expect_400("PATCH", env, R"({"environmentVariables":{"A":{"b":1}}})",
             "environmentVariables.A");
  expect_400("PATCH", env, R"({"domain":5})", "domain");
  expect_400("PATCH", env, R"({"resources":{"memoryMb":"512"}})", "resources.memoryMb");
  expect_400("PATCH", env, R"({"resources":{"memoryMb":512.5}})", "resources.memoryMb");
  expect_400("PATCH", env, R"({"resources":[]})", "resources");
  expect_400("PATCH", env, R"({"healthCheck":{"timeoutSeconds":"10"}})",
             "healthCheck.timeoutSeconds");
}

CAF_TEST(missing and unknown fields) {
  expect_400("POST", "/api/projects", R"({"repositoryUrl":"https://h.example/x"})", "name");
  expect_400("POST", "/api/projects", R"({"name":"a"})", "repositoryUrl");
  expect_400("POST", "/api/projects", "{}", "name");
  auto envs = "/api/projects/" + project_id + "/environments";
  expect_400("POST", envs, R"({"type":"production"})", "name");
  expect_400("POST", envs, R"({"name":"x"})", "type");
  auto body = project_body("x");
  body["owner"] = "someone-else";
  expect_400("POST", "/api/projects", body.dump(), "owner");
  body = project_body("x");
  body["id"] = "00000000-0000-4000-8000-000000000000";
  expect_400("POST", "/api/projects", body.dump(), "id");
  expect_400("PATCH", "/api/projects/" + project_id, R"({"repository_url":"https://h/x"})",
             "repository_url");
  auto ebody = environment_body("x");
  ebody["variables"] = json::object();
  expect_400("POST", envs, ebody.dump(), "variables");
  expect_400("PATCH", "/api/environments/" + environment_id, R"({"projectId":"x"})",
             "projectId");
  expect_400("PATCH", "/api/environments/" + environment_id, R"({"resources":{"disk":1}})",
             "resources.disk");
}

CAF_TEST(unknown values) {
  auto body = project_body("x");
  body["framework"] = "rails";
  expect_400("POST", "/api/projects", body.dump(), "framework");
  auto ebody = environment_body("x");
  ebody["type"] = "prod";
  expect_400("POST", "/api/projects/" + project_id + "/environments", ebody.dump(), "type");
  body = project_body("x");
  body["repositoryUrl"] = "http://insecure.example/x";
  expect_400("POST", "/api/projects", body.dump(), "repositoryUrl");
  body["repositoryUrl"] = "/srv/local/repo"; // local sources are off on this server
  expect_400("POST", "/api/projects", body.dump(), "repositoryUrl");
}

CAF_TEST(hostile strings) {
  auto envs = "/api/projects/" + project_id + "/environments";
  auto env = "/api/environments/" + environment_id;
  auto proj = "/api/projects/" + project_id;
  for (auto& h : hostile) {
    auto body = project_body("x");
    body["repositoryUrl"] = "https://github.com/org/" + h;
    expect_400("POST", "/api/projects", body.dump(), "repositoryUrl");
    body["repositoryUrl"] = h;
    expect_400("POST", "/api/projects", body.dump(), "repositoryUrl");
    expect_400("PATCH", proj, json{{"repositoryUrl", "git@github.com:" + h}}.dump(),
               "repositoryUrl");
    expect_400("PATCH", proj, json{{"branch", h}}.dump(), "branch");
    expect_400("PATCH", proj, json{{"branch", "main" + h}}.dump(), "branch");
    if (h != "a b") // names may hold single spaces
      expect_400("PATCH", proj, json{{"name", h}}.dump(), "name");
    expect_400("PATCH", proj, json{{"framework", h}}.dump(), "framework");
    auto ebody = environment_body("x");
    ebody["name"] = h;
    if (h != "a b")
      expect_400("POST", envs, ebody.dump(), "name");
    expect_400("PATCH", env, json{{"domain", h}}.dump(), "domain");
    expect_400("PATCH", env, json{{"domain", "a.example.com" + h}}.dump(), "domain");
    expect_400("PATCH", env, json{{"type", h}}.dump(), "type");
    expect_400("PATCH", env, json{{"environmentVariables", {{h, "v"}}}}.dump(),
               "environmentVariables");
    expect_400("PATCH", env, json{{"environmentVariables", {{"OK" + h, "v"}}}}.dump(),
               "environmentVariables");
  }
  // Values may hold anything but NUL (they are never interpreted by a shell).
  auto r = call(*cli, "PATCH", env, tok,
                json{{"environmentVariables", {{"CMD", "$(reboot); rm -rf / `id`\nline2"}}}});
  CAF_CHECK_EQUAL(r.status, 200);
  expect_400("PATCH", env, json{{"environmentVariables", {{"CMD", std::string{"a\0b", 3}}}}}.dump(),
             "environmentVariables.CMD");
  // Nothing hostile was stored.
  auto p = call(*cli, "GET", proj, tok);
  CAF_CHECK_EQUAL(p.body["name"], "app");
  CAF_CHECK_EQUAL(p.body["branch"], "main");
  auto list = call(*cli, "GET", "/api/projects", tok);
  CAF_CHECK_EQUAL(list.body["total"], 1);
}

CAF_TEST(size limits) {
  auto env = "/api/environments/" + environment_id;
  expect_400("PATCH", env,
             json{{"environmentVariables", {{"BIG", std::string(32 * 1024 + 1, 'x')}}}}.dump(),
             "environmentVariables.BIG");
  expect_400("PATCH", env, json{{"environmentVariables", {{std::string(257, 'A'), "v"}}}}.dump(),
             "environmentVariables");
  json many = json::object();
  for (int i = 0; i < 201; ++i)
    many["V" + std::to_string(i)] = "x";
  expect_400("PATCH", env, json{{"environmentVariables", many}}.dump(), "environmentVariables");
  expect_400("PATCH", "/api/projects/" + project_id, json{{"name", std::string(101, 'a')}}.dump(),
             "name");
  // The largest accepted variable value and name.
  auto ok = call(*cli, "PATCH", env, tok,
                 json{{"environmentVariables", {{std::string(256, 'A'), std::string(32 * 1024, 'x')}}}});
  CAF_CHECK_EQUAL(ok.status, 200);
}

CAF_TEST(bodies over 1 MiB answer 413) {
  auto big = std::string(2 * 1024 * 1024, ' ');
  big.front() = '{';
  big.back() = '}';
  for (auto& [method, path] : write_routes()) {
    auto r = call(*cli, method, path, tok, std::optional<std::string>{big});
    CHECK_WHY(r.status == 413 && r.error_code() == "payload_too_large",
              method + " " + path + " -> " + r.describe());
  }
  // Just under the limit is parsed (and here rejected for its content, not its size).
  auto under = json{{"name", "x"}, {"padding", std::string(1024 * 1024 - 100, 'x')}}.dump();
  auto r = call(*cli, "POST", "/api/projects", tok, std::optional<std::string>{under});
  CAF_CHECK_EQUAL(r.status, 400);
  CAF_CHECK_EQUAL(call(*cli, "GET", "/healthz", "").status, 200);
}

CAF_TEST(unknown routes answer 404 json) {
  for (auto path : {"/", "/api", "/api/", "/api/nope", "/api/projects/", "/api/projects//environments",
                    "/api/projects/x/y/z", "/healthz/x", "/API/projects", "/api/environments"}) {
    for (auto& token : {tok, std::string{}}) {
      auto r = call(*cli, "GET", path, token);
      CHECK_WHY(r.status == 404 && r.error_code() == "not_found", std::string{path} + " -> "
                                                                    + r.describe());
    }
  }
  // Ids that are not UUIDs are simply not found.
  for (auto id : {"not-a-uuid", "1", "..", "%27%20OR%201%3D1%20--", "%00"}) {
    auto r = call(*cli, "GET", std::string{"/api/projects/"} + id, tok);
    CHECK_WHY(r.status == 404, std::string{id} + " -> " + r.describe());
    r = call(*cli, "GET", std::string{"/api/environments/"} + id, tok);
    CHECK_WHY(r.status == 404, std::string{id} + " -> " + r.describe());
  }
}

CAF_TEST(wrong methods answer 405 with allow) {
  struct row {
    std::string method;
    std::string path;
    std::string allow;
  };
  auto proj = "/api/projects/" + project_id;
  std::vector<row> rows = {
    {"PUT", "/api/projects", "GET, HEAD, POST"},
    {"DELETE", "/api/projects", "GET, HEAD, POST"},
    {"PATCH", "/api/projects", "GET, HEAD, POST"},
    {"POST", proj, "DELETE, GET, HEAD, PATCH"},
    {"PUT", proj, "DELETE, GET, HEAD, PATCH"},
    {"DELETE", proj + "/environments", "GET, HEAD, POST"},
    {"POST", "/api/environments/" + environment_id, "DELETE, GET, HEAD, PATCH"},
    {"POST", "/healthz", "GET, HEAD"},
    {"OPTIONS", "/api/projects", "GET, HEAD, POST"},
  };
  for (auto& r : rows) {
    for (auto& token : {tok, std::string{}}) {
      auto body = r.method == "OPTIONS" || r.method == "DELETE"
                    ? std::nullopt
                    : std::optional<std::string>{"{}"};
      auto res = call(*cli, r.method, r.path, token, body);
      CHECK_WHY(res.status == 405 && res.error_code() == "method_not_allowed"
                  && res.header("Allow") == r.allow,
                r.method + " " + r.path + " -> " + res.describe() + " Allow: "
                  + res.header("Allow"));
    }
  }
}

CAF_TEST(no client mistake is a server error) {
  std::vector<std::string> bodies = {"", "{}", "{\"name\":null}", "[[[]]]", "{\"a\":1e999}",
                                     "{\"name\":\"\\ud800\"}", "\xef\xbb\xbf{}", "{\"x\":-0}",
                                     std::string(100, '{'), "{\"name\":\"" + std::string(5000, 'a') + "\"}"};
  std::vector<std::string> methods = {"GET", "POST", "PATCH", "DELETE", "PUT"};
  std::vector<std::string> paths = {"/api/projects", "/api/projects/" + project_id,
                                    "/api/projects/" + project_id + "/environments",
                                    "/api/environments/" + environment_id,
                                    "/api/projects?page=x&limit=y", "/api/%ff%fe"};
  for (auto& m : methods)
    for (auto& p : paths)
      for (auto& b : bodies) {
        auto r = call(*cli, m, p, tok, m == "GET" || m == "DELETE" ? std::nullopt
                                                                    : std::optional<std::string>{b});
        CHECK_WHY(r.status >= 200 && r.status < 500,
                  m + " " + p + " " + b.substr(0, 40) + " -> " + r.describe());
        if (r.status >= 400)
          CHECK_WHY(!r.error_code().empty(), r.describe());
      }
  CAF_CHECK_EQUAL(call(*cli, "GET", "/healthz", "").status, 200);
  CAF_CHECK(srv.running());
}

CAF_TEST_FIXTURE_SCOPE_END()
