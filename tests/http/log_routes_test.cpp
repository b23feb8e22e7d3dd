// Hostile output through a real `gilgal serve` and real Docker: a container
// that prints invalid UTF-8 and terminal escapes while its log is followed
// over SSE (the server stays up, the stream stays valid), and an app that
// prints 100 MB at build and at run time (the stored log stops at its cap
// with one "log truncated" line; Docker's log of the app is rotated). And what
// a client written from the seed reads (the whole log, the seed's field names).
#define CAF_SUITE http.log_routes
#include <caf/test/unit_test.hpp>

#include <sys/stat.h>
#include <thread>

#include "nodes/docker_client.hpp"
#include "protocol/ids.hpp"
#include "protocol/utf8.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/test_images.hpp"
#include "tests/http/api_support.hpp"

using namespace gilgal;
using namespace gilgal::test;
using nlohmann::json;

namespace {

struct fixture {
  docker_client docker{docker_host_or_default()};
  git_repo repo;
  std::unique_ptr<gilgal_server> srv;
  std::unique_ptr<httplib::Client> cli;
  std::string token;
  std::string project_id;
  std::string environment_id;

  fixture() {
    CAF_REQUIRE(ensure_busybox_image(docker));
  }

  void start(std::vector<std::string> extra = {}) {
    server_options o;
    o.allow_local_sources = true;
    o.extra_args = {"--docker-host", docker_host_or_default()};
    o.extra_args.insert(o.extra_args.end(), extra.begin(), extra.end());
    srv = std::make_unique<gilgal_server>(o);
    cli = srv->client();
    token = srv->token();
    auto p = call(*cli, "POST", "/api/projects", token,
                  json{{"name", "loud"}, {"repositoryUrl", repo.path()}});
    CAF_REQUIRE_EQUAL(p.status, 201);
    project_id = p.body["id"].get<std::string>();
    auto r = call(*cli, "POST", "/api/projects/" + project_id + "/environments", token,
                  json{{"name", "production"},
                       {"type", "production"},
                       {"healthCheck", {{"timeoutSeconds", 120}}}});
    CAF_REQUIRE_EQUAL(r.status, 201);
    environment_id = r.body["id"].get<std::string>();
  }

  ~fixture() {
    if (!project_id.empty())
      if (auto list = docker.list_containers({"gilgal.project=" + project_id}, true))
        for (auto& c : *list)
          docker.remove_container(c.id, true, true);
  }

  std::string deploy() {
    auto r = call(*cli, "POST", "/api/projects/" + project_id + "/deployments", token,
                  json{{"environmentId", environment_id}});
    CAF_REQUIRE_EQUAL(r.status, 201);
    return r.body["id"].get<std::string>();
  }

