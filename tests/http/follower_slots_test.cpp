// Live log followers (SSE) are capped per user and in total: the slots alone,
// then 100 followers held against a real `gilgal serve` whose deployments wait
// for a node that never comes (--no-local-node), so their logs stay open.
#define CAF_SUITE http.follower_slots
#include <caf/test/unit_test.hpp>

#include <memory>
#include <thread>
#include <vector>

#include "http/follower_slots.hpp"
#include "protocol/error.hpp"
#include "tests/http/api_support.hpp"
#include "tests/http/raw_client.hpp"

using namespace gilgal;
using namespace gilgal::test;
using nlohmann::json;

namespace {

using clock_type = std::chrono::steady_clock;

/// A follower's connection, open while it lives; `status` its answer's status.
struct follower {
  std::unique_ptr<raw_connection> conn;
  std::string answer;
  int status = 0;
};

follower follow(int port, const std::string& token, const std::string& deployment_id) {
  follower f;
  f.conn = std::make_unique<raw_connection>(port);
  if (!f.conn->connected())
    return f;
  f.conn->send_all("GET /api/deployments/" + deployment_id
                   + "/logs?follow=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                   + token + "\r\n\r\n");
  f.answer = f.conn->read_head(clock_type::now() + std::chrono::seconds(5));
  f.status = status_of(f.answer);
  if (f.status != 200) // a refusal: read its JSON body too
    f.answer += f.conn->read_body(f.answer, clock_type::now() + std::chrono::seconds(5));
  return f;
}

/// A deployment that stays pending: no node will ever build it.
std::string waiting_deployment(httplib::Client& cli, const std::string& token,
                               const std::string& name) {
  auto project = make_project(cli, token, name);
  auto env = make_environment(cli, token, project, "production");
  auto r = call(cli, "POST", "/api/projects/" + project + "/deployments", token,
                json{{"environmentId", env}, {"commitSha", std::string(40, 'a')}});
  if (r.status != 201 && r.status != 202)
    throw std::runtime_error("cannot trigger a deployment: " + r.describe());
  return r.body["id"].get<std::string>();
}

server_options without_nodes() {
  server_options o;
  o.extra_args = {"--no-local-node"};
  return o;
}

} // namespace

CAF_TEST(slots are counted per user and in total and come back) {
  auto slots = std::make_shared<follower_slots>(2, 3);
  auto a1 = slots->acquire("alice");
  auto a2 = slots->acquire("alice");
  CAF_REQUIRE(a1 && a2);
  auto a3 = slots->acquire("alice");
  CAF_REQUIRE(!a3);
  CAF_CHECK_EQUAL(code_of(a3.error()), errc::too_many_requests);
  CAF_CHECK(message_of(a3.error()).find("per-user") != std::string::npos);
  auto b1 = slots->acquire("bob");
  CAF_REQUIRE(b1);
  auto b2 = slots->acquire("bob");
  CAF_REQUIRE(!b2);
  CAF_CHECK(message_of(b2.error()).find("maximum of 3") != std::string::npos);
  CAF_CHECK_EQUAL(slots->active(), 3);
  a1->reset(); // a follower ends
  CAF_CHECK_EQUAL(slots->active(), 2);
  auto b3 = slots->acquire("bob");
  CAF_CHECK(b3);
  a2->reset();
  b1->reset();
  b3->reset();
  CAF_CHECK_EQUAL(slots->active(), 0);
}

CAF_TEST(the 101st follower gets 429 while the api still answers within a second) {
  gilgal_server srv{without_nodes()};
  auto cli = srv.client();
  std::vector<std::string> tokens{srv.token()};
  for (int i = 1; i < 6; ++i)
    tokens.push_back(srv.create_user("user" + std::to_string(i)));
  std::vector<std::string> deployments;
  for (size_t i = 0; i < tokens.size(); ++i)
    deployments.push_back(waiting_deployment(*cli, tokens[i], "app" + std::to_string(i)));

  std::vector<follower> held;
  // 20 followers of one user (the default per-user cap), then a 21st: 429.
  for (int i = 0; i < 20; ++i) {
    held.push_back(follow(srv.port(), tokens[0], deployments[0]));
    CHECK_WHY(held.back().status == 200, held.back().answer.substr(0, 300));
  }
  auto over_user = follow(srv.port(), tokens[0], deployments[0]);
  CHECK_WHY(over_user.status == 429, over_user.answer.substr(0, 300));
  CAF_CHECK(over_user.answer.find("Retry-After:") != std::string::npos);
  CAF_CHECK(over_user.answer.find("per-user") != std::string::npos);
  // A runtime-log follower counts against the same budget.
  {
    auto d = call(*cli, "GET", "/api/deployments/" + deployments[0], tokens[0]);
    CAF_REQUIRE_EQUAL(d.status, 200);
    auto env = d.body["environmentId"].get<std::string>();
    auto app = call(*cli, "GET", "/api/environments/" + env + "/logs?follow=1", tokens[0]);
    CHECK_WHY(app.status == 429, app.describe());
    CAF_CHECK(!app.header("Retry-After").empty());
  }
  // 80 more from four other users: 100 in all, the server-wide default.
  for (size_t u = 1; u < 5; ++u)
    for (int i = 0; i < 20; ++i) {
      held.push_back(follow(srv.port(), tokens[u], deployments[u]));
      CHECK_WHY(held.back().status == 200, held.back().answer.substr(0, 300));
    }
  CAF_REQUIRE_EQUAL(held.size(), 100u);
  auto over_all = follow(srv.port(), tokens[5], deployments[5]);
  CHECK_WHY(over_all.status == 429, over_all.answer.substr(0, 300));
  CAF_CHECK(over_all.answer.find("Retry-After:") != std::string::npos);
  CAF_CHECK(over_all.answer.find("too_many_requests") != std::string::npos);

  // The API still answers promptly with every follower streaming.
  for (std::string path : {"/healthz", "/api/projects"}) {
    auto start = clock_type::now();
    auto r = call(*cli, "GET", path, tokens[5]);
    auto took = clock_type::now() - start;
    CHECK_WHY(r.status == 200, path + ": " + r.describe());
    CAF_CHECK_LESS(took, std::chrono::seconds(1));
  }

  // A follower that leaves frees its slot: a new one is admitted (awaited,
  // the server notices the closed connection at its next write or keepalive).
  held.pop_back();
  auto deadline = clock_type::now() + std::chrono::seconds(30);
  int status = 0;
  while (clock_type::now() < deadline) {
    auto again = follow(srv.port(), tokens[5], deployments[5]);
    status = again.status;
    if (status == 200) {
      held.push_back(std::move(again));
      break;
    }
    CAF_REQUIRE_EQUAL(status, 429);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CAF_CHECK_EQUAL(status, 200);
}
