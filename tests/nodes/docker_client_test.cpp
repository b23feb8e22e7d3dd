#define CAF_SUITE nodes.docker_client
#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include <curl/curl.h>
#include <httplib.h>

#include "nodes/build_context.hpp"
#include "nodes/docker_client.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "tests/fixtures/local_registry.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"

using namespace gilgal;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

size_t collect(char* data, size_t size, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(data, size * n);
  return size * n;
}

// GET http://127.0.0.1:PORT/PATH; the status (0 when nothing answered) and body.
std::pair<long, std::string> http_get(int port, const std::string& path) {
  std::string body;
  long status = 0;
  auto* e = curl_easy_init();
  auto url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
  if (curl_easy_perform(e) == CURLE_OK)
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(e);
  return {status, body};
}

// Polls `pred` until it holds or `limit` passes.
template <class Pred>
bool await(Pred pred, std::chrono::milliseconds limit) {
  auto deadline = clock_type::now() + limit;
  for (;;) {
    if (pred())
      return true;
    if (clock_type::now() >= deadline)
      return false;
    std::this_thread::sleep_for(50ms);
  }
}

std::set<std::string> container_ids(docker_client& dc) {
  std::set<std::string> ids;
  auto all = dc.list_containers({}, true);
  if (all)
    for (const auto& c : *all)
      ids.insert(c.id);
  return ids;
}

struct fixture {
  docker_client dc{test::docker_host_or_default()};
  std::string run_id = new_uuid().substr(0, 8);
  std::string dir = test::make_temp_dir("gilgal-docker-test");
  std::vector<std::string> images;     // removed at the end
  std::vector<std::string> containers; // removed at the end

  fixture() {
    auto id = test::ensure_busybox_image(dc);
    if (!id)
      CAF_FAIL("cannot make the busybox test image: " << message_of(id.error()));
  }

  ~fixture() {
    for (const auto& c : containers)
      dc.remove_container(c, true);
    for (const auto& i : images)
      dc.remove_image(i, true);
    test::remove_tree(dir);
  }

  // Builds a Dockerfile over an empty context.
  caf::expected<std::string> build(const std::string& dockerfile, build_options opts,
                                   std::vector<std::string>* lines = nullptr) {
    build_context_options ctx;
    ctx.extra_files["Dockerfile"] = dockerfile;
    auto tar = make_build_context(dir, ctx);
    if (!tar)
      return std::move(tar.error());
    for (const auto& t : opts.tags)
      images.push_back(t);
    return dc.build(*tar, opts, [lines](std::string_view l) {
      if (lines)
        lines->emplace_back(l);
    });
  }

  // 1 when the image exists, 0 when it does not, -1 on errors.
  int exists(const std::string& image) {
    auto r = dc.image_exists(image);
    return r ? (*r ? 1 : 0) : -1;
  }

  std::string tag(const std::string& what) {
    return "gilgal-test/" + what + "-" + run_id + ":latest";
  }
};

size_t index_of(const std::vector<std::string>& lines, const std::string& needle) {
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find(needle) != std::string::npos)
      return i;
  return lines.size();
}

} // namespace

CAF_TEST(api versions compare numerically) {
  CAF_CHECK_LESS(compare_api_versions("1.41", "1.45"), 0);
  CAF_CHECK_GREATER(compare_api_versions("1.100", "1.45"), 0);
  CAF_CHECK_EQUAL(compare_api_versions("1.45", "1.45"), 0);
  CAF_CHECK_LESS(compare_api_versions("1.9", "1.10"), 0);
}

CAF_TEST(an unreachable daemon is unavailable) {
  docker_client dc{"unix:///tmp/gilgal-no-such-dir/docker.sock"};
  auto v = dc.version();
  CAF_REQUIRE(!v);
  CAF_CHECK_EQUAL(code_of(v.error()), errc::unavailable);
  auto c = dc.inspect_container("x");
  CAF_REQUIRE(!c);
  CAF_CHECK_EQUAL(code_of(c.error()), errc::unavailable);
  docker_client bad{"ftp://example"};
  auto b = bad.version();
  CAF_REQUIRE(!b);
  CAF_CHECK_EQUAL(code_of(b.error()), errc::invalid_argument);
}

CAF_TEST_FIXTURE_SCOPE(docker_client_tests, fixture)

