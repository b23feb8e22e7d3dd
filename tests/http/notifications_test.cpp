// Notifications out through a real `gilgal serve`: a local receiver
// (cpp-httplib on a free port of 127.0.0.1) refuses each delivery twice and
// then accepts it; the server retries with backoff and records every attempt.
// One case deploys for real (Docker, a local git repository), one fails fast
// (no such repository). Signatures are checked here with OpenSSL's HMAC.
// Without --allow-private-targets a loopback receiver is refused when it is
// set; the secret shows once, and the history is its owner's only.
#define CAF_SUITE http.notifications
#include <caf/test/unit_test.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "nodes/docker_client.hpp"
#include "protocol/ids.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"
#include "tests/http/api_support.hpp"

using namespace gilgal;
using namespace gilgal::test;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

// Retries wait 1 s, 2 s, ... on a loaded machine: more than CAF test's 30 s
// default watchdog may pass. The command line's -r still wins.
const bool notifications_watchdog = [] {
  caf::test::engine::max_runtime(120);
  return true;
}();

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

/// One request the receiver saw.
struct received {
  std::string delivery;
  std::string event;
  std::string signature;
  std::string body;
  int answered = 0;
};

/// A receiver that answers 500 to the first two requests of each delivery id
/// and 200 to the rest.
class flaky_receiver {
public:
  flaky_receiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> guard{mtx_};
      received r{req.get_header_value("X-Gilgal-Delivery"),
                 req.get_header_value("X-Gilgal-Event"),
                 req.get_header_value("X-Gilgal-Signature-256"), req.body, 0};
      r.answered = ++tries_[r.delivery] <= 2 ? 500 : 200;
      res.status = r.answered;
      seen_.push_back(std::move(r));
      cv_.notify_all();
    });
    port_ = free_port();
    if (!server_.bind_to_port("127.0.0.1", port_))
      throw std::runtime_error("receiver cannot bind its port");
    thread_ = std::thread{[this] { server_.listen_after_bind(); }};
    auto ready_by = clock_type::now() + std::chrono::seconds(5);
    while (!server_.is_running() && clock_type::now() < ready_by)
      std::this_thread::yield();
  }

  ~flaky_receiver() {
    server_.stop();
    thread_.join();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/hook";
  }

  /// Waits until `n` requests were accepted (200); false at the deadline.
  bool await_accepted(size_t n, std::chrono::seconds deadline) {
    std::unique_lock<std::mutex> guard{mtx_};
    return cv_.wait_for(guard, deadline, [&] {
      size_t ok = 0;
      for (auto& r : seen_)
        ok += r.answered == 200 ? 1 : 0;
      return ok >= n;
    });
  }

  std::vector<received> seen() {
    std::lock_guard<std::mutex> guard{mtx_};
    return seen_;
  }

private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::map<std::string, int> tries_;
  std::vector<received> seen_;
};

server_options private_targets() {
  server_options o;
  o.allow_local_sources = true;
  o.extra_args = {"--allow-private-targets", "--docker-host", docker_host_or_default()};
  return o;
}

const char* web_dockerfile = R"(FROM gilgal-test/busybox:latest
COPY www /www
CMD ["/bin/sh", "-c", "exec httpd -f -p $PORT -h /www"]
)";

