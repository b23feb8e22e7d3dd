// The cluster port is not an open door: a bare CAF peer that connects to a
// real `gilgal serve --cluster-listen` (loopback, no TLS: the weakest setup)
// without joining, and addresses the control plane's actors by guessed IDs
// (CAF 0.17's BASP delivers to any actor once it was serialized to a node),
// gets nothing done: no node registered, no log line stored, no container
// stopped, and the server keeps serving its real node.
//
// The peer uses CAF's own middleman: remote_actor() to the published
// gatekeeper opens the connection, then a forwarding proxy per guessed ID
// (what the middleman would make for an actor handle it deserialized) sends
// through that connection, once with the peer's own actor as sender and once
// anonymously.
#define CAF_SUITE cluster.open_door
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <random>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/forwarding_actor_proxy.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/make_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "nodes/docker_client.hpp"
#include "protocol/error.hpp"
#include "protocol/interfaces.hpp"
#include "protocol/type_ids.hpp"
#include "tests/fixtures/gilgal_node.hpp"
#include "tests/fixtures/gilgal_server.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"
#include "tests/http/api_support.hpp"

using namespace gilgal;
using namespace gilgal::test;
using namespace std::chrono_literals;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

const bool long_watchdog = [] {
  caf::test::engine::max_runtime(300);
  return true;
}();

std::string random_word(const std::string& prefix) {
  std::random_device rd;
  std::ostringstream out;
  out << prefix << ::getpid() << "-" << std::hex << rd() << rd();
  return out.str();
}

const char* web_dockerfile = R"(FROM gilgal-test/busybox:latest
COPY www /www
CMD ["/bin/sh", "-c", "exec httpd -f -p $PORT -h /www"]
)";

/// Actor IDs tried. A control plane spawns a few dozen actors before the
/// attack; every ID up to here is addressed.
constexpr caf::actor_id highest_guess = 400;

/// A peer that speaks BASP but never joins.
struct intruder {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;

  intruder() {
    add_message_types(cfg);
    cfg.load<caf::io::middleman>();
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  /// A handle to actor `id` of node `where`, sent through the middleman's
  /// connection to that node.
  caf::actor guess(const caf::node_id& where, caf::actor_id id) {
    auto broker = sys->middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
    caf::actor_config acfg;
    auto ptr = caf::make_actor<caf::forwarding_actor_proxy, caf::strong_actor_ptr>(
      id, where, sys.get(), acfg, broker);
    return caf::actor_cast<caf::actor>(std::move(ptr));
  }
};

/// A node stand-in the intruder offers in its forged join.
node_actor::behavior_type evil_node(node_actor::pointer) {
  return {
    [](new_atom, build_atom) -> caf::result<builder_actor> {
      return make_error(errc::unavailable, "no");
    },
    [](new_atom, run_atom) -> caf::result<runner_actor> {
      return make_error(errc::unavailable, "no");
    },
    [](stop_atom, const std::string&) { return false; },
    [](retire_atom, const std::string&, const std::string&) { return int64_t{0}; },
    [](list_atom) { return std::map<std::string, std::string>{}; },
    [](health_atom, const std::string&) -> caf::result<container_health> {
      return make_error(errc::not_found, "no");
    },
    [](retain_atom, const std::string&, const std::set<std::string>&) { return int64_t{0}; },
    [](logs_atom, const std::string&, const gilgal::container_log_query&)
      -> caf::result<gilgal::container_log_batch> {
      return gilgal::make_error(gilgal::errc::not_found, "no such container");
    },
    [](control_atom, const gilgal::container_command&) -> caf::result<gilgal::container_health> {
      return gilgal::make_error(gilgal::errc::not_found, "no such container");
    },
  };
}

std::string str(const json& d, const char* key) {
  return d.contains(key) && d[key].is_string() ? d[key].get<std::string>() : std::string{};
}

} // namespace

