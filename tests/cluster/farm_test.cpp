// The build farm end to end, as separate processes on loopback: a control
// plane (`gilgal serve --cluster-listen ... --no-local-node`) and two
// `gilgal node --join` processes, each with its own private Docker daemon
// (tests/fixtures/docker_daemon) and all sharing one local docker-registry.
//
// - build on node A, run on node B (environment labels): the container answers
//   on B, so the image went through the registry;
// - two builds at once spread over both nodes;
// - SIGKILL of the building node: rescheduled or failed ("node lost") within
//   15 s, the node shows as down;
// - DELETE of a build on a remote node: cancelled within 2 s, no build
//   container left on that node's daemon;
// - a node with a wrong secret is refused.
#define CAF_SUITE cluster.farm
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unistd.h>

#include "nodes/docker_client.hpp"
#include "protocol/error.hpp"
#include "tests/fixtures/caddy_instance.hpp"
#include "tests/fixtures/docker_daemon.hpp"
#include "tests/fixtures/gilgal_node.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/local_registry.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_certs.hpp"
#include "tests/fixtures/test_images.hpp"
#include "tests/http/api_support.hpp"

using namespace gilgal;
using namespace gilgal::test;
using namespace std::chrono_literals;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

// A farm (two daemons, registry, control plane, two nodes) takes seconds to
// start and a test waits for builds: more than CAF test's default 30 s
// watchdog. The command line's -r still wins.
const bool farm_watchdog = [] {
  caf::test::engine::max_runtime(300);
  return true;
}();

std::string random_word(const std::string& prefix) {
  std::random_device rd;
  std::ostringstream out;
  out << prefix << ::getpid() << "-" << std::hex << rd() << rd();
  return out.str();
}

std::string slow_dockerfile(const std::string& marker, int seconds = 120) {
  return "FROM gilgal-test/busybox:latest\nRUN echo " + marker + " && sleep "
         + std::to_string(seconds) + "\n";
}

const char* web_dockerfile = R"(FROM gilgal-test/busybox:latest
COPY www /www
CMD ["/bin/sh", "-c", "exec httpd -f -p $PORT -h /www"]
)";

/// A web app whose build takes `seconds` in a step printing `marker`.
std::string slow_web_dockerfile(const std::string& marker, int seconds) {
  return "FROM gilgal-test/busybox:latest\nRUN echo " + marker + " && sleep "
         + std::to_string(seconds) + "\nRUN mkdir -p /www && echo " + marker
         + " > /www/index.html\nCMD [\"/bin/sh\", \"-c\", \"exec httpd -f -p $PORT -h /www\"]\n";
}

std::string get_text(int port, const std::string& path) {
  httplib::Client cli{"127.0.0.1", port};
  cli.set_connection_timeout(2, 0);
  cli.set_read_timeout(5, 0);
  auto res = cli.Get(path.c_str());
  return res && res->status == 200 ? res->body : std::string{};
}

/// Ids of the containers (any state) on `docker` whose command mentions `marker`.
std::vector<std::string> containers_with(docker_client& docker, const std::string& marker) {
  std::vector<std::string> ids;
  if (auto list = docker.list_containers({}, true))
    for (auto& c : *list)
      if (c.command.find(marker) != std::string::npos)
        ids.push_back(c.id);
  return ids;
}

/// One node of the farm: its private daemon and its `gilgal node` process.
struct farm_node {
  std::string name;
  std::string labels;
  std::unique_ptr<docker_daemon> daemon;
  std::unique_ptr<docker_client> docker;
  std::unique_ptr<gilgal_node> process;
};

struct fixture {
  std::string skip; // non-empty: the services for a farm are missing here
  std::string secret = random_word("secret-") + "-0123456789abcdef";
  std::unique_ptr<local_registry> registry;
  int proxy_port = 0;                            // > 0: the control plane serves apps there
  std::map<std::string, std::string> advertise; // node name -> its --advertise-address
  std::unique_ptr<gilgal_server> srv;
  int cluster_port = 0;
  std::vector<farm_node> nodes; // "node-a" (role=a), "node-b" (role=b)
  std::unique_ptr<git_repo> repo;
  std::unique_ptr<test_certs> certs; // set: the cluster talks TLS

