#define CAF_SUITE http.pagination
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

  json get_page(const std::string& path, const std::string& query) {
    auto r = call(*cli, "GET", path + query, tok);
    if (r.status != 200)
      CAF_FAIL("GET " << path << query << " -> " << r.describe());
    return r.body;
  }

  std::vector<std::string> names_of(const json& page) {
    std::vector<std::string> out;
    for (auto& item : page["items"])
      out.push_back(item["name"].get<std::string>());
    return out;
  }

  /// Checks the bad-parameter answers on one list route.
  void check_bad_params(const std::string& path) {
    for (std::string v : {"0", "-1", "abc", "1.5", "", "%20", "1e2", "+1", "0x10", "99999999999999"}) {
      auto r = call(*cli, "GET", path + "?page=" + v, tok);
      CHECK_WHY(r.status == 400 && r.names_field("page"), path + " page=" + v + " -> " + r.describe());
    }
    for (std::string v : {"0", "101", "-1", "abc", "1.5", "", "1000"}) {
      auto r = call(*cli, "GET", path + "?limit=" + v, tok);
      CHECK_WHY(r.status == 400 && r.names_field("limit"), path + " limit=" + v + " -> " + r.describe());
      r = call(*cli, "GET", path + "?page=1&limit=" + v, tok);
      CHECK_WHY(r.status == 400 && r.names_field("limit"), path + " limit=" + v + " -> " + r.describe());
    }
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(pagination, fixture)

CAF_TEST(empty lists) {
  auto p = get_page("/api/projects", "");
  CAF_CHECK_EQUAL(p, (json{{"items", json::array()}, {"total", 0}, {"page", 1}, {"limit", 20},
                           {"hasMore", false}}));
  auto far = get_page("/api/projects", "?page=5&limit=100");
  CAF_CHECK_EQUAL(far["items"].size(), 0u);
  CAF_CHECK_EQUAL(far["page"], 5);
  CAF_CHECK_EQUAL(far["limit"], 100);
  CAF_CHECK_EQUAL(far["hasMore"], false);
  auto project_id = make_project(*cli, tok, "p");
  auto envs = get_page("/api/projects/" + project_id + "/environments", "");
  CAF_CHECK_EQUAL(envs["total"], 0);
  CAF_CHECK_EQUAL(envs["items"].size(), 0u);
  CAF_CHECK_EQUAL(envs["hasMore"], false);
}

CAF_TEST(project pages) {
  std::vector<std::string> all;
  for (int i = 0; i < 6; ++i) {
    all.push_back("p" + std::to_string(i));
    make_project(*cli, tok, all.back());
  }
  // Exact multiple: the last full page has hasMore=false, the next is empty.
  auto p1 = get_page("/api/projects", "?page=1&limit=3");
  auto p2 = get_page("/api/projects", "?page=2&limit=3");
  auto p3 = get_page("/api/projects", "?page=3&limit=3");
  CAF_CHECK_EQUAL(p1["hasMore"], true);
  CAF_CHECK_EQUAL(p2["hasMore"], false);
  CAF_CHECK_EQUAL(p3["hasMore"], false);
  CAF_CHECK_EQUAL(p3["items"].size(), 0u);
  for (auto* p : {&p1, &p2, &p3})
    CAF_CHECK_EQUAL((*p)["total"], 6);
  auto seen = names_of(p1);
  for (auto& n : names_of(p2))
    seen.push_back(n);
  CAF_CHECK(seen == all); // oldest first, no gaps, no repeats
  // A partial last page.
  auto q2 = get_page("/api/projects", "?page=2&limit=4");
  CAF_CHECK_EQUAL(q2["items"].size(), 2u);
  CAF_CHECK_EQUAL(q2["hasMore"], false);
  auto q1 = get_page("/api/projects", "?page=1&limit=4");
  CAF_CHECK_EQUAL(q1["hasMore"], true);
  // limit=100 and the default.
  auto big = get_page("/api/projects", "?limit=100");
  CAF_CHECK_EQUAL(big["items"].size(), 6u);
  CAF_CHECK_EQUAL(big["limit"], 100);
  CAF_CHECK_EQUAL(big["hasMore"], false);
  auto def = get_page("/api/projects", "");
  CAF_CHECK_EQUAL(def["limit"], 20);
  CAF_CHECK_EQUAL(def["page"], 1);
  CAF_CHECK_EQUAL(def["items"].size(), 6u);
  // limit=1 walks one by one.
  for (int i = 1; i <= 6; ++i) {
    auto one = get_page("/api/projects", "?limit=1&page=" + std::to_string(i));
    CAF_CHECK_EQUAL(one["items"].size(), 1u);
    CAF_CHECK_EQUAL(one["items"][0]["name"], all[i - 1]);
    CAF_CHECK_EQUAL(one["hasMore"], i < 6);
  }
  // Soft-deleted projects leave the count.
  auto first = p1["items"][0]["id"].get<std::string>();
  CAF_CHECK_EQUAL(call(*cli, "DELETE", "/api/projects/" + first, tok).status, 204);
  auto after = get_page("/api/projects", "?limit=5");
  CAF_CHECK_EQUAL(after["total"], 5);
  CAF_CHECK_EQUAL(after["hasMore"], false);
}

CAF_TEST(environment pages) {
  auto project_id = make_project(*cli, tok, "p");
  auto path = "/api/projects/" + project_id + "/environments";
  for (int i = 0; i < 5; ++i)
    make_environment(*cli, tok, project_id, "e" + std::to_string(i));
  auto p1 = get_page(path, "?limit=2");
  auto p3 = get_page(path, "?limit=2&page=3");
  CAF_CHECK_EQUAL(p1["total"], 5);
  CAF_CHECK_EQUAL(p1["hasMore"], true);
  CAF_CHECK_EQUAL(p3["items"].size(), 1u);
  CAF_CHECK_EQUAL(p3["items"][0]["name"], "e4");
  CAF_CHECK_EQUAL(p3["hasMore"], false);
  auto all_envs = get_page(path, "?limit=100");
  CAF_CHECK_EQUAL(all_envs["items"].size(), 5u);
}

CAF_TEST(bad parameters answer 400 naming them) {
  check_bad_params("/api/projects");
  auto project_id = make_project(*cli, tok, "p");
  check_bad_params("/api/projects/" + project_id + "/environments");
}

CAF_TEST_FIXTURE_SCOPE_END()
