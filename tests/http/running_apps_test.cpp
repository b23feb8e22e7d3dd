// Running apps end to end (issue 12, items 1 and 2): a real `gilgal serve`,
// real Docker, an app deployed from a local git repository that prints a
// marker on stderr for every request to /cgi-bin/hit. Its runtime log (tail
// and follow, across a restart), stop / start / restart, deleting an
// environment and a project, the console's `logs --app` and `stop|start`,
// bad input and other users' ids.
#define CAF_SUITE http.running_apps
#include <caf/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <tuple>

#include "nodes/docker_client.hpp"
#include "protocol/ids.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"
#include "tests/http/app_server.hpp"

using namespace gilgal;
using namespace gilgal::test;
using namespace std::chrono_literals;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

// Builds, health checks and docker stop's grace on a loaded machine.
const bool running_apps_watchdog = [] {
  caf::test::engine::max_runtime(240);
  return true;
}();

// httpd's CGI children inherit its stderr: the container's stderr. SIGUSR1
// (from /cgi-bin/crash, through Docker's init) makes the app exit with code
// 3, which Docker's restart policy answers with a restart.
const char* app_dockerfile = R"(FROM gilgal-test/busybox:latest
COPY www /www
RUN chmod 755 /www/cgi-bin/hit /www/cgi-bin/crash
CMD ["/bin/sh", "-c", "trap 'exit 3' USR1; trap 'exit 0' TERM; echo app-started; httpd -f -p $PORT -h /www & wait"]
)";

// Headers with CRLF and a Content-Length: httplib's client wants both.
const char* hit_script = "#!/bin/sh\n"
                         "echo \"hit-marker $QUERY_STRING\" >&2\n"
                         "body=\"hit $QUERY_STRING\"\n"
                         "printf 'Content-Type: text/plain\\r\\nContent-Length: %d\\r\\n\\r\\n%s\\n' "
                         "$(( ${#body} + 1 )) \"$body\"\n";

// Answers, then has PID 1 (Docker's init, which passes it on) send SIGUSR1.
const char* crash_script = "#!/bin/sh\n"
                           "printf 'Content-Type: text/plain\\r\\nContent-Length: 6\\r\\n\\r\\ncrash\\n'\n"
                           "kill -USR1 1\n";

/// How a started container's first line looks in a follower's events.
const char* started_line = "\"message\":\"app-started\"";

/// The status of GET path on the app (0: no answer).
int app_status(int port, const std::string& path) {
  httplib::Client cli{"127.0.0.1", port};
  cli.set_connection_timeout(1, 0);
  cli.set_read_timeout(3, 0);
  auto res = cli.Get(path.c_str());
  return res ? res->status : 0;
}

/// What one SSE follower of a runtime log received, shared with its thread.
struct followed_log {
  std::mutex mtx;
  std::condition_variable changed;
  std::string text;                // every byte received
  std::atomic<bool> stop{false};
  bool connected = false;

  /// Waits until `needle` was received, up to `limit`; the time it took.
  std::optional<std::chrono::milliseconds> await(const std::string& needle,
                                                 std::chrono::milliseconds limit) {
    auto t0 = clock_type::now();
    std::unique_lock<std::mutex> guard{mtx};
    if (!changed.wait_for(guard, limit,
                          [&] { return text.find(needle) != std::string::npos; }))
      return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0);
  }

  /// Waits until `needle` was received `n` times, up to `limit`; the time it took.
  std::optional<std::chrono::milliseconds> await_count(const std::string& needle, size_t n,
                                                       std::chrono::milliseconds limit) {
    auto t0 = clock_type::now();
    std::unique_lock<std::mutex> guard{mtx};
    if (!changed.wait_for(guard, limit, [&] { return count_locked(needle) >= n; }))
      return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0);
  }

  size_t count(const std::string& needle) {
    std::lock_guard<std::mutex> guard{mtx};
    return count_locked(needle);
  }

  /// How long ago Docker stamped the `n`-th (1-based) line event containing
  /// `needle` (its event id); nullopt if there is none such.
  std::optional<std::chrono::milliseconds> age_of(const std::string& needle, size_t n) {
    std::lock_guard<std::mutex> guard{mtx};
    auto at = text.find(needle);
    for (size_t i = 1; i < n && at != std::string::npos; ++i)
      at = text.find(needle, at + 1);
    if (at == std::string::npos)
      return std::nullopt;
    auto id = text.rfind("id: ", at);
    if (id == std::string::npos)
      return std::nullopt;
    id += 4;
    auto stamp = text.substr(id, text.find('\n', id) - id); // 2026-...T..:..:..[.NNN]Z
    auto dot = stamp.find('.');
    std::chrono::nanoseconds fraction{0};
    std::string whole = stamp;
    if (dot != std::string::npos) {
      auto digits = stamp.substr(dot + 1, stamp.size() - dot - 2);
      digits.resize(9, '0');
      fraction = std::chrono::nanoseconds{std::stoll(digits)};
      whole = stamp.substr(0, dot) + "Z";
    }
    std::chrono::system_clock::time_point t;
    if (!parse_rfc3339(whole, t))
      return std::nullopt;
    auto stamped = t + std::chrono::duration_cast<std::chrono::system_clock::duration>(fraction);
    return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now() - stamped);
  }