  fixture() {
    skip = docker_daemon::skip_reason();
    if (skip.empty())
      skip = local_registry::unavailable_reason();
  }

  /// Starts the farm (in the test body, so that a failure is a test failure
  /// and the destructor stops what did start); false when it must be skipped.
  bool start(bool with_registry, bool tls = false) {
    if (!skip.empty()) {
      CAF_MESSAGE("skipped: " << skip);
      return false;
    }
    try {
      if (tls)
        certs = std::make_unique<test_certs>();
      start_farm(with_registry);
    } catch (const std::exception& e) {
      CAF_FAIL("the farm did not start: " << e.what());
    }
    return true;
  }

  void start_farm(bool with_registry) {
    docker_client main{docker_host_or_default()};
    if (auto img = ensure_busybox_image(main); !img)
      throw std::runtime_error("test image: " + message_of(img.error()));
    if (with_registry)
      registry = std::make_unique<local_registry>();
    repo = std::make_unique<git_repo>();
    cluster_port = free_port();
    server_options opts;
    opts.allow_local_sources = true;
    opts.env["GILGAL_CLUSTER_SECRET"] = secret;
    opts.extra_args = {"--cluster-listen", "127.0.0.1:" + std::to_string(cluster_port),
                       "--no-local-node"};
    if (proxy_port > 0)
      opts.extra_args.insert(opts.extra_args.end(),
                             {"--proxy-listen", "127.0.0.1:" + std::to_string(proxy_port)});
    if (registry)
      opts.extra_args.insert(opts.extra_args.end(), {"--registry-url", registry_url()});
    if (certs) {
      auto tls = certs->args("control-plane");
      opts.extra_args.insert(opts.extra_args.end(), tls.begin(), tls.end());
    }
    srv = std::make_unique<gilgal_server>(opts);
    for (auto [name, labels] : {std::pair{"node-a", "role=a"}, std::pair{"node-b", "role=b"}}) {
      farm_node n;
      n.name = name;
      n.labels = labels;
      n.daemon = std::make_unique<docker_daemon>();
      auto copied = n.daemon->copy_image_from(main.host(), busybox_image);
      if (!copied)
        throw std::runtime_error("copy of the test image into " + std::string{name} + ": "
                                 + message_of(copied.error()));
      n.docker = std::make_unique<docker_client>(n.daemon->host());
      nodes.push_back(std::move(n));
    }
    for (auto& n : nodes)
      n.process = std::make_unique<gilgal_node>(node_opts(n));
    if (!await_nodes_up({"node-a", "node-b"}, 20s))
      throw std::runtime_error("GET /api/nodes does not show node-a and node-b up: "
                               + api("GET", "/api/nodes").describe());
  }

  ~fixture() {
    // Control plane first (it starts nothing new), then the nodes, then their
    // daemons (which removes whatever ran there), then the registry.
    srv.reset();
    for (auto& n : nodes)
      n.process.reset();
    nodes.clear();
    registry.reset();
    certs.reset();
  }

  /// Empty without a registry.
  std::string registry_url() const {
    return registry ? "http://" + registry->address() + "/" : std::string{};
  }

  node_options node_opts(const farm_node& n) const {
    node_options o;
    o.join = "127.0.0.1:" + std::to_string(cluster_port);
    o.name = n.name;
    o.capacity = 1;
    o.labels = n.labels;
    o.docker_host = n.daemon->host();
    o.secret = secret;
    o.registry_url = registry_url();
    o.extra_args = {"--registry-push-backoff-ms", "200"};
    if (auto a = advertise.find(n.name); a != advertise.end())
      o.extra_args.insert(o.extra_args.end(), {"--advertise-address", a->second});
    if (certs) {
      auto tls = certs->args("node");
      o.extra_args.insert(o.extra_args.end(), tls.begin(), tls.end());
    }
    return o;
  }

  farm_node& node(const std::string& name) {
    for (auto& n : nodes)
      if (n.name == name)
        return n;
    CAF_FAIL("no node " << name);
    throw std::logic_error("unreachable");
  }

  api_response api(const std::string& method, const std::string& path,
                   const std::optional<json>& body = std::nullopt) {
    auto cli = srv->client();
    if (body)
      return call(*cli, method, path, srv->token(), *body);
    return call(*cli, method, path, srv->token());
  }

