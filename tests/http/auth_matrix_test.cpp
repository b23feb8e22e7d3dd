#define CAF_SUITE http.auth_matrix
#include <caf/test/unit_test.hpp>

#include "http/api_routes.hpp"
#include "protocol/ids.hpp"
#include "tests/http/api_support.hpp"

using namespace gilgal;
using namespace gilgal::test;

namespace {

struct fixture {
  gilgal_server srv;
  std::unique_ptr<httplib::Client> cli = srv.client();
  std::string alice = srv.token();
  std::string bob = srv.create_user("bob");
  std::string project_id = make_project(*cli, alice, "alice-app");
  std::string environment_id = make_environment(*cli, alice, project_id, "production");

  /// The route's pattern with alice's ids in place of its parameters: the
  /// resource named by the segment before the parameter, or a random id.
  std::string concrete(const std::string& pattern) const {
    std::string out;
    std::string prev;
    size_t start = 1;
    while (start <= pattern.size()) {
      auto slash = pattern.find('/', start);
      auto seg = pattern.substr(start, slash == std::string::npos ? std::string::npos
                                                                  : slash - start);
      if (!seg.empty() && seg.front() == ':') {
        if (prev == "projects")
          seg = project_id;
        else if (prev == "environments")
          seg = environment_id;
        else
          seg = new_uuid();
      }
      out += "/" + seg;
      prev = seg;
      if (slash == std::string::npos)
        break;
      start = slash + 1;
    }
    return out;
  }

  /// A valid body for the route (so that only authentication decides).
  std::optional<std::string> body_for(const route_info& r) const {
    if (r.method != "POST" && r.method != "PATCH" && r.method != "PUT")
      return std::nullopt;
    if (r.pattern == "/api/projects")
      return project_body("hijack").dump();
    if (r.pattern == "/api/projects/:projectId/environments")
      return environment_body("hijack").dump();
    return nlohmann::json{{"name", "hijacked"}}.dump();
  }

  bool has_param(const route_info& r) const {
    return r.pattern.find(':') != std::string::npos;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(auth_matrix, fixture)

CAF_TEST(every api route needs a valid bearer token) {
  auto routes = api_route_table();
  int api_routes = 0;
  // Same id, wrong secret; unknown id; not a token; wrong scheme; empty.
  auto wrong_secret = alice;
  wrong_secret.back() = wrong_secret.back() == 'a' ? 'b' : 'a';
  std::vector<std::optional<std::string>> bad_auth = {
    std::nullopt,                  // no header at all
    std::string{"Bearer "},        // empty token
    "Bearer " + wrong_secret,      // right id, wrong secret
    std::string{"Bearer glg_0000000000000000_abcdef"},
    std::string{"Bearer not-a-token"},
    "Basic " + alice,       // right token, wrong scheme
    alice,                         // no scheme
  };
  for (auto& r : routes) {
    if (r.pattern.rfind("/api/", 0) != 0)
      continue;
    ++api_routes;
    CHECK_WHY(r.authenticated, r.method + " " + r.pattern);
    auto path = concrete(r.pattern);
    for (auto& auth : bad_auth) {
      auto res = auth ? call(*cli, r.method, path, "", body_for(r), *auth)
                      : call(*cli, r.method, path, "", body_for(r));
      CHECK_WHY(res.status == 401 && res.error_code() == "unauthorized",
                r.method + " " + path + " with " + (auth ? auth->substr(0, 6) : "none")
                  + " -> " + res.describe());
      CHECK_WHY(res.header("WWW-Authenticate") == "Bearer", r.method + " " + path);
    }
  }
  CAF_CHECK_GREATER_OR_EQUAL(api_routes, 10);
  // Nothing changed.
  auto p = call(*cli, "GET", "/api/projects/" + project_id, alice);
  CAF_CHECK_EQUAL(p.status, 200);
  CAF_CHECK_EQUAL(p.body["name"], "alice-app");
  auto list = call(*cli, "GET", "/api/projects", alice);
  CAF_CHECK_EQUAL(list.body["total"], 1);
}

CAF_TEST(another users resources answer 404 exactly like missing ones) {
  for (auto& r : api_route_table()) {
    if (r.pattern.rfind("/api/", 0) != 0 || !has_param(r))
      continue;
    auto path = concrete(r.pattern);
    auto theirs = call(*cli, r.method, path, bob, body_for(r));
    CHECK_WHY(theirs.status == 404 && theirs.error_code() == "not_found",
              r.method + " " + path + " as bob -> " + theirs.describe());
    // A missing id answers the same way (same status and code).
    auto missing_path = path;
    for (auto* id : {&project_id, &environment_id}) {
      auto at = missing_path.find(*id);
      if (at != std::string::npos)
        missing_path.replace(at, id->size(), new_uuid());
    }
    auto missing = call(*cli, r.method, missing_path, alice, body_for(r));
    CHECK_WHY(missing.status == 404 && missing.error_code() == "not_found",
              r.method + " " + missing_path + " missing -> " + missing.describe());
  }
  // Bob's lists are his own: empty.
  auto list = call(*cli, "GET", "/api/projects", bob);
  CAF_CHECK_EQUAL(list.status, 200);
  CAF_CHECK_EQUAL(list.body["total"], 0);
  // Alice's resources are untouched by bob's PATCH and DELETE attempts.
  auto p = call(*cli, "GET", "/api/projects/" + project_id, alice);
  CAF_CHECK_EQUAL(p.status, 200);
  CAF_CHECK_EQUAL(p.body["name"], "alice-app");
  auto e = call(*cli, "GET", "/api/environments/" + environment_id, alice);
  CAF_CHECK_EQUAL(e.status, 200);
  CAF_CHECK_EQUAL(e.body["name"], "production");
  CAF_CHECK_EQUAL(e.body["environmentVariables"]["API_KEY"], "s3cr3t-value");
}

CAF_TEST(healthz needs no token) {
  auto res = call(*cli, "GET", "/healthz", "");
  CAF_CHECK_EQUAL(res.status, 200);
  CAF_CHECK_EQUAL(res.body, (nlohmann::json{{"status", "ok"}}));
}

CAF_TEST(tokens never reach the log) {
  call(*cli, "GET", "/api/projects", alice);
  call(*cli, "GET", "/api/projects", "", std::nullopt, std::string{"Bearer " + bob});
  auto log = srv.log();
  CAF_CHECK(log.find(alice) == std::string::npos);
  CAF_CHECK(log.find(bob) == std::string::npos);
  CAF_CHECK(log.find(alice.substr(alice.rfind('_') + 1)) == std::string::npos);
  // One line per request with method, path, status and milliseconds.
  CAF_CHECK(log.find("GET /api/projects 200 ") != std::string::npos);
  CAF_CHECK(log.find("ms") != std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()