CAF_TEST(version negotiation picks the lower api version) {
  auto v = dc.version();
  CAF_REQUIRE(v);
  CAF_MESSAGE("engine " << v->version << ", api " << v->api_version);
  CAF_CHECK(!v->api_version.empty());
  auto expected = compare_api_versions(v->api_version, "1.45") < 0 ? v->api_version : "1.45";
  CAF_CHECK_EQUAL(v->negotiated, expected);
  auto prefix = dc.api_prefix();
  CAF_REQUIRE(prefix);
  CAF_CHECK_EQUAL(*prefix, "/v" + expected);
  // A copy shares the negotiated version.
  docker_client copy = dc;
  auto copied_prefix = copy.api_prefix(); // the check macros keep references
  CAF_REQUIRE(copied_prefix);
  CAF_CHECK_EQUAL(*copied_prefix, "/v" + expected);
}

CAF_TEST(build streams lines in order and labels the image) {
  build_options opts;
  opts.tags = {tag("build")};
  opts.labels = {{"gilgal.project", "p-" + run_id}, {"gilgal.commit", "abc1234"}};
  opts.no_cache = true;
  std::vector<std::string> lines;
  auto id = build("FROM " + std::string{test::busybox_image} + "\n"
                  "RUN echo first-line-" + run_id + " && echo second-line-" + run_id + "\n",
                  opts, &lines);
  if (!id)
    CAF_FAIL("build failed: " << message_of(id.error()));
  CAF_CHECK_EQUAL(id->compare(0, 7, "sha256:"), 0);
  auto step1 = index_of(lines, "Step 1/");
  auto exact = [&](const std::string& line) {
    return static_cast<size_t>(std::find(lines.begin(), lines.end(), line) - lines.begin());
  };
  auto first = exact("first-line-" + run_id);
  auto second = exact("second-line-" + run_id);
  CAF_CHECK_LESS(step1, first);
  CAF_CHECK_LESS(first, second);
  CAF_CHECK_LESS(second, lines.size());
  for (const auto& l : lines)
    CAF_CHECK(l.find('\n') == std::string::npos);
  auto img = dc.inspect_image(opts.tags[0]);
  CAF_REQUIRE(img);
  CAF_CHECK_EQUAL(img->id, *id);
  CAF_CHECK_EQUAL(img->labels["gilgal.project"], "p-" + run_id);
  CAF_CHECK_EQUAL(img->labels["gilgal.commit"], "abc1234");
  auto listed = dc.list_images({"gilgal.project=p-" + run_id});
  CAF_REQUIRE(listed);
  CAF_REQUIRE_EQUAL(listed->size(), 1u);
  CAF_CHECK_EQUAL(listed->front().id, *id);
  // tag, exists, remove
  CAF_REQUIRE(dc.tag_image(*id, "gilgal-test/retag-" + run_id, "v1"));
  images.push_back("gilgal-test/retag-" + run_id + ":v1");
  CAF_CHECK_EQUAL(exists("gilgal-test/retag-" + run_id + ":v1"), 1);
  CAF_REQUIRE(dc.remove_image("gilgal-test/retag-" + run_id + ":v1"));
  CAF_CHECK_EQUAL(exists("gilgal-test/retag-" + run_id + ":v1"), 0);
}

CAF_TEST(a failing step is build_failed with the daemon message) {
  build_options opts;
  opts.tags = {tag("fail")};
  std::vector<std::string> lines;
  auto id = build("FROM " + std::string{test::busybox_image} + "\nRUN false\n", opts, &lines);
  CAF_REQUIRE(!id);
  CAF_CHECK_EQUAL(code_of(id.error()), errc::build_failed);
  auto msg = message_of(id.error());
  CAF_MESSAGE("message: " << msg);
  CAF_CHECK(msg.find("false") != std::string::npos);
  CAF_CHECK(msg.find("non-zero code: 1") != std::string::npos);
  CAF_CHECK_LESS(index_of(lines, "non-zero code"), lines.size());
  // An unknown base image fails too.
  auto missing = build("FROM gilgal-test/no-such-image-" + run_id + "\n", opts);
  CAF_REQUIRE(!missing);
  CAF_CHECK_EQUAL(code_of(missing.error()), errc::build_failed);
}