  /// name -> state of GET /api/nodes.
  std::map<std::string, std::string> node_states() {
    std::map<std::string, std::string> out;
    auto r = api("GET", "/api/nodes");
    if (r.status == 200 && r.body.contains("nodes"))
      for (auto& n : r.body["nodes"])
        out[n["name"].get<std::string>()] = n["state"].get<std::string>();
    return out;
  }

  bool await_node_state(const std::string& name, const std::string& state,
                        std::chrono::milliseconds limit) {
    auto deadline = clock_type::now() + limit;
    for (;;) {
      auto states = node_states();
      if (auto i = states.find(name); i != states.end() && i->second == state)
        return true;
      if (clock_type::now() > deadline)
        return false;
      std::this_thread::sleep_for(100ms);
    }
  }

  bool await_nodes_up(const std::vector<std::string>& names, std::chrono::milliseconds limit) {
    for (auto& n : names)
      if (!await_node_state(n, "up", limit))
        return false;
    return true;
  }

  /// A project on the local repository with one environment; returns
  /// {project id, environment id}.
  std::pair<std::string, std::string> create_app(const std::string& name,
                                                 const json& build_labels = json::object(),
                                                 const json& run_labels = json::object()) {
    auto p = api("POST", "/api/projects", json{{"name", name}, {"repositoryUrl", repo->path()}});
    CAF_REQUIRE_EQUAL(p.status, 201);
    auto project_id = p.body["id"].get<std::string>();
    auto e = api("POST", "/api/projects/" + project_id + "/environments",
                 json{{"name", "production"},
                      {"type", "production"},
                      {"domain", name + ".example.com"},
                      {"healthCheck", {{"timeoutSeconds", 30}}},
                      {"buildNodeLabels", build_labels},
                      {"runNodeLabels", run_labels}});
    if (e.status != 201)
      CAF_FAIL("create environment: " << e.describe());
    return {project_id, e.body["id"].get<std::string>()};
  }

  json deploy(const std::pair<std::string, std::string>& app, const std::string& sha) {
    auto r = api("POST", "/api/projects/" + app.first + "/deployments",
                 json{{"environmentId", app.second}, {"commitSha", sha}});
    if (r.status != 201)
      CAF_FAIL("deploy: " << r.describe());
    return r.body;
  }

  json get(const std::string& id) {
    auto r = api("GET", "/api/deployments/" + id);
    CAF_REQUIRE_EQUAL(r.status, 200);
    return r.body;
  }

  static std::string str(const json& d, const char* key) {
    return d.contains(key) && d[key].is_string() ? d[key].get<std::string>() : std::string{};
  }

  static bool terminal(const json& d) {
    auto s = str(d, "status");
    return s != "pending" && s != "building";
  }

  json await_end(const std::string& id, std::chrono::seconds limit = 180s) {
    auto deadline = clock_type::now() + limit;
    for (;;) {
      auto d = get(id);
      if (terminal(d))
        return d;
      if (clock_type::now() > deadline)
        CAF_FAIL("deployment " << id << " still " << d.dump() << " after the deadline");
      std::this_thread::sleep_for(100ms);
    }
  }

  std::vector<std::string> log_lines(const std::string& id) {
    std::vector<std::string> lines;
    for (int page = 1;; ++page) {
      auto r = api("GET", "/api/deployments/" + id + "/logs?limit=100&page="
                            + std::to_string(page));
      if (r.status != 200)
        break;
      for (auto& item : r.body["items"])
        lines.push_back(item["message"].get<std::string>());
      if (!r.body["hasMore"].get<bool>())
        break;
    }
    return lines;
  }