CAF_TEST(a peer that never joined cannot register stop forge or read) {
  auto host = docker_host();
  if (host.empty()) {
    CAF_MESSAGE("skipped: GILGAL_TEST_DOCKER_HOST is not set");
    return;
  }
  docker_client docker{host};
  if (auto img = ensure_busybox_image(docker); !img)
    CAF_FAIL("test image: " << message_of(img.error()));
  // A control plane without a node of its own and one real node, so that the
  // scheduler, the logger and a deployment actor have all been serialized to
  // a peer (and are addressable by ID) before the attack.
  auto secret = random_word("secret-") + "-0123456789abcdef";
  auto cluster_port = free_port();
  server_options opts;
  opts.allow_local_sources = true;
  opts.env["GILGAL_CLUSTER_SECRET"] = secret;
  opts.extra_args = {"--cluster-listen", "127.0.0.1:" + std::to_string(cluster_port),
                     "--no-local-node"};
  gilgal_server srv{opts};
  CAF_CHECK(srv.wait_for_log("listening on loopback without TLS"));
  node_options nopts;
  nopts.join = "127.0.0.1:" + std::to_string(cluster_port);
  nopts.name = "real-node";
  nopts.capacity = 1;
  nopts.secret = secret;
  nopts.docker_host = host;
  gilgal_node node{nopts};
  auto api = [&](const std::string& method, const std::string& path,
                 const std::optional<json>& body = std::nullopt) {
    auto cli = srv.client();
    return body ? call(*cli, method, path, srv.token(), *body)
                : call(*cli, method, path, srv.token());
  };
  git_repo repo;
  auto text = random_word("served-");
  auto sha = repo.commit({{"Dockerfile", web_dockerfile}, {"www/index.html", text}});
  auto p = api("POST", "/api/projects",
               json{{"name", "open-door"}, {"repositoryUrl", repo.path()}});
  CAF_REQUIRE_EQUAL(p.status, 201);
  auto project_id = str(p.body, "id");
  // The app's container and images go from the shared daemon however the
  // test ends (before the server and the node stop).
  struct project_leftovers {
    docker_client& docker;
    std::string project_id;
    ~project_leftovers() {
      if (auto list = docker.list_containers({"gilgal.project=" + project_id}, true))
        for (auto& c : *list)
          docker.remove_container(c.id, true, true);
      if (auto images = docker.list_images({"gilgal.project=" + project_id}))
        for (auto& img : *images)
          docker.remove_image(img.id, true);
    }
  } leftovers{docker, project_id};
  auto e = api("POST", "/api/projects/" + project_id + "/environments",
               json{{"name", "production"}, {"type", "production"},
                    {"domain", "open-door.example.com"}});
  CAF_REQUIRE_EQUAL(e.status, 201);
  auto env_id = str(e.body, "id");
  auto d = api("POST", "/api/projects/" + project_id + "/deployments",
               json{{"environmentId", env_id}, {"commitSha", sha}});
  CAF_REQUIRE_EQUAL(d.status, 201);
  auto deployment_id = str(d.body, "id");
  json done;
  for (auto until = clock_type::now() + 120s;;) {
    done = api("GET", "/api/deployments/" + deployment_id).body;
    auto s = str(done, "status");
    if (s != "pending" && s != "building")
      break;
    if (clock_type::now() > until)
      CAF_FAIL("the deployment did not end: " << done.dump());
    std::this_thread::sleep_for(100ms);
  }
  if (str(done, "status") != "success")
    CAF_FAIL("deployment failed: " << done.dump() << "\nnode:\n" << node.output());
  auto container = str(done, "containerId");
  CAF_REQUIRE(!container.empty());
  auto lines_before = api("GET", "/api/deployments/" + deployment_id + "/logs?limit=100")
                        .body["items"]
                        .size();

  // The attack: every guessed ID gets a node's business, with the intruder's
  // actor as sender and then anonymously.
  intruder peer;
  auto gk = peer.sys->middleman().remote_actor<gatekeeper_actor>("127.0.0.1", cluster_port);
  CAF_REQUIRE(gk);
  auto plane = gk->node();
  auto fake = peer.sys->spawn(evil_node);
  auto forged = random_word("forged-line-");
  {
    caf::scoped_actor self{*peer.sys};
    // The guessed handles live until the end: a proxy's destructor makes the
    // middleman forget the proxy of that ID, the gatekeeper's included.
    std::vector<caf::actor> guessed;
    for (caf::actor_id id = 1; id <= highest_guess; ++id)
      guessed.push_back(peer.guess(plane, id));
    auto spray = [&](auto send) {
      for (auto& target : guessed) {
        send(target, join_atom::value, node_info{"intruder", 64, {}, {}}, fake);
        send(target, heartbeat_atom::value, std::string{"intruder"});
        send(target, log_atom::value, deployment_id, std::string{"info"}, forged);
        send(target, close_atom::value, deployment_id);
        send(target, stop_atom::value, container);
        send(target, retire_atom::value, env_id, std::string{});
        send(target, lost_atom::value, std::string{"real-node"});
        send(target, subscribe_atom::value, deployment_id, int64_t{0},
             caf::actor_cast<caf::actor>(self));
      }
    };
    spray([&](const caf::actor& t, auto&&... xs) { self->send(t, xs...); });
    spray([&](const caf::actor& t, auto&&... xs) { caf::anon_send(t, xs...); });
    // The server saw them: the guards and handlers logged their drops.
    CAF_CHECK(srv.wait_for_log("scheduler dropped a message from node", 20s));
    CAF_CHECK(srv.wait_for_log("logger dropped a message from node", 20s));
    CAF_CHECK(srv.wait_for_log("scheduler: dropped a 'stop' message from no sender", 20s));
    CAF_CHECK(srv.wait_for_log("logger: dropped a 'log' message from no sender", 20s));
    // The last message of the spray went to the highest ID; once a request
    // to the gatekeeper is answered over the same connection, the spray was
    // delivered.
    self->request(*gk, 10s, hello_atom::value, cluster_protocol_version, std::string{"probe"})
      .receive([](const std::string&) {},
               [](const caf::error& err) { CAF_FAIL("hello: " << to_string(err)); });
    // Nothing the intruder subscribed to arrives (a second of quiet).
    bool leaked = false;
    bool quiet = false;
    while (!leaked && !quiet)
      self->receive([&](log_atom, const log_line&) { leaked = true; },
                    [&](close_atom, const std::string&) { leaked = true; },
                    caf::after(1s) >> [&] { quiet = true; });
    CAF_CHECK(!leaked);
  }

  // No node registered and the real one still up.
  auto nodes = api("GET", "/api/nodes");
  CAF_REQUIRE_EQUAL(nodes.status, 200);
  bool intruder_listed = false;
  bool real_up = false;
  for (auto& n : nodes.body["nodes"]) {
    intruder_listed = intruder_listed || str(n, "name") == "intruder";
    real_up = real_up || (str(n, "name") == "real-node" && str(n, "state") == "up");
  }
  CAF_CHECK(!intruder_listed);
  CAF_CHECK(real_up);
  // No line stored, the log not closed twice, no forged text anywhere.
  auto logs = api("GET", "/api/deployments/" + deployment_id + "/logs?limit=100");
  CAF_REQUIRE_EQUAL(logs.status, 200);
  CAF_CHECK_EQUAL(logs.body["items"].size(), lines_before);
  CAF_CHECK(logs.body.dump().find(forged) == std::string::npos);
  // The container still runs and serves.
  auto inspected = docker.inspect_container(container);
  CAF_REQUIRE(inspected);
  CAF_CHECK(inspected->running);
  auto after = api("GET", "/api/deployments/" + deployment_id);
  CAF_CHECK_EQUAL(str(after.body, "status"), "success");
  // The server is alive.
  CAF_CHECK(srv.running());
  auto health = srv.client()->Get("/healthz");
  CAF_CHECK(health && health->status == 200);
  caf::anon_send_exit(fake, caf::exit_reason::user_shutdown);
}
