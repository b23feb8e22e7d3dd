// The edge's cached views of environments (http/view_cache.hpp) on an
// in-process edge and its SQLite store: a list or a single environment shows
// a write at once, whether the write came through the API or through the
// store as the deployment actor makes it; a kept page is shown only to its
// owner, and is the same text as the page it was kept from.
#define CAF_SUITE http.environment_views
#include <caf/test/unit_test.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "config/api_token.hpp"
#include "config/secret_box.hpp"
#include "http/http_edge.hpp"
#include "protocol/error.hpp"
#include "protocol/type_ids.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/storage/store_backends.hpp"

using namespace gilgal;
using nlohmann::json;

namespace {

struct answer {
  int status = 0;
  std::string raw;
  json body;
};

struct fixture {
  std::string dir = test::make_temp_dir("gilgal-env-views");
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<store> db;
  caf::actor edge;
  std::unique_ptr<httplib::Client> cli;
  std::string alice_token;
  std::string bob_token;
  std::string project_id;

  fixture() {
    add_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    auto opened = open_store(dir + "/gilgal.db", test::test_cipher());
    if (!opened)
      CAF_FAIL("store: " << message_of(opened.error()));
    db = std::move(*opened);
    alice_token = token_of("alice");
    bob_token = token_of("bob");
    http_services services;
    services.db = db;
    auto port = test::free_port();
    settings s;
    s.listen = "127.0.0.1:" + std::to_string(port);
    s.data_dir = dir;
    s.proxy_listen = "127.0.0.1:8080"; // environments get a URL
    auto spawned = spawn_http_edge(*sys, s, services);
    if (!spawned)
      CAF_FAIL("edge: " << message_of(spawned.error()));
    edge = *spawned;
    cli = std::make_unique<httplib::Client>("127.0.0.1", port);
    cli->set_connection_timeout(5);
    auto p = call("POST", "/api/projects", alice_token,
                  R"({"name":"shop","repositoryUrl":"https://example.com/shop.git"})");
    if (p.status != 201)
      CAF_FAIL("create project: " << p.raw);
    project_id = p.body["id"].get<std::string>();
  }

  ~fixture() {
    {
      caf::scoped_actor self{*sys};
      self->monitor(edge);
      self->send_exit(edge, caf::exit_reason::user_shutdown);
      self->receive([](const caf::down_msg&) {});
    }
    edge = nullptr;
    cli.reset();
    sys.reset();
    db.reset();
    test::remove_tree(dir);
  }

  std::string token_of(const std::string& name) {
    auto u = db->create_user(name);
    if (!u)
      CAF_FAIL("user: " << message_of(u.error()));
    auto t = issue_token(u->id);
    if (!db->add_token(t.record))
      CAF_FAIL("cannot add a token");
    return t.text;
  }

  answer call(const std::string& method, const std::string& path, const std::string& token,
              const std::string& body = {}) {
    httplib::Headers headers{{"Authorization", "Bearer " + token}};
    httplib::Result res{nullptr, httplib::Error::Unknown};
    if (method == "GET")
      res = cli->Get(path.c_str(), headers);
    else if (method == "POST")
      res = cli->Post(path.c_str(), headers, body, "application/json");
    else if (method == "PATCH")
      res = cli->Patch(path.c_str(), headers, body, "application/json");
    if (!res)
      CAF_FAIL(method << " " << path << ": no answer");
    answer a;
    a.status = res->status;
    a.raw = res->body;
    a.body = json::parse(a.raw, nullptr, false);
    return a;
  }

  std::string list_path() const {
    return "/api/projects/" + project_id + "/environments";
  }

  json list(const std::string& query = {}) {
    auto a = call("GET", list_path() + query, alice_token);
    if (a.status != 200)
      CAF_FAIL("list: " << a.status << " " << a.raw);
    return a.body;
  }

  std::string create_env(const std::string& name, const std::string& domain) {
    auto a = call("POST", list_path(), alice_token,
                  json{{"name", name}, {"type", "production"}, {"domain", domain}}.dump());
    if (a.status != 201)
      CAF_FAIL("create environment: " << a.raw);
    return a.body["id"].get<std::string>();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(environment_views_tests, fixture)

CAF_TEST(a kept page is the same text as the page it was kept from) {
  create_env("prod", "shop.example.test");
  create_env("stage", "stage.shop.example.test");
  auto first = call("GET", list_path(), alice_token);
  auto again = call("GET", list_path(), alice_token);
  CAF_REQUIRE_EQUAL(first.status, 200);
  CAF_CHECK_EQUAL(again.status, 200);
  CAF_CHECK_EQUAL(again.raw, first.raw);
  CAF_CHECK_EQUAL(first.body["total"], 2);
  // Another page is another view.
  auto one = list("?limit=1&page=2");
  CAF_REQUIRE_EQUAL(one["items"].size(), 1u);
  CAF_CHECK_EQUAL(one["items"][0]["name"], "stage");
  auto first_page = list("?limit=1");
  CAF_CHECK_EQUAL(first_page["items"][0]["name"], "prod");
}

CAF_TEST(the list shows a write at once) {
  auto id = create_env("prod", "shop.example.test");
  auto before = list();
  CAF_REQUIRE_EQUAL(before["items"].size(), 1u);
  CAF_CHECK(before["items"][0]["liveDeploymentId"].is_null());
  CAF_CHECK_EQUAL(before["items"][0]["url"], "http://shop.example.test:8080");
  list(); // kept now
  // A deployment goes live, written through the store as the deployment
  // actor writes it: the next list and the single GET show it.
  deployment d;
  d.project_id = project_id;
  d.environment_id = id;
  d.commit_sha = std::string(40, 'a');
  auto created = db->create_deployment(d);
  CAF_REQUIRE(created);
  created->status = deployment_status::success;
  CAF_REQUIRE(db->update_deployment(*created));
  auto live = list();
  CAF_CHECK_EQUAL(live["items"][0]["liveDeploymentId"], created->id);
  auto single = call("GET", "/api/environments/" + id, alice_token);
  CAF_CHECK_EQUAL(single.body["liveDeploymentId"], created->id);
  // A domain changed through the API.
  auto patched = call("PATCH", "/api/environments/" + id + "?deploy=false", alice_token,
                      R"({"domain":"www.shop.example.test"})");
  CAF_REQUIRE_EQUAL(patched.status, 200);
  auto after = list();
  CAF_CHECK_EQUAL(after["items"][0]["domain"], "www.shop.example.test");
  CAF_CHECK_EQUAL(after["items"][0]["url"], "http://www.shop.example.test:8080");
  CAF_CHECK_EQUAL(after["items"][0]["liveDeploymentId"], created->id);
  // A new environment, and its host now taken.
  create_env("stage", "stage.shop.example.test");
  auto two = list();
  CAF_CHECK_EQUAL(two["total"], 2);
  auto clash = call("POST", list_path(), alice_token,
                    R"({"name":"other","type":"staging","domain":"stage.shop.example.test"})");
  CAF_CHECK_EQUAL(clash.status, 409);
}

CAF_TEST(a kept page is shown to its owner only) {
  create_env("prod", "shop.example.test");
  list();
  list(); // kept
  auto theirs = call("GET", list_path(), bob_token);
  CAF_CHECK_EQUAL(theirs.status, 404);
  CAF_CHECK(theirs.raw.find("shop.example.test") == std::string::npos);
  auto bad_page = call("GET", list_path() + "?limit=0", alice_token);
  CAF_CHECK_EQUAL(bad_page.status, 400);
  auto bobs_bad_page = call("GET", list_path() + "?limit=0", bob_token);
  CAF_CHECK_EQUAL(bobs_bad_page.status, 404); // not-found comes before the page's check
}

CAF_TEST_FIXTURE_SCOPE_END()