  /// After node `victim` was killed or frozen at `since`: within 15 s the
  /// deployment `id` is rescheduled on `other` or failed naming the lost
  /// node, and `victim` shows as down. A build still running is cancelled
  /// afterwards so the fixture ends quickly.
  void check_lost(const std::string& id, const std::string& victim, const std::string& other,
                  clock_type::time_point since) {
    json d;
    bool settled = false;
    while (clock_type::now() - since < 15s) {
      d = get(id);
      auto status = str(d, "status");
      if (status == "failed" || (status == "building" && str(d, "buildNode") == other)) {
        settled = true;
        break;
      }
      std::this_thread::sleep_for(100ms);
    }
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - since);
    CAF_MESSAGE("after losing " << victim << ": " << d.dump() << " in " << took.count()
                                << " ms");
    CAF_CHECK(settled);
    if (str(d, "status") == "failed")
      CAF_CHECK(str(d, "errorMessage").find("node lost") != std::string::npos);
    auto left = 15s - std::min<std::chrono::milliseconds>(took, 15s);
    CAF_CHECK(await_node_state(victim, "down", std::max<std::chrono::milliseconds>(left, 1s)));
    if (!terminal(get(id)))
      api("DELETE", "/api/deployments/" + id);
  }

  /// Waits until deployment `id` builds on some node and its slow step's
  /// container (command with `marker`) runs on that node's daemon; returns
  /// the node's name.
  std::string await_slow_step(const std::string& id, const std::string& marker,
                              std::chrono::seconds limit = 90s) {
    auto deadline = clock_type::now() + limit;
    for (;;) {
      auto d = get(id);
      auto where = str(d, "buildNode");
      if (!where.empty())
        for (auto& n : nodes)
          if (n.name == where && !containers_with(*n.docker, marker).empty())
            return where;
      if (terminal(d) || clock_type::now() > deadline)
        CAF_FAIL("deployment " << id << " (" << d.dump() << ") never ran its slow step");
      std::this_thread::sleep_for(100ms);
    }
  }
};

/// Index of the first line containing `text`, or lines.size().
size_t index_of(const std::vector<std::string>& lines, const std::string& text) {
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find(text) != std::string::npos)
      return i;
  return lines.size();
}

#define START_FARM(...)                                                        \
  if (!start(__VA_ARGS__))                                                     \
    return;

} // namespace

CAF_TEST_FIXTURE_SCOPE(farm_tests, fixture)

CAF_TEST(a build on node A runs on node B through the registry) {
  START_FARM(true);
  auto app = create_app("handoff", json{{"role", "a"}}, json{{"role", "b"}});
  auto text = random_word("built-on-a-");
  auto sha = repo->commit({{"Dockerfile", web_dockerfile}, {"www/index.html", text}});
  auto d = deploy(app, sha);
  auto id = str(d, "id");
  auto done = await_end(id);
  if (str(done, "status") != "success")
    CAF_FAIL("deployment failed: " << done.dump() << "\nnode-a:\n"
                                   << node("node-a").process->output() << "\nnode-b:\n"
                                   << node("node-b").process->output());
  CAF_CHECK_EQUAL(str(done, "buildNode"), "node-a");
  CAF_CHECK_EQUAL(str(done, "runNode"), "node-b");
  auto container = str(done, "containerId");
  CAF_REQUIRE(!container.empty());
  // The container is on B's daemon only; the image was never built there.
  auto on_b = node("node-b").docker->inspect_container(container);
  CAF_REQUIRE(on_b);
  CAF_CHECK(on_b->running);
  CAF_CHECK(!node("node-a").docker->inspect_container(container));
  // One log, in order: A's build output, then B's pull.
  auto lines = log_lines(id);
  auto step1 = index_of(lines, " : FROM gilgal-test/busybox");
  auto step2 = index_of(lines, " : COPY www /www");
  auto pull = index_of(lines, "Pulling image " + registry->address() + "/");
  CAF_CHECK(step1 < step2);
  CAF_CHECK(step2 < pull);
  CAF_CHECK(pull < lines.size());
  // It answers with the content built on A.
  auto port = done["port"].get<int>();
  CAF_CHECK_EQUAL(get_text(port, "/index.html"), text);
}