CAF_TEST(an aborted build stops promptly and leaves no container) {
  build_options opts;
  opts.tags = {tag("abort")};
  opts.no_cache = true;
  opts.abort = abort_signal::make();
  std::atomic<bool> running{false};
  std::string build_container; // from " ---> Running in ID"
  caf::expected<std::string> result{std::string{}};
  build_context_options ctx;
  ctx.extra_files["Dockerfile"] = "FROM " + std::string{test::busybox_image}
                                  + "\nRUN echo sleeping && sleep 60\n";
  auto tar = make_build_context(dir, ctx);
  CAF_REQUIRE(tar);
  images.push_back(opts.tags[0]);
  std::thread worker{[&] {
    result = dc.build(*tar, opts, [&](std::string_view l) {
      static constexpr std::string_view marker = "Running in ";
      auto pos = l.find(marker);
      if (pos != std::string_view::npos && build_container.empty())
        build_container = std::string{l.substr(pos + marker.size())};
      if (l == "sleeping")
        running = true;
    });
  }};
  bool started = await([&] { return running.load(); }, 30s);
  CAF_CHECK(started);
  auto t0 = clock_type::now();
  opts.abort->trigger();
  worker.join();
  auto returned = clock_type::now() - t0;
  CAF_MESSAGE("build returned "
              << std::chrono::duration_cast<std::chrono::milliseconds>(returned).count()
              << " ms after the abort");
  CAF_CHECK_LESS(returned, 2s);
  CAF_REQUIRE(!result);
  CAF_CHECK_EQUAL(code_of(result.error()), errc::cancelled);
  CAF_REQUIRE(!build_container.empty());
  auto in_list = [&] {
    auto ids = container_ids(dc);
    return std::any_of(ids.begin(), ids.end(), [&](const std::string& id) {
      return id.compare(0, build_container.size(), build_container) == 0;
    });
  };
  auto gone = await([&] { return !in_list(); }, 10s);
  CAF_MESSAGE("build container " << build_container << " gone after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0)
                   .count()
              << " ms");
  CAF_CHECK(gone);
  auto inspected = dc.inspect_container(build_container);
  CAF_REQUIRE(!inspected);
  CAF_CHECK_EQUAL(code_of(inspected.error()), errc::not_found);
  CAF_CHECK_EQUAL(exists(opts.tags[0]), 0);
}

CAF_TEST(a build past its timeout is timeout) {
  build_options opts;
  opts.tags = {tag("timeout")};
  opts.no_cache = true;
  opts.timeout = 1500ms;
  auto t0 = clock_type::now();
  auto id = build("FROM " + std::string{test::busybox_image} + "\nRUN sleep 30\n", opts);
  CAF_REQUIRE(!id);
  CAF_CHECK_EQUAL(code_of(id.error()), errc::timeout);
  CAF_CHECK_LESS(clock_type::now() - t0, 5s);
}

CAF_TEST(a container serves http with env and a port binding) {
  auto port = test::free_port();
  container_spec spec;
  spec.name = "gilgal-test-web-" + run_id;
  spec.image = test::busybox_image;
  spec.env = {"GREETING=hello-" + run_id, "PORT=8080"};
  spec.cmd = {"/bin/sh", "-c",
              "echo to-stdout; echo to-stderr >&2; echo \"$GREETING\" > /www/index.html; "
              "exec httpd -f -p \"$PORT\" -h /www"};
  spec.labels = {{"gilgal.deployment", "d-" + run_id}};
  spec.container_port = 8080;
  spec.host_ip = "127.0.0.1";
  spec.host_port = port;
  spec.memory_bytes = 64 << 20;
  spec.nano_cpus = 500000000;
  spec.pids_limit = 64;
  spec.cap_add = {"NET_BIND_SERVICE"};
  auto id = dc.create_container(spec);
  if (!id)
    CAF_FAIL("create failed: " << message_of(id.error()));
  containers.push_back(*id);
  // The same name again is a conflict.
  auto again = dc.create_container(spec);
  CAF_REQUIRE(!again);
  CAF_CHECK_EQUAL(code_of(again.error()), errc::conflict);
  CAF_REQUIRE(dc.start_container(*id));
  CAF_CHECK(dc.start_container(*id)); // already started: fine
  std::pair<long, std::string> answer;
  CAF_CHECK(await(
    [&] {
      answer = http_get(port, "/");
      return answer.first == 200;
    },
    10s));
  CAF_CHECK_EQUAL(answer.second, "hello-" + run_id + "\n");
  auto info = dc.inspect_container(*id);
  CAF_REQUIRE(info);
  CAF_CHECK_EQUAL(info->id, *id);
  CAF_CHECK_EQUAL(info->name, spec.name);
  CAF_CHECK(info->running);
  CAF_CHECK_EQUAL(info->status, "running");
  CAF_CHECK_EQUAL(info->host_port, port);
  CAF_CHECK_EQUAL(info->host_ip, "127.0.0.1");
  CAF_CHECK_EQUAL(info->labels["gilgal.deployment"], "d-" + run_id);
  CAF_CHECK_EQUAL(info->restart_count, 0);
  CAF_CHECK(!info->started_at.empty());
  auto listed = dc.list_containers({"gilgal.deployment=d-" + run_id});
  CAF_REQUIRE(listed);
  CAF_REQUIRE_EQUAL(listed->size(), 1u);
  CAF_CHECK_EQUAL(listed->front().id, *id);
  CAF_CHECK_EQUAL(listed->front().state, "running");
  auto st = dc.stats(*id);
  if (!st)
    CAF_FAIL("stats failed: " << message_of(st.error()));
  CAF_MESSAGE("cpu " << st->cpu_percent << "%, memory " << st->memory_usage << " of "
                     << st->memory_limit);
  CAF_CHECK_EQUAL(st->memory_limit, 64 << 20);
  CAF_CHECK_GREATER(st->memory_usage, 0);
  CAF_CHECK_GREATER_OR_EQUAL(st->cpu_percent, 0.0);
  auto logs = dc.container_logs(*id, 10);
  CAF_REQUIRE(logs);
  CAF_CHECK(std::find(logs->begin(), logs->end(), "to-stdout") != logs->end());
  CAF_CHECK(std::find(logs->begin(), logs->end(), "to-stderr") != logs->end());
  auto t0 = clock_type::now();
  CAF_REQUIRE(dc.stop_container(*id, 1s));
  CAF_CHECK_LESS(clock_type::now() - t0, 5s);
  CAF_CHECK(dc.stop_container(*id, 1s)); // already stopped: fine
  info = dc.inspect_container(*id);
  CAF_REQUIRE(info);
  CAF_CHECK(!info->running);
  CAF_CHECK_EQUAL(info->status, "exited");
  CAF_CHECK(!info->finished_at.empty());
  CAF_REQUIRE(dc.remove_container(*id));
  auto after = dc.inspect_container(*id);
  CAF_REQUIRE(!after);
  CAF_CHECK_EQUAL(code_of(after.error()), errc::not_found);
}