/// The deployment `id` once it has ended (3 minutes at most).
json await_end(httplib::Client& cli, const std::string& token, const std::string& id) {
  auto deadline = clock_type::now() + std::chrono::minutes(3);
  for (;;) {
    auto d = call(cli, "GET", "/api/deployments/" + id, token);
    CAF_REQUIRE_EQUAL(d.status, 200);
    auto st = d.body["status"].get<std::string>();
    if (st != "pending" && st != "building")
      return d.body;
    CAF_REQUIRE(clock_type::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

/// The project's delivery history once it holds `n` attempts (10 s at most:
/// the last attempt is recorded right after the receiver answered it).
json await_history(httplib::Client& cli, const std::string& token,
                   const std::string& project_id, size_t n) {
  json items;
  auto deadline = clock_type::now() + std::chrono::seconds(10);
  for (;;) {
    auto r = call(cli, "GET", "/api/projects/" + project_id + "/notifications/deliveries",
                  token);
    CAF_REQUIRE_EQUAL(r.status, 200);
    items = r.body["items"];
    if (items.size() >= n || clock_type::now() > deadline)
      return items;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

/// Removes the containers and images of a project (before its server stops:
/// a server stopping with a live container can stall).
void remove_app(docker_client& docker, const std::string& project_id) {
  if (auto list = docker.list_containers({"gilgal.project=" + project_id}, true))
    for (auto& c : *list)
      docker.remove_container(c.id, true, true);
  if (auto nets = docker.list_networks({"gilgal.project=" + project_id}))
    for (auto& n : *nets)
      docker.remove_network(n);
  if (auto images = docker.list_images({"gilgal.project=" + project_id}))
    for (auto& i : *images)
      docker.remove_image(i.id, true);
}

} // namespace

CAF_TEST(a real deployment is notified once after two refused attempts with a valid signature) {
  docker_client docker{docker_host_or_default()};
  CAF_REQUIRE(ensure_busybox_image(docker));
  git_repo repo;
  auto sha = repo.commit({{"Dockerfile", web_dockerfile}, {"www/index.html", "notified"}},
                         "web page");
  flaky_receiver receiver;
  gilgal_server srv{private_targets()};
  auto cli = srv.client();
  cli->set_read_timeout(60, 0);
  auto alice = srv.token();
  auto created = call(*cli, "POST", "/api/projects", alice,
                      json{{"name", "web"},
                           {"repositoryUrl", repo.path()},
                           {"notifications",
                            {{{"url", receiver.url()}, {"events", {"deployment.succeeded"}}}}}});
  CAF_REQUIRE_EQUAL(created.status, 201);
  auto project_id = created.body["id"].get<std::string>();
  auto secret = created.body["notificationSecret"].get<std::string>();
  CAF_REQUIRE_EQUAL(secret.size(), 64u);
  auto env = call(*cli, "POST", "/api/projects/" + project_id + "/environments", alice,
                  json{{"name", "production"}, {"type", "production"}});
  CAF_REQUIRE_EQUAL(env.status, 201);
  auto env_id = env.body["id"].get<std::string>();
  auto dep = call(*cli, "POST", "/api/projects/" + project_id + "/deployments", alice,
                  json{{"environmentId", env_id}, {"commitSha", sha}});
  CAF_REQUIRE_EQUAL(dep.status, 201);
  auto dep_id = dep.body["id"].get<std::string>();
  auto final_record = await_end(*cli, alice, dep_id);
  CAF_REQUIRE_EQUAL(final_record["status"], "success");
  // Refused after 0 s and 1 s, accepted after 2 s more.
  CAF_REQUIRE(receiver.await_accepted(1, std::chrono::seconds(60)));
  auto items = await_history(*cli, alice, project_id, 3);
  auto seen = receiver.seen();
  CAF_REQUIRE_EQUAL(seen.size(), 3u); // one delivery, three attempts, nothing more
  CAF_CHECK_EQUAL(seen[0].answered, 500);
  CAF_CHECK_EQUAL(seen[1].answered, 500);
  CAF_CHECK_EQUAL(seen[2].answered, 200);
  auto delivery = seen[0].delivery;
  CAF_CHECK(is_uuid(delivery));
  for (auto& r : seen) {
    CAF_CHECK_EQUAL(r.delivery, delivery);
    CAF_CHECK_EQUAL(r.event, "deployment.succeeded");
    CAF_CHECK_EQUAL(r.body, seen[0].body); // the same delivery each time
    CAF_CHECK_EQUAL(r.signature, "sha256=" + openssl_hmac_hex(secret, r.body));
    CAF_CHECK_NOT_EQUAL(r.signature, "sha256=" + openssl_hmac_hex(secret + "x", r.body));
  }
  auto payload = json::parse(seen[2].body);
  CAF_CHECK_EQUAL(payload["event"], "deployment.succeeded");
  CAF_CHECK_EQUAL(payload["deliveryId"], delivery);
  CAF_CHECK_EQUAL(payload["deployment"]["id"], dep_id);
  CAF_CHECK_EQUAL(payload["deployment"]["status"], "success");
  CAF_CHECK_EQUAL(payload["deployment"]["commitSha"], sha);
  CAF_CHECK_EQUAL(payload["deployment"]["containerId"], final_record["containerId"]);
  CAF_CHECK_EQUAL(payload["project"]["id"], project_id);
  CAF_CHECK_EQUAL(payload["project"]["name"], "web");
  CAF_CHECK_EQUAL(payload["environment"]["id"], env_id);
  CAF_CHECK_EQUAL(payload["environment"]["name"], "production");
  CAF_CHECK(payload["durationSeconds"].is_number());
  CAF_CHECK_EQUAL(payload["durationSeconds"], final_record["durationSeconds"]);
  // The URL the environment is served at, as the API shows it (null: this
  // server runs no proxy).
  auto env_now = call(*cli, "GET", "/api/environments/" + env_id, alice);
  CAF_REQUIRE_EQUAL(env_now.status, 200);
  CAF_CHECK(payload.contains("url"));
  CAF_CHECK_EQUAL(payload["url"], env_now.body["url"]);
  // The history: the three attempts, newest first.
  CAF_REQUIRE_EQUAL(items.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    auto& a = items[i];
    CAF_CHECK_EQUAL(a["deliveryId"], delivery);
    CAF_CHECK_EQUAL(a["deploymentId"], dep_id);
    CAF_CHECK_EQUAL(a["event"], "deployment.succeeded");
    CAF_CHECK_EQUAL(a["url"], receiver.url());
    CAF_CHECK_EQUAL(a["attempt"], 3 - static_cast<int>(i));
    CAF_CHECK_EQUAL(a["success"], i == 0);
    CAF_CHECK_EQUAL(a["statusCode"], i == 0 ? 200 : 500);
  }
  remove_app(docker, project_id);
  // Shown once: not in the log, nor in any later answer.
  auto listed = call(*cli, "GET", "/api/projects", alice);
  CAF_CHECK(listed.raw.find(secret) == std::string::npos);
  CAF_CHECK(srv.log().find(secret) == std::string::npos);
}

CAF_TEST(a failed deployment notifies its start and its failure after retries) {
  flaky_receiver receiver;
  gilgal_server srv{private_targets()};
  auto cli = srv.client();
  auto alice = srv.token();
  // A repository that does not exist: the deployment fails fast, without Docker.
  auto created = call(*cli, "POST", "/api/projects", alice,
                      json{{"name", "app"},
                           {"repositoryUrl", "/nonexistent/" + new_uuid()},
                           {"notifications",
                            {{{"url", receiver.url()},
                              {"events", {"deployment.started", "deployment.failed"}}}}}});
  CAF_REQUIRE_EQUAL(created.status, 201);
  auto project_id = created.body["id"].get<std::string>();
  CAF_CHECK_EQUAL(created.body["notifications"][0]["url"], receiver.url());
  auto secret = created.body["notificationSecret"].get<std::string>();
  CAF_CHECK_EQUAL(secret.size(), 64u);
  // Shown once: later answers do not carry it.
  auto again = call(*cli, "GET", "/api/projects/" + project_id, alice);
  CAF_CHECK(!again.body.contains("notificationSecret"));
  auto env = make_environment(*cli, alice, project_id, "production");
  auto dep = call(*cli, "POST", "/api/projects/" + project_id + "/deployments", alice,
                  json{{"environmentId", env}, {"commitSha", std::string(40, 'a')}});
  CAF_REQUIRE_EQUAL(dep.status, 201);
  auto dep_id = dep.body["id"].get<std::string>();
  // Two events, each accepted on its third try (after 1 s and 2 s).
  CAF_REQUIRE(receiver.await_accepted(2, std::chrono::seconds(60)));
  auto seen = receiver.seen();
  std::map<std::string, std::vector<received>> by_delivery;
  for (auto& r : seen)
    by_delivery[r.delivery].push_back(r);
  CAF_REQUIRE_EQUAL(by_delivery.size(), 2u);
  std::map<std::string, json> accepted; // event -> payload
  for (auto& [id, tries] : by_delivery) {
    CAF_CHECK(is_uuid(id));
    CAF_REQUIRE_EQUAL(tries.size(), 3u);
    CAF_CHECK_EQUAL(tries[0].answered, 500);
    CAF_CHECK_EQUAL(tries[2].answered, 200);
    for (auto& t : tries) {
      CAF_CHECK_EQUAL(t.body, tries[0].body); // the same delivery each time
      CAF_CHECK_EQUAL(t.signature, "sha256=" + openssl_hmac_hex(secret, t.body));
    }
    auto payload = json::parse(tries[2].body);
    CAF_CHECK_EQUAL(payload["deliveryId"], id);
    CAF_CHECK_EQUAL(payload["event"], tries[2].event);
    accepted[tries[2].event] = payload;
  }
  CAF_REQUIRE_EQUAL(accepted.count("deployment.started"), 1u);
  CAF_REQUIRE_EQUAL(accepted.count("deployment.failed"), 1u);
  auto failed = accepted["deployment.failed"];
  CAF_CHECK_EQUAL(failed["deployment"]["id"], dep_id);
  CAF_CHECK_EQUAL(failed["deployment"]["status"], "failed");
  CAF_CHECK_EQUAL(failed["project"]["id"], project_id);
  CAF_CHECK_EQUAL(failed["project"]["name"], "app");
  CAF_CHECK_EQUAL(failed["environment"]["id"], env);
  CAF_CHECK_EQUAL(failed["environment"]["name"], "production");
  CAF_CHECK(failed["url"].is_null()); // no proxy
  CAF_CHECK(failed["durationSeconds"].is_number());
  // The history: three attempts per delivery, newest first.
  auto items = await_history(*cli, alice, project_id, 6);
  CAF_REQUIRE_EQUAL(items.size(), 6u);
  int successes = 0;
  for (auto& a : items) {
    CAF_CHECK_EQUAL(a["url"], receiver.url());
    CAF_CHECK_EQUAL(a["deploymentId"], dep_id);
    CAF_CHECK(by_delivery.count(a["deliveryId"].get<std::string>()) == 1);
    if (a["success"].get<bool>()) {
      ++successes;
      CAF_CHECK_EQUAL(a["statusCode"], 200);
      CAF_CHECK_EQUAL(a["attempt"], 3);
    } else {
      CAF_CHECK_EQUAL(a["statusCode"], 500);
    }
  }
  CAF_CHECK_EQUAL(successes, 2);
  // A rotated secret signs what is sent from then on.
  auto rotated = call(*cli, "POST", "/api/projects/" + project_id + "/notifications/secret",
                      alice, std::optional<std::string>{});
  CAF_REQUIRE_EQUAL(rotated.status, 201);
  auto new_secret = rotated.body["secret"].get<std::string>();
  CAF_CHECK_EQUAL(new_secret.size(), 64u);
  CAF_CHECK_NOT_EQUAL(new_secret, secret);
  auto second = call(*cli, "POST", "/api/projects/" + project_id + "/deployments", alice,
                     json{{"environmentId", env}, {"commitSha", std::string(40, 'b')}});
  CAF_REQUIRE_EQUAL(second.status, 201);
  auto second_id = second.body["id"].get<std::string>();
  CAF_REQUIRE(receiver.await_accepted(4, std::chrono::seconds(60)));
  size_t checked = 0;
  for (auto& r : receiver.seen()) {
    auto payload = json::parse(r.body);
    if (payload["deployment"]["id"] != second_id)
      continue;
    ++checked;
    CAF_CHECK_EQUAL(r.signature, "sha256=" + openssl_hmac_hex(new_secret, r.body));
  }
  CAF_CHECK_GREATER_OR_EQUAL(checked, 6u);
  CAF_CHECK(srv.log().find(secret) == std::string::npos);
  CAF_CHECK(srv.log().find(new_secret) == std::string::npos);
}

CAF_TEST(notification urls obey the ssrf rules of repositories) {
  gilgal_server srv; // without --allow-private-targets
  auto cli = srv.client();
  auto alice = srv.token();
  auto id = make_project(*cli, alice, "app");
  struct bad_case {
    std::string url;
    std::vector<std::string> events;
    std::string field;
  };
  std::vector<bad_case> cases{
    {"http://127.0.0.1:9/hook", {"deployment.failed"}, "notifications[0].url"},
    {"http://localhost/hook", {"deployment.failed"}, "notifications[0].url"},
    {"http://169.254.169.254/latest", {"deployment.failed"}, "notifications[0].url"},
    {"http://10.1.2.3/", {"deployment.failed"}, "notifications[0].url"},
    {"http://[::1]:8080/", {"deployment.failed"}, "notifications[0].url"},
    {"http://2130706433/", {"deployment.failed"}, "notifications[0].url"},
    {"ftp://hooks.example.com/", {"deployment.failed"}, "notifications[0].url"},
    {"https://hooks.example.com/", {"deployment.exploded"}, "notifications[0].events"},
    {"https://hooks.example.com/", {}, "notifications[0].events"},
  };
  for (auto& c : cases) {
    auto r = call(*cli, "PATCH", "/api/projects/" + id, alice,
                  json{{"notifications", {{{"url", c.url}, {"events", c.events}}}}});
    CAF_CHECK_EQUAL(r.status, 400);
    CHECK_WHY(r.names_field(c.field), c.url + " -> " + r.describe());
  }
  auto ok = call(*cli, "PATCH", "/api/projects/" + id, alice,
                 json{{"notifications",
                       {{{"url", "https://hooks.example.com/gilgal"},
                         {"events", {"deployment.succeeded"}}}}}});
  CAF_REQUIRE_EQUAL(ok.status, 200);
  CAF_CHECK_EQUAL(ok.body["notifications"].size(), 1u);
  CAF_CHECK_EQUAL(ok.body["notificationSecret"].get<std::string>().size(), 64u);
  auto cleared = call(*cli, "PATCH", "/api/projects/" + id, alice, json{{"notifications", nullptr}});
  CAF_REQUIRE_EQUAL(cleared.status, 200);
  CAF_CHECK(cleared.body["notifications"].empty());
}

CAF_TEST(the secret and the history belong to the owner only) {
  gilgal_server srv;
  auto cli = srv.client();
  auto alice = srv.token();
  auto bob = srv.create_user("bob");
  auto id = make_project(*cli, alice, "app");
  auto hooks = json{{"notifications",
                     {{{"url", "https://hooks.example.com/gilgal"},
                       {"events", {"deployment.failed"}}}}}};
  auto first = call(*cli, "PATCH", "/api/projects/" + id, alice, hooks);
  CAF_REQUIRE_EQUAL(first.status, 200);
  auto secret = first.body["notificationSecret"].get<std::string>();
  // The secret is made once: a later change of the targets does not show it.
  auto again = call(*cli, "PATCH", "/api/projects/" + id, alice, hooks);
  CAF_REQUIRE_EQUAL(again.status, 200);
  CAF_CHECK(!again.body.contains("notificationSecret"));
  auto shown = call(*cli, "GET", "/api/projects/" + id, alice);
  CAF_CHECK(shown.raw.find(secret) == std::string::npos);
  CAF_CHECK(!shown.body.contains("notificationSecret"));
  // Another tenant's project, an unknown id and a malformed one: 404, and
  // nothing rotated.
  for (auto& [who, target] : std::vector<std::pair<std::string, std::string>>{
         {bob, id}, {alice, new_uuid()}, {alice, "not-a-project"}}) {
    auto list = call(*cli, "GET", "/api/projects/" + target + "/notifications/deliveries", who);
    CHECK_WHY(list.status == 404, target + " " + list.describe());
    auto rotate = call(*cli, "POST", "/api/projects/" + target + "/notifications/secret", who,
                       std::optional<std::string>{});
    CHECK_WHY(rotate.status == 404, target + " " + rotate.describe());
    CAF_CHECK(rotate.raw.find(secret) == std::string::npos);
  }
  // No token at all: 401.
  auto anonymous = call(*cli, "GET", "/api/projects/" + id + "/notifications/deliveries", "");
  CAF_CHECK_EQUAL(anonymous.status, 401);
  auto history = call(*cli, "GET", "/api/projects/" + id + "/notifications/deliveries", alice);
  CAF_REQUIRE_EQUAL(history.status, 200);
  CAF_CHECK(history.body["items"].empty());
  CAF_CHECK_EQUAL(history.body["total"], 0);
  CAF_CHECK(srv.log().find(secret) == std::string::npos);
}