  json await_end(const std::string& id) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    for (;;) {
      auto d = call(*cli, "GET", "/api/deployments/" + id, token);
      CAF_REQUIRE_EQUAL(d.status, 200);
      auto st = d.body["status"].get<std::string>();
      if (st != "pending" && st != "building")
        return d.body;
      CAF_REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  /// The SSE stream of a deployment's log, read to its end.
  std::string follow(const std::string& id) {
    std::string body;
    auto c = srv->client();
    c->set_read_timeout(300, 0);
    auto res = c->Get(("/api/deployments/" + id + "/logs?follow=1").c_str(),
                      httplib::Headers{{"Authorization", "Bearer " + token}},
                      [&](const char* data, size_t n) {
                        body.append(data, n);
                        return true;
                      });
    CAF_REQUIRE(res);
    CAF_CHECK_EQUAL(res->status, 200);
    return body;
  }

  bool healthy() {
    auto res = srv->client()->Get("/healthz");
    return res && res->status == 200;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(log_routes_tests, fixture)

CAF_TEST(invalid UTF-8 from a followed container leaves the server up) {
  start();
  repo.commit({{"Dockerfile",
                "FROM gilgal-test/busybox:latest\n"
                "RUN echo " + new_uuid() + " && printf 'build says \\377\\376 and \\033[2J\\n'\n"
                "CMD [\"/bin/sh\", \"-c\", \"printf 'app says \\\\377\\\\033]0;pwned\\\\007\\\\n'; "
                "exit 3\"]\n"}});
  auto id = deploy();
  auto stream = follow(id); // live from the start, while the lines arrive
  CAF_CHECK(srv->running());
  CAF_CHECK(healthy());
  CAF_MESSAGE("stream of " << stream.size() << " bytes:\n" << stream);
  CAF_CHECK(is_valid_utf8(stream));
  CAF_CHECK(stream.find("event: end\ndata: {\"status\":\"failed\"}") != std::string::npos);
  // The container's own bytes: U+FFFD for \377, escapes visible as text.
  CAF_CHECK(stream.find("app says \xEF\xBF\xBD\\\\x1b]0;pwned\\\\x07") != std::string::npos);
  CAF_CHECK(stream.find("\x1b") == std::string::npos);
  auto d = await_end(id);
  CAF_CHECK_EQUAL(d["status"], "failed");
  // The JSON log and the stream again, after the end, agree.
  auto logs = call(*cli, "GET", "/api/deployments/" + id + "/logs?limit=100", token);
  CAF_REQUIRE_EQUAL(logs.status, 200);
  CAF_CHECK(logs.raw.find("app says \xEF\xBF\xBD") != std::string::npos);
  CAF_CHECK(logs.raw.find("build says \xEF\xBF\xBD\xEF\xBF\xBD and \\\\x1b[2J")
            != std::string::npos);
  CAF_CHECK(is_valid_utf8(follow(id)));
  CAF_CHECK(srv->running());
}

CAF_TEST(an app printing 100 MB neither grows the database past the cap nor the disk of Docker) {
  start({"--log-max-lines", "5000", "--log-max-mb", "4", "--container-log-max-mb", "1",
         "--container-log-max-files", "2"});
  // 100 MB in lines of 65 bytes at build time, and again at run time before
  // the app starts serving.
  // The echo of a fresh id keeps Docker's build cache from skipping the step.
  const std::string flood = "echo " + new_uuid()
                            + " && yes 0123456789abcdef0123456789abcdef0123456789abcdef01234567"
                              " | head -c 100000000";
  repo.commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\n"
                              "RUN " + flood + "\n"
                              "COPY www /www\n"
                              "CMD [\"/bin/sh\", \"-c\", \"" + flood
                                + "; exec httpd -f -p $PORT -h /www\"]\n"},
               {"www/index.html", "quiet now\n"}});
  auto id = deploy();
  auto d = await_end(id);
  CAF_REQUIRE_EQUAL(d["status"], "success");
  CAF_CHECK(srv->running());
  // The stored log: at most the cap, ending with the truncation line.
  auto first = call(*cli, "GET", "/api/deployments/" + id + "/logs?limit=1", token);
  CAF_REQUIRE_EQUAL(first.status, 200);
  auto total = first.body["total"].get<int64_t>();
  CAF_MESSAGE(total << " log lines stored");
  CAF_CHECK_LESS_OR_EQUAL(total, 5001);
  auto tail = call(*cli, "GET",
                   "/api/deployments/" + id + "/logs?limit=1&page=" + std::to_string(total),
                   token);
  CAF_REQUIRE_EQUAL(tail.status, 200);
  CAF_CHECK(tail.raw.find("log truncated") != std::string::npos);
  struct stat st {};
  int64_t db_bytes = 0;
  for (auto suffix : {"", "-wal"})
    if (::stat((srv->data_dir() + "/gilgal.db" + suffix).c_str(), &st) == 0)
      db_bytes += st.st_size;
  CAF_MESSAGE("database files: " << db_bytes << " bytes");
  CAF_CHECK_LESS(db_bytes, int64_t{24} << 20);
  // Docker keeps at most 2 files of 1 MiB of the app's output.
  auto container = d["containerId"].get<std::string>();
  auto info = docker.inspect_container(container);
  CAF_REQUIRE(info);
  docker_client::request req;
  req.path = "/containers/" + container + "/json";
  auto raw = docker.perform(req);
  CAF_REQUIRE(raw);
  auto log_config = json::parse(raw->body)["HostConfig"]["LogConfig"];
  CAF_CHECK_EQUAL(log_config["Type"], "json-file");
  CAF_CHECK_EQUAL(log_config["Config"]["max-size"], "1m");
  CAF_CHECK_EQUAL(log_config["Config"]["max-file"], "2");
  req.path = "/containers/" + container + "/logs?stdout=1&stderr=1&tail=all";
  auto kept = docker.perform(req);
  CAF_REQUIRE(kept);
  CAF_MESSAGE("Docker keeps " << kept->body.size() << " bytes of the app's 100 MB");
  CAF_CHECK_LESS(kept->body.size(), size_t{3} << 20);
  // The app serves.
  httplib::Client app{"127.0.0.1", d["port"].get<int>()};
  auto page = app.Get("/");
  CAF_REQUIRE(page);
  CAF_CHECK_EQUAL(page->body, "quiet now\n");
}

CAF_TEST_FIXTURE_SCOPE_END()

// -- what a client written from the seed reads -----------------------------
// Without paging parameters the whole log (up to 1,000 lines), with them one
// page; GET /api/deployments/:id with the seed's own field names; the last
// line names the container. A real deployment whose build prints 1,200 lines.

namespace {

server_options seed_server_options() {
  server_options o;
  o.allow_local_sources = true;
  o.extra_args = {"--docker-host", docker_host_or_default()};
  return o;
}

struct seed_fixture {
  docker_client docker{docker_host_or_default()};
  git_repo repo;
  gilgal_server srv{seed_server_options()};
  std::unique_ptr<httplib::Client> cli = srv.client();
  std::string token = srv.token();
  std::string project_id;