CAF_TEST(an app run on node B answers through the control planes proxy at Bs address) {
  // B publishes its containers on another loopback address than the control
  // plane's: the proxy reaches the app only if it routes to B's address.
  proxy_port = free_port();
  advertise["node-b"] = "127.0.0.2";
  START_FARM(true);
  auto nodes = api("GET", "/api/nodes");
  CAF_REQUIRE_EQUAL(nodes.status, 200);
  for (auto& n : nodes.body["nodes"])
    CAF_CHECK_EQUAL(n["address"], n["name"] == "node-b" ? json("127.0.0.2") : json(nullptr));
  auto app = create_app("served", json{{"role", "a"}}, json{{"role", "b"}});
  auto text = random_word("served-from-b-");
  auto sha = repo->commit({{"Dockerfile", web_dockerfile}, {"www/index.html", text}});
  auto id = str(deploy(app, sha), "id");
  auto done = await_end(id);
  if (str(done, "status") != "success")
    CAF_FAIL("deployment failed: " << done.dump() << "\nnode-b:\n"
                                   << node("node-b").process->output());
  CAF_CHECK_EQUAL(str(done, "runNode"), "node-b");
  auto port = done["port"].get<int>();
  // Published on B's address, not on the control plane's.
  CAF_CHECK_EQUAL(get_with_host(port, "served.example.com", "/index.html", "127.0.0.2").body,
                  text);
  CAF_CHECK(get_with_host(port, "served.example.com", "/index.html").body != text);
  // Through the control plane's Caddy, at the environment's domain.
  CAF_CHECK(eventually([&] { return get_with_host(proxy_port, "served.example.com").body == text; },
                       5s));
  auto lines = log_lines(id);
  CAF_CHECK(index_of(lines, "Routing served.example.com → container ") < lines.size());
  CAF_CHECK(index_of(lines, "(node node-b, port " + std::to_string(port) + ")") < lines.size());
}

CAF_TEST(builds spread over both nodes) {
  START_FARM(true);
  // Two builds at once on two apps: each node has one slot, so both are used.
  auto first = create_app("spread-one");
  auto second = create_app("spread-two");
  auto marker_one = random_word("spread-one-");
  auto marker_two = random_word("spread-two-");
  auto sha_one = repo->commit({{"Dockerfile", slow_web_dockerfile(marker_one, 3)}});
  auto sha_two = repo->commit({{"Dockerfile", slow_web_dockerfile(marker_two, 3)}});
  auto d1 = str(deploy(first, sha_one), "id");
  auto d2 = str(deploy(second, sha_two), "id");
  auto e1 = await_end(d1);
  auto e2 = await_end(d2);
  CAF_CHECK_EQUAL(str(e1, "status"), "success");
  CAF_CHECK_EQUAL(str(e2, "status"), "success");
  auto n1 = str(e1, "buildNode");
  auto n2 = str(e2, "buildNode");
  CAF_MESSAGE("builds on " << n1 << " and " << n2);
  CAF_CHECK(!n1.empty());
  CAF_CHECK(!n2.empty());
  CAF_CHECK_NOT_EQUAL(n1, n2);
}

CAF_TEST(sigkill of the building node reschedules or fails within 15 s) {
  START_FARM(true);
  auto app = create_app("lost");
  auto marker = random_word("lost-");
  auto sha = repo->commit({{"Dockerfile", slow_dockerfile(marker)}});
  auto id = str(deploy(app, sha), "id");
  auto victim = await_slow_step(id, marker);
  auto other = victim == "node-a" ? std::string{"node-b"} : std::string{"node-a"};
  auto killed_at = clock_type::now();
  node(victim).process->kill_hard();
  check_lost(id, victim, other, killed_at);
}

CAF_TEST(a frozen node is declared down by the heartbeat within 15 s) {
  START_FARM(true);
  // SIGSTOP keeps the connection open: only the heartbeat timeout sees it.
  auto app = create_app("frozen");
  auto marker = random_word("frozen-");
  auto sha = repo->commit({{"Dockerfile", slow_dockerfile(marker)}});
  auto id = str(deploy(app, sha), "id");
  auto victim = await_slow_step(id, marker);
  auto other = victim == "node-a" ? std::string{"node-b"} : std::string{"node-a"};
  auto pid = node(victim).process->pid();
  auto stopped_at = clock_type::now();
  ::kill(pid, SIGSTOP);
  check_lost(id, victim, other, stopped_at);
  ::kill(pid, SIGCONT);
}