CAF_TEST(the exit code of a container that ended) {
  container_spec spec;
  spec.image = test::busybox_image;
  spec.cmd = {"/bin/sh", "-c", "exit 3"};
  auto id = dc.create_container(spec);
  CAF_REQUIRE(id);
  containers.push_back(*id);
  CAF_REQUIRE(dc.start_container(*id));
  caf::expected<container_info> info{caf::no_error};
  auto deadline = clock_type::now() + 10s;
  do {
    info = dc.inspect_container(*id);
    CAF_REQUIRE(info);
  } while (info->running && clock_type::now() < deadline);
  CAF_REQUIRE(!info->running);
  CAF_CHECK_EQUAL(info->exit_code, 3);
  CAF_CHECK(!info->oom_killed);
}

CAF_TEST(push to a local registry and pull back) {
  if (auto why = test::local_registry::unavailable_reason(); !why.empty()) {
    CAF_MESSAGE("skipped: " << why);
    return;
  }
  test::local_registry registry;
  auto repo = registry.address() + "/gilgal-test/pushed-" + run_id;
  CAF_REQUIRE(dc.tag_image(test::busybox_image, repo, "v1"));
  images.push_back(repo + ":v1");
  std::vector<std::string> lines;
  auto pushed = dc.push_image(repo, "v1", {}, [&](std::string_view l) { lines.emplace_back(l); });
  if (!pushed)
    CAF_FAIL("push failed: " << message_of(pushed.error()));
  CAF_CHECK_LESS(index_of(lines, "digest: sha256:"), lines.size());
  CAF_REQUIRE(dc.remove_image(repo + ":v1"));
  CAF_CHECK_EQUAL(exists(repo + ":v1"), 0);
  lines.clear();
  auto pulled = dc.pull_image(repo, "v1", {}, [&](std::string_view l) { lines.emplace_back(l); });
  if (!pulled)
    CAF_FAIL("pull failed: " << message_of(pulled.error()));
  CAF_CHECK_EQUAL(exists(repo + ":v1"), 1);
  CAF_CHECK_LESS(index_of(lines, "Status: "), lines.size());
  auto unknown = dc.pull_image(repo, "no-such-tag");
  CAF_REQUIRE(!unknown);
  CAF_MESSAGE("pull of an unknown tag: " << to_string(code_of(unknown.error())) << ": "
                                         << message_of(unknown.error()));
  CAF_CHECK_EQUAL(code_of(unknown.error()), errc::not_found);
  // A registry that is not there: the push fails with the daemon's message.
  auto dead_repo = "127.0.0.1:" + std::to_string(test::free_port()) + "/gilgal-test/dead-" + run_id;
  CAF_REQUIRE(dc.tag_image(test::busybox_image, dead_repo, "v1"));
  images.push_back(dead_repo + ":v1");
  auto dead = dc.push_image(dead_repo, "v1", {});
  CAF_REQUIRE(!dead);
  CAF_MESSAGE("push to nowhere: " << message_of(dead.error()));
  CAF_CHECK_EQUAL(code_of(dead.error()), errc::unavailable);
}