private:
  size_t count_locked(const std::string& needle) const {
    size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
      ++n;
    return n;
  }
};

struct fixture : app_server {
  std::unique_ptr<git_repo> repo = std::make_unique<git_repo>();
  std::string project_id;
  std::string env_id;

  fixture() {
    server_options opts;
    opts.allow_local_sources = true;
    start(opts);
  }

  /// Deploys `sha` to the environment; the deployment's record once it succeeded.
  json deploy_commit(const std::string& sha) {
    auto end = deploy(project_id, env_id, sha);
    if (end["status"] != "success")
      CAF_FAIL("deployment ended " << end["status"] << ": " << end.dump());
    return end;
  }

  /// The app's files; `page` is its index page.
  std::string commit_app(const std::string& page) {
    return repo->commit({{"Dockerfile", app_dockerfile},
                         {"www/index.html", page},
                         {"www/cgi-bin/hit", hit_script},
                         {"www/cgi-bin/crash", crash_script}},
                        "app " + page);
  }

  /// A project with one environment, deployed once; returns the app's port.
  int deploy_app() {
    std::tie(project_id, env_id) = create_app("runner", repo->path());
    return deploy_commit(commit_app("ok\n"))["port"].get<int>();
  }

  std::vector<json> tail(const std::string& query = "") {
    auto r = api("GET", "/api/environments/" + env_id + "/logs" + query);
    CAF_REQUIRE_EQUAL(r.status, 200);
    return r.body["items"].get<std::vector<json>>();
  }

  /// Waits (bounded) until the stored tail has a line containing `text`.
  std::optional<json> await_tail_line(const std::string& text) {
    auto deadline = clock_type::now() + 10s;
    do {
      for (auto& l : tail("?tail=200"))
        if (l["message"].get<std::string>().find(text) != std::string::npos)
          return l;
      std::this_thread::sleep_for(50ms);
    } while (clock_type::now() < deadline);
    return std::nullopt;
  }

  /// Opens ?follow=1 in a thread; everything it receives goes to `log`.
  /// With `last_event_id`, the follow resumes after that line.
  std::thread follow(std::shared_ptr<followed_log> log, const std::string& query = "",
                     const std::string& last_event_id = "") {
    auto port = srv->port();
    auto token = srv->token();
    auto path = "/api/environments/" + env_id + "/logs?follow=1" + query;
    return std::thread([log, port, token, path, last_event_id] {
      httplib::Client cli{"127.0.0.1", port};
      cli.set_read_timeout(60, 0);
      httplib::Headers headers{{"Authorization", "Bearer " + token}};
      if (!last_event_id.empty())
        headers.emplace("Last-Event-ID", last_event_id);
      cli.Get(path.c_str(), headers, [&](const char* data, size_t n) {
        std::lock_guard<std::mutex> guard{log->mtx};
        log->text.append(data, n);
        log->changed.notify_all();
        return !log->stop.load();
      });
    });
  }