  seed_fixture() {
    CAF_REQUIRE(ensure_busybox_image(docker));
    // The salt defeats Docker's layer cache: the RUN step must print every time.
    auto salt = std::to_string(::getpid()) + "-"
                + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    repo.commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\n"
                                "RUN echo salt " + salt + " && seq 1 1200\n"
                                "COPY www /www\n"
                                "CMD [\"/bin/sh\", \"-c\", \"exec httpd -f -p $PORT -h /www\"]\n"},
                 {"www/index.html", "long log\n"}});
    auto p = call(*cli, "POST", "/api/projects", token,
                  json{{"name", "long-log"}, {"repositoryUrl", repo.path()}});
    CAF_REQUIRE_EQUAL(p.status, 201);
    project_id = p.body["id"];
  }

  ~seed_fixture() {
    if (auto list = docker.list_containers({"gilgal.project=" + project_id}, true))
      for (auto& c : *list)
        docker.remove_container(c.id, true, true);
    if (auto images = docker.list_images({"gilgal.project=" + project_id}))
      for (auto& img : *images)
        docker.remove_image(img.id, true);
  }

  json deploy() {
    auto env = make_environment(*cli, token, project_id, "production");
    auto r = call(*cli, "POST", "/api/projects/" + project_id + "/deployments", token,
                  json{{"environmentId", env}});
    CAF_REQUIRE_EQUAL(r.status, 201);
    auto id = r.body["id"].get<std::string>();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    for (;;) {
      auto d = call(*cli, "GET", "/api/deployments/" + id, token);
      CAF_REQUIRE_EQUAL(d.status, 200);
      auto st = d.body["status"].get<std::string>();
      if (st != "pending" && st != "building")
        return d.body;
      CAF_REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(seed_log_routes, seed_fixture)

CAF_TEST(the seed reads the whole log and its own field names) {
  auto d = deploy();
  CAF_REQUIRE_EQUAL(d["status"], "success");
  auto id = d["id"].get<std::string>();

  // The seed's names next to the camelCase ones, with the same values.
  CAF_REQUIRE(d["duration_seconds"].is_number_integer());
  CAF_CHECK_EQUAL(d["duration_seconds"].get<int64_t>(),
                  static_cast<int64_t>(std::llround(d["durationSeconds"].get<double>())));
  CAF_CHECK(d["container_id"].is_string());
  CAF_CHECK_EQUAL(d["container_id"], d["containerId"]);
  CAF_CHECK(d["deployed_at"].is_string());
  CAF_CHECK_EQUAL(d["deployed_at"], d["deployedAt"]);

  // Without paging parameters: the first 1,000 lines at once, in order.
  auto whole = call(*cli, "GET", "/api/deployments/" + id + "/logs", token);
  CAF_REQUIRE_EQUAL(whole.status, 200);
  auto total = whole.body["total"].get<int64_t>();
  CAF_CHECK_GREATER(total, 1200);
  CAF_REQUIRE_EQUAL(whole.body["items"].size(), 1000u);
  CAF_CHECK_EQUAL(whole.body["limit"], 1000);
  CAF_CHECK_EQUAL(whole.body["hasMore"], true);
  for (size_t i = 0; i < 1000; ++i)
    CAF_CHECK_EQUAL(whole.body["items"][i]["seq"].get<int64_t>(), static_cast<int64_t>(i + 1));
  CAF_CHECK_EQUAL(whole.body["items"][0]["message"], "Starting deployment pipeline...");
  // The last line names the container, as the seed's pipeline ends.
  auto tail = call(*cli, "GET", "/api/deployments/" + id + "/logs?page=" + std::to_string(total)
                                  + "&limit=1",
                   token);
  CAF_REQUIRE_EQUAL(tail.body["items"].size(), 1u);
  auto last = tail.body["items"][0]["message"].get<std::string>();
  CAF_CHECK_EQUAL(last.rfind("Deployment completed successfully in ", 0), 0u);
  CAF_CHECK(last.find("container " + d["containerId"].get<std::string>().substr(0, 12))
            != std::string::npos);

  // Paging still works, and still caps a page at 100 lines.
  auto second = call(*cli, "GET", "/api/deployments/" + id + "/logs?page=2&limit=100", token);
  CAF_REQUIRE_EQUAL(second.status, 200);
  CAF_REQUIRE_EQUAL(second.body["items"].size(), 100u);
  CAF_CHECK_EQUAL(second.body["items"][0]["seq"], 101);
  auto only_limit = call(*cli, "GET", "/api/deployments/" + id + "/logs?limit=5", token);
  CAF_CHECK_EQUAL(only_limit.body["items"].size(), 5u);
  auto only_page = call(*cli, "GET", "/api/deployments/" + id + "/logs?page=2", token);
  CAF_REQUIRE_EQUAL(only_page.body["items"].size(), 20u); // the default page size
  CAF_CHECK_EQUAL(only_page.body["items"][0]["seq"], 21);
  auto too_many = call(*cli, "GET", "/api/deployments/" + id + "/logs?limit=1000", token);
  CAF_CHECK_EQUAL(too_many.status, 400);
}

CAF_TEST_FIXTURE_SCOPE_END()