CAF_TEST(prune removes only dangling images with the label) {
  build_options opts; // no tag: the image is dangling
  opts.labels = {{"org.gilgal.test.prune", run_id}};
  opts.no_cache = true;
  auto dangling = build("FROM " + std::string{test::busybox_image} + "\nRUN echo a > /a\n", opts);
  CAF_REQUIRE(dangling);
  opts.tags = {tag("prune-kept")};
  auto kept = build("FROM " + std::string{test::busybox_image} + "\nRUN echo b > /b\n", opts);
  CAF_REQUIRE(kept);
  auto pruned = dc.prune_images({"org.gilgal.test.prune=" + run_id});
  if (!pruned)
    CAF_FAIL("prune failed: " << message_of(pruned.error()));
  CAF_CHECK(std::find(pruned->deleted.begin(), pruned->deleted.end(), *dangling)
            != pruned->deleted.end());
  CAF_CHECK_EQUAL(exists(*dangling), 0);
  CAF_CHECK_EQUAL(exists(*kept), 1);
  CAF_CHECK_EQUAL(exists(test::busybox_image), 1);
}

CAF_TEST(one instance serves several threads) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto img = dc.inspect_image(test::busybox_image);
        auto missing = dc.inspect_container("gilgal-no-such-container-" + run_id);
        if (img && !missing && code_of(missing.error()) == errc::not_found)
          ++ok;
      }
    });
  for (auto& t : threads)
    t.join();
  CAF_CHECK_EQUAL(ok.load(), 40);
}

CAF_TEST(missing things are not_found) {
  auto c = dc.inspect_container("gilgal-no-such-container-" + run_id);
  CAF_REQUIRE(!c);
  CAF_CHECK_EQUAL(code_of(c.error()), errc::not_found);
  auto i = dc.inspect_image("gilgal-test/no-such-image-" + run_id);
  CAF_REQUIRE(!i);
  CAF_CHECK_EQUAL(code_of(i.error()), errc::not_found);
  CAF_CHECK_EQUAL(exists("gilgal-test/no-such-image-" + run_id), 0);
  auto r = dc.remove_container("gilgal-no-such-container-" + run_id);
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(code_of(r.error()), errc::not_found);
  container_spec spec;
  spec.image = "gilgal-test/no-such-image-" + run_id;
  auto created = dc.create_container(spec);
  CAF_REQUIRE(!created);
  CAF_CHECK_EQUAL(code_of(created.error()), errc::not_found);
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

/// A stand-in daemon on 127.0.0.1 (cpp-httplib on a free port) that speaks
/// API 1.41 and counts the GET /version it is asked.
struct counting_daemon {
  httplib::Server server;
  int port = test::free_port();
  std::thread thread;
  std::atomic<int> version_calls{0};

  counting_daemon() {
    server.Get("/version", [this](const httplib::Request&, httplib::Response& res) {
      ++version_calls;
      res.set_content(R"({"Version":"20.10.0","ApiVersion":"1.41","MinAPIVersion":"1.12"})",
                      "application/json");
    });
    server.Get("/v1.41/containers/json", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("[]", "application/json");
    });
    if (!server.bind_to_port("127.0.0.1", port))
      throw std::runtime_error("cannot bind the stand-in daemon's port");
    thread = std::thread{[this] { server.listen_after_bind(); }};
    auto ready_by = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!server.is_running() && std::chrono::steady_clock::now() < ready_by)
      std::this_thread::yield();
  }

  ~counting_daemon() {
    server.stop();
    thread.join();
  }

  std::string host() const {
    return "tcp://127.0.0.1:" + std::to_string(port);
  }
};

} // namespace

CAF_TEST(clients of one host negotiate the api version once per process) {
  counting_daemon daemon;
  for (int i = 0; i < 3; ++i) {
    docker_client per_operation{daemon.host()}; // as the builder and runner make them
    auto listed = per_operation.list_containers({}, true);
    CAF_REQUIRE(listed);
    CAF_CHECK(listed->empty());
  }
  CAF_CHECK_EQUAL(daemon.version_calls.load(), 1);
  // Another daemon is another negotiation.
  counting_daemon other;
  docker_client elsewhere{other.host()};
  CAF_CHECK(elsewhere.list_containers({}, true));
  CAF_CHECK_EQUAL(other.version_calls.load(), 1);
  CAF_CHECK_EQUAL(daemon.version_calls.load(), 1);
}