CAF_TEST(a killed node that returns joins again and its leftovers are removed) {
  START_FARM(true);
  auto app = create_app("returns", json{{"role", "a"}});
  auto marker = random_word("returns-");
  auto sha = repo->commit({{"Dockerfile", slow_dockerfile(marker)}});
  auto id = str(deploy(app, sha), "id");
  CAF_REQUIRE_EQUAL(await_slow_step(id, marker), "node-a");
  auto& a = node("node-a");
  a.process->kill_hard();
  CAF_CHECK(await_node_state("node-a", "down", 15s));
  // Its build container outlived it on its daemon.
  auto leftovers = containers_with(*a.docker, marker);
  CAF_CHECK(!leftovers.empty());
  a.process = std::make_unique<gilgal_node>(node_opts(a));
  CAF_CHECK(await_node_state("node-a", "up", 15s));
  // The leftovers go (a build placed there again makes a new container with
  // the same command: only the old ids count).
  auto still_there = [&] {
    for (auto& c : leftovers)
      if (a.docker->inspect_container(c))
        return true;
    return false;
  };
  auto deadline = clock_type::now() + 15s;
  while (still_there() && clock_type::now() < deadline)
    std::this_thread::sleep_for(100ms);
  CAF_CHECK(!still_there());
  // The deployment is not stuck: failed, or building again on node-a (the
  // only node with role=a).
  auto d = get(id);
  CAF_MESSAGE("after the return: " << d.dump());
  CAF_CHECK(str(d, "status") == "failed"
            || (str(d, "status") == "building" && str(d, "buildNode") == "node-a"));
  if (str(d, "status") == "failed")
    CAF_CHECK(str(d, "errorMessage").find("node lost") != std::string::npos);
  if (!terminal(d))
    api("DELETE", "/api/deployments/" + id);
}

CAF_TEST(cancel of a build on a remote node stops it there within 2 s) {
  START_FARM(true);
  auto app = create_app("cancel", json{{"role", "b"}});
  auto marker = random_word("cancel-");
  auto sha = repo->commit({{"Dockerfile", slow_dockerfile(marker)}});
  auto id = str(deploy(app, sha), "id");
  auto where = await_slow_step(id, marker);
  CAF_CHECK_EQUAL(where, "node-b");
  auto& b = node("node-b");
  auto started = clock_type::now();
  auto r = api("DELETE", "/api/deployments/" + id);
  CAF_CHECK(r.status == 200 || r.status == 202);
  // Cancelled and the build container gone from B's daemon, within 2 s.
  bool gone = false;
  json d;
  while (clock_type::now() - started < 2s) {
    d = get(id);
    if (str(d, "status") == "cancelled" && containers_with(*b.docker, marker).empty()) {
      gone = true;
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started);
  CAF_MESSAGE("cancel took " << took.count() << " ms: " << d.dump());
  CAF_CHECK(gone);
  CAF_CHECK_EQUAL(str(d, "status"), "cancelled");
}

CAF_TEST(a node with a wrong secret is refused) {
  START_FARM(true);
  auto opts = node_opts(node("node-a"));
  opts.name = "intruder";
  opts.secret = "not-the-secret-0123456789";
  opts.wait_joined = false;
  gilgal_node intruder{opts};
  auto code = intruder.wait_exit(20s);
  CAF_CHECK_EQUAL(code, 1);
  CAF_CHECK(intruder.output().find("refused") != std::string::npos);
  CAF_CHECK(intruder.output().find("node intruder joined") == std::string::npos);
  CAF_CHECK(srv->wait_for_log("refused node 'intruder'", 5s));
  auto states = node_states();
  CAF_CHECK(states.count("intruder") == 0);
  CAF_CHECK_EQUAL(states.size(), 2u);
  // The secret never shows in either log.
  CAF_CHECK(intruder.output().find(opts.secret) == std::string::npos);
  CAF_CHECK(srv->log().find(secret) == std::string::npos);
}

CAF_TEST(without a registry a deployment builds and runs on one node) {
  START_FARM(false);
  // Two at once, so that both nodes build: each runs where it was built.
  auto first = create_app("local-one");
  auto second = create_app("local-two");
  auto marker_one = random_word("local-one-");
  auto marker_two = random_word("local-two-");
  auto d1 = str(deploy(first, repo->commit({{"Dockerfile", slow_web_dockerfile(marker_one, 2)}})),
                "id");
  auto d2 = str(deploy(second, repo->commit({{"Dockerfile", slow_web_dockerfile(marker_two, 2)}})),
                "id");
  std::set<std::string> builders;
  for (auto& [id, marker] : {std::pair{d1, marker_one}, std::pair{d2, marker_two}}) {
    auto done = await_end(id);
    CAF_CHECK_EQUAL(str(done, "status"), "success");
    auto built = str(done, "buildNode");
    CAF_CHECK_EQUAL(str(done, "runNode"), built);
    builders.insert(built);
    auto lines = log_lines(id);
    CAF_CHECK_EQUAL(index_of(lines, "Pulling image"), lines.size());
    if (str(done, "status") == "success") {
      CAF_CHECK(node(built).docker->inspect_container(str(done, "containerId")));
      CAF_CHECK_EQUAL(get_text(done["port"].get<int>(), "/index.html"), marker + "\n");
    }
  }
  CAF_CHECK_EQUAL(builders.size(), 2u);
}

CAF_TEST(restarts of a container on a remote node reach its log on the control plane) {
  START_FARM(false);
  auto app = create_app("crashing");
  // Serves long enough to pass its health check, then exits with code 3.
  auto sha = repo->commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\nCOPY www /www\n"
                                          "CMD [\"/bin/sh\", \"-c\", \"httpd -p $PORT -h /www; "
                                          "sleep 3; exit 3\"]\n"},
                           {"www/index.html", "crash soon\n"}});
  auto id = str(deploy(app, sha), "id");
  auto done = await_end(id);
  CAF_REQUIRE_EQUAL(str(done, "status"), "success");
  auto deadline = clock_type::now() + 30s;
  bool logged = false;
  while (!logged && clock_type::now() < deadline) {
    auto lines = log_lines(id);
    logged = index_of(lines, "Container exited with code 3; restarting (restart 1)")
             < lines.size();
    if (!logged)
      std::this_thread::sleep_for(200ms);
  }
  CAF_CHECK(logged);
  // Numbered after the pipeline's lines: one log, no gaps, no clashes.
  auto r = api("GET", "/api/deployments/" + id + "/logs?limit=100");
  CAF_REQUIRE_EQUAL(r.status, 200);
  int64_t expected_seq = 1;
  for (auto& item : r.body["items"])
    CAF_CHECK_EQUAL(item["seq"].get<int64_t>(), expected_seq++);
}