  std::string container_started_at(const std::string& container) {
    auto info = docker.inspect_container(container);
    CAF_REQUIRE(info);
    return info->started_at;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(running_apps_tests, fixture)

CAF_TEST(runtime logs tail shows a request marker and follow delivers one within a second) {
  auto port = deploy_app();
  CAF_REQUIRE_EQUAL(app_status(port, "/cgi-bin/hit?first-request"), 200);
  auto line = await_tail_line("hit-marker first-request");
  CAF_REQUIRE(line);
  CAF_CHECK_EQUAL((*line)["stream"], "stderr");
  auto ts = (*line)["timestamp"].get<std::string>();
  CAF_CHECK(ts.size() >= 20 && ts[10] == 'T');
  auto started = await_tail_line("app-started");
  CAF_REQUIRE(started);
  CAF_CHECK_EQUAL((*started)["stream"], "stdout");
  // tail=1 is the newest line only; since after the first request leaves it out.
  auto one = tail("?tail=1");
  CAF_REQUIRE_EQUAL(one.size(), 1u);
  CAF_CHECK(one[0]["message"].get<std::string>().find("first-request") != std::string::npos);
  auto later = tail("?since=2200-01-01T00:00:00Z");
  CAF_CHECK(later.empty());

  auto log = std::make_shared<followed_log>();
  auto reader = follow(log, "&tail=5");
  // The tail comes first: the stream is open.
  CAF_REQUIRE(log->await("hit-marker first-request", 10s));
  auto t0 = clock_type::now();
  CAF_REQUIRE_EQUAL(app_status(port, "/cgi-bin/hit?live-request"), 200);
  auto took = log->await("hit-marker live-request", 5s);
  CAF_REQUIRE(took);
  auto since_request = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0);
  CAF_MESSAGE("follow delivered the line " << since_request.count() << " ms after the request");
  CAF_CHECK_LESS(since_request.count(), 1000);

  // The follow goes on across a restart of the container.
  auto r = api("POST", "/api/environments/" + env_id + "/restart");
  CAF_REQUIRE_EQUAL(r.status, 200);
  CAF_CHECK_EQUAL(r.body["state"], "running");
  CAF_REQUIRE_EQUAL(app_status(port, "/cgi-bin/hit?after-restart"), 200);
  CAF_CHECK(log->await("hit-marker after-restart", 5s));
  {
    std::lock_guard<std::mutex> guard{log->mtx};
    // Every line once: the restart does not replay the tail.
    auto first = log->text.find("hit-marker live-request");
    CAF_CHECK_EQUAL(log->text.find("hit-marker live-request", first + 1), std::string::npos);
  }
  log->stop = true;
  // The server writes a keepalive or a line at least every 15 s: the reader ends then.
  CAF_REQUIRE_EQUAL(app_status(port, "/cgi-bin/hit?wake-reader"), 200);
  reader.join();
}

CAF_TEST(a follower hears a start and a crash restart within a second) {
  auto port = deploy_app();
  auto log = std::make_shared<followed_log>();
  auto reader = follow(log);
  CAF_REQUIRE(log->await_count(started_line, 1, 10s));
  auto stopped = api("POST", "/api/environments/" + env_id + "/stop");
  CAF_REQUIRE_EQUAL(stopped.status, 200);
  CAF_REQUIRE_EQUAL(stopped.body["state"], "stopped");
  // Each line is measured from Docker's stamp on it (the moment the app
  // printed it) to its arrival here.
  auto started = api("POST", "/api/environments/" + env_id + "/start");
  CAF_REQUIRE_EQUAL(started.status, 200);
  CAF_REQUIRE_EQUAL(started.body["state"], "running");
  CAF_REQUIRE(log->await_count(started_line, 2, 5s));
  auto after_start = log->age_of(started_line, 2);
  CAF_REQUIRE(after_start);
  CAF_MESSAGE("the line printed at the start came " << after_start->count() << " ms after");
  CAF_CHECK_LESS(after_start->count(), 1000);
  // A crash: Docker restarts the app by itself, past the control plane.
  auto t0 = clock_type::now();
  app_status(port, "/cgi-bin/crash"); // may not answer: the app goes
  CAF_REQUIRE(log->await_count(started_line, 3, 10s));
  auto after_crash = log->age_of(started_line, 3);
  CAF_REQUIRE(after_crash);
  CAF_MESSAGE("the line printed at the restart came " << after_crash->count()
              << " ms after ("
              << std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count()
              << " ms after the crash request)");
  CAF_CHECK_LESS(after_crash->count(), 1000);
  CAF_CHECK_EQUAL(log->count(started_line), 3u); // no line twice
  CAF_REQUIRE_EQUAL(app_status(port, "/cgi-bin/hit?after-crash"), 200);
  CAF_CHECK(log->await("hit-marker after-crash", 5s));
  log->stop = true;
  CAF_REQUIRE_EQUAL(app_status(port, "/cgi-bin/hit?wake-reader"), 200);
  reader.join();
}

CAF_TEST(a follow resumes after Last-Event-ID moves on to the next deployment and ends with the environment) {
  auto port = deploy_app();
  CAF_REQUIRE_EQUAL(app_status(port, "/cgi-bin/hit?first-request"), 200);
  auto first = await_tail_line("hit-marker first-request");
  CAF_REQUIRE(first);
  CAF_REQUIRE_EQUAL(app_status(port, "/cgi-bin/hit?second-request"), 200);
  CAF_REQUIRE(await_tail_line("hit-marker second-request"));
  // Resumed after the first request's line: the second comes, not the first.
  auto log = std::make_shared<followed_log>();
  auto reader = follow(log, "", (*first)["timestamp"].get<std::string>());
  CAF_REQUIRE(log->await("hit-marker second-request", 10s));
  CAF_CHECK_EQUAL(log->count("hit-marker first-request"), 0u);
  CAF_CHECK_EQUAL(log->count(started_line), 0u);
  // The next deployment: the follow goes on with its container's lines.
  auto next = deploy_commit(commit_app("v2\n"));
  auto next_container = next["containerId"].get<std::string>();
  auto t0 = clock_type::now();
  CAF_REQUIRE(log->await("\"containerId\":\"" + next_container + "\"", 20s));
  CAF_MESSAGE("the next container's lines came "
              << std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count()
              << " ms after its deployment succeeded");
  CAF_CHECK(log->await_count(started_line, 1, 5s));
  auto next_port = next["port"].get<int>();
  CAF_REQUIRE_EQUAL(app_status(next_port, "/cgi-bin/hit?next-request"), 200);
  CAF_CHECK(log->await("hit-marker next-request", 5s));
  // Deleting the environment ends the stream.
  auto del = api("DELETE", "/api/environments/" + env_id);
  CAF_REQUIRE_EQUAL(del.status, 204);
  CAF_CHECK(log->await("event: end", 10s));
  CAF_CHECK(log->await("the environment was deleted", 1s));
  reader.join(); // the server ended the response
}

CAF_TEST(stop start and restart answer with the state and do what they say) {
  auto port = deploy_app();
  auto d = api("GET", "/api/projects/" + project_id + "/deployments");
  auto container = d.body["items"][0]["containerId"].get<std::string>();

  auto stopped = api("POST", "/api/environments/" + env_id + "/stop");
  CAF_REQUIRE_EQUAL(stopped.status, 200);
  CAF_CHECK_EQUAL(stopped.body["state"], "stopped");
  CAF_CHECK_EQUAL(stopped.body["containerId"], container);
  CAF_CHECK_EQUAL(app_status(port, "/"), 0);
  auto info = docker.inspect_container(container);
  CAF_REQUIRE(info);
  CAF_CHECK(!info->running);

  auto before = container_started_at(container);
  auto started = api("POST", "/api/environments/" + env_id + "/start");
  CAF_REQUIRE_EQUAL(started.status, 200);
  CAF_CHECK_EQUAL(started.body["state"], "running");
  CAF_CHECK_EQUAL(app_status(port, "/"), 200);
  auto after_start = container_started_at(container);
  CAF_CHECK_NOT_EQUAL(after_start, before);

  auto restarted = api("POST", "/api/environments/" + env_id + "/restart");
  CAF_REQUIRE_EQUAL(restarted.status, 200);
  CAF_CHECK_EQUAL(restarted.body["state"], "running");
  CAF_CHECK_EQUAL(app_status(port, "/"), 200);
  auto after_restart = container_started_at(container);
  CAF_CHECK_NOT_EQUAL(after_restart, after_start);
  CAF_CHECK_EQUAL(restarted.body["startedAt"], after_restart);

  // The console: stop and start by names.
  std::vector<std::string> where = {"--url", srv->base_url(), "--token", srv->token()};
  auto args = [&](std::vector<std::string> a) {
    a.insert(a.end(), where.begin(), where.end());
    return a;
  };
  auto out = run_gilgal(args({"stop", "runner", "production"}));
  CAF_CHECK_EQUAL(out.exit_code, 0);
  CAF_CHECK(out.out.find("runner / production: stopped") != std::string::npos);
  CAF_CHECK_EQUAL(app_status(port, "/"), 0);
  out = run_gilgal(args({"start", "runner", "production", "--json"}));
  CAF_CHECK_EQUAL(out.exit_code, 0);
  CAF_CHECK_EQUAL(json::parse(out.out, nullptr, false).value("state", ""), "running");
  CAF_CHECK_EQUAL(app_status(port, "/cgi-bin/hit?console-marker"), 200);
  CAF_REQUIRE(await_tail_line("hit-marker console-marker"));
  out = run_gilgal(args({"logs", "--app", "runner", "production", "--tail", "20"}));
  CAF_CHECK_EQUAL(out.exit_code, 0);
  CAF_CHECK(out.out.find("stderr: hit-marker console-marker") != std::string::npos);
}

CAF_TEST(deleting an environment or a project leaves no container of it) {
  deploy_app();
  // A second environment of the same project, deployed too.
  auto e2 = api("POST", "/api/projects/" + project_id + "/environments",
                json{{"name", "staging"}, {"type", "staging"}, {"healthCheck", {{"timeoutSeconds", 30}}}});
  CAF_REQUIRE_EQUAL(e2.status, 201);
  auto staging = e2.body["id"].get<std::string>();
  auto d = api("POST", "/api/projects/" + project_id + "/deployments",
               json{{"environmentId", staging}});
  CAF_REQUIRE_EQUAL(d.status, 201);
  auto id = d.body["id"].get<std::string>();
  auto deadline = clock_type::now() + 120s;
  while (api("GET", "/api/deployments/" + id).body["status"] != "success") {
    CAF_REQUIRE(clock_type::now() < deadline);
    std::this_thread::sleep_for(100ms);
  }
  auto of = [&](const std::string& label) {
    auto list = docker.list_containers({label}, true);
    CAF_REQUIRE(list);
    return list->size();
  };
  CAF_CHECK_EQUAL(of("gilgal.environment=" + staging), 1u);
  auto del = api("DELETE", "/api/environments/" + staging);
  CAF_CHECK_EQUAL(del.status, 204);
  CAF_CHECK_EQUAL(of("gilgal.environment=" + staging), 0u);
  CAF_CHECK_EQUAL(of("gilgal.environment=" + env_id), 1u);

  // A deployment in progress ends with its project, and nothing of it stays.
  auto pending = api("POST", "/api/projects/" + project_id + "/deployments",
                     json{{"environmentId", env_id}});
  CAF_REQUIRE_EQUAL(pending.status, 201);
  auto pending_id = pending.body["id"].get<std::string>();
  del = api("DELETE", "/api/projects/" + project_id);
  CAF_CHECK_EQUAL(del.status, 204);
  CAF_CHECK_EQUAL(of("gilgal.project=" + project_id), 0u);
}

CAF_TEST(bad input and environments of other users) {
  deploy_app();
  auto logs = "/api/environments/" + env_id + "/logs";
  for (auto q : {"?tail=abc", "?tail=-1", "?tail=10001", "?tail=", "?since=yesterday",
                 "?since=2026-13-01T00:00:00Z", "?follow=maybe"}) {
    auto r = api("GET", logs + q);
    CHECK_WHY(r.status == 400, std::string{q} + ": " + r.describe());
  }
  auto bob = srv->create_user("bob");
  for (auto [method, suffix] : std::vector<std::pair<std::string, std::string>>{
         {"GET", "/logs"}, {"GET", "/logs?follow=1"}, {"POST", "/stop"}, {"POST", "/start"},
         {"POST", "/restart"}, {"DELETE", ""}}) {
    auto r = api(method, "/api/environments/" + env_id + suffix, std::nullopt, bob);
    CHECK_WHY(r.status == 404, method + " " + suffix + ": " + r.describe());
  }
  // Bob's attempts changed nothing: the app still runs.
  auto state = api("POST", "/api/environments/" + env_id + "/start");
  CAF_CHECK_EQUAL(state.status, 200);
  CAF_CHECK_EQUAL(state.body["state"], "running");
  // An environment that was never deployed has nothing to stop or to read.
  auto e = api("POST", "/api/projects/" + project_id + "/environments",
               json{{"name", "empty"}, {"type", "development"}});
  CAF_REQUIRE_EQUAL(e.status, 201);
  auto empty = e.body["id"].get<std::string>();
  CAF_CHECK_EQUAL(api("POST", "/api/environments/" + empty + "/stop").status, 409);
  CAF_CHECK_EQUAL(api("GET", "/api/environments/" + empty + "/logs").status, 409);
}

CAF_TEST_FIXTURE_SCOPE_END()