CAF_TEST(over TLS a build on one node runs on the other and a remote cancel stops it) {
  START_FARM(true, true);
  CAF_CHECK(srv->wait_for_log("cluster: listening on"));
  // The handoff, with every message between the processes over TLS.
  auto app = create_app("tls-handoff", json{{"role", "a"}}, json{{"role", "b"}});
  auto text = random_word("built-over-tls-");
  auto d = deploy(app, repo->commit({{"Dockerfile", web_dockerfile}, {"www/index.html", text}}));
  auto done = await_end(str(d, "id"));
  if (str(done, "status") != "success")
    CAF_FAIL("the handoff over TLS did not succeed: " << done.dump());
  CAF_CHECK_EQUAL(str(done, "buildNode"), "node-a");
  CAF_CHECK_EQUAL(str(done, "runNode"), "node-b");
  CAF_CHECK_EQUAL(get_text(done["port"].get<int>(), "/index.html"), text);
  // A cancel travels over the TLS link to the remote builder.
  auto marker = random_word("tls-slow-");
  auto slow = str(deploy(app, repo->commit({{"Dockerfile", slow_dockerfile(marker)}})), "id");
  auto where = await_slow_step(slow, marker);
  auto t0 = clock_type::now();
  CAF_CHECK_EQUAL(api("DELETE", "/api/deployments/" + slow).status, 200);
  bool gone = false;
  while (!gone && clock_type::now() - t0 < 2s) {
    gone = containers_with(*node(where).docker, marker).empty();
    if (!gone)
      std::this_thread::sleep_for(20ms);
  }
  CAF_CHECK(gone);
  CAF_CHECK_EQUAL(str(get(slow), "status"), "cancelled");
}

CAF_TEST_FIXTURE_SCOPE_END()
