// `gilgal node --join` against a real `gilgal serve --cluster-listen`, as
// separate processes on loopback: the cluster secret, refusals, TLS with
// certificates from scripts/make-test-certs, rejoin after a restart of the
// control plane, and the node command's own argument checks.
#define CAF_SUITE cli.cluster_join
#include <caf/test/unit_test.hpp>

#include <csignal>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/fixtures/gilgal_node.hpp"
#include "tests/fixtures/gilgal_server.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_certs.hpp"

using namespace gilgal::test;
using namespace std::chrono_literals;

namespace {

const std::string secret = "the-cluster-secret-for-tests-0123";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size()))
    ++n;
  return n;
}

/// A control plane listening for nodes on a free port of 127.0.0.1.
struct cluster_server {
  int cluster_port = free_port();
  std::unique_ptr<gilgal_server> srv;

  explicit cluster_server(std::vector<std::string> extra = {}) {
    server_options opts;
    opts.env["GILGAL_CLUSTER_SECRET"] = secret;
    opts.extra_args = {"--cluster-listen", join_address()};
    opts.extra_args.insert(opts.extra_args.end(), extra.begin(), extra.end());
    srv = std::make_unique<gilgal_server>(opts);
    if (!srv->wait_for_log("cluster: listening on", 10s))
      CAF_FAIL("the server did not open its cluster listener; log:\n" << srv->log());
  }

  std::string join_address() const {
    return "127.0.0.1:" + std::to_string(cluster_port);
  }

  node_options node(const std::string& name, const std::string& key = secret) const {
    node_options opts;
    opts.join = join_address();
    opts.name = name;
    opts.capacity = 2;
    opts.secret = key;
    return opts;
  }

  /// GET /api/nodes: the entry of `name`, or null.
  nlohmann::json node_entry(const std::string& name) const {
    auto res = srv->client()->Get("/api/nodes", gilgal_server::bearer(srv->token()));
    if (!res || res->status != 200)
      return nullptr;
    auto body = nlohmann::json::parse(res->body, nullptr, false);
    auto& list = body.is_object() && body.contains("nodes") ? body["nodes"] : body;
    if (!list.is_array())
      return nullptr;
    for (auto& n : list)
      if (n.value("name", "") == name)
        return n;
    return nullptr;
  }

  /// Waits until GET /api/nodes shows `name` in `state`.
  bool wait_node_state(const std::string& name, const std::string& state,
                       std::chrono::milliseconds deadline = 10s) const {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      auto n = node_entry(name);
      if (!n.is_null() && n.value("state", "") == state)
        return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
};

} // namespace

CAF_TEST(a node with the cluster secret joins and shows up as up) {
  cluster_server cp;
  gilgal_node n1{cp.node("n1")};
  CAF_CHECK(contains(n1.output(), "node n1 joined " + cp.join_address()));
  CAF_CHECK(cp.srv->wait_for_log("cluster: node 'n1' joined"));
  CAF_CHECK(cp.wait_node_state("n1", "up"));
  auto entry = cp.node_entry("n1");
  CAF_CHECK_EQUAL(entry.value("capacity", 0), 2);
  // Neither side ever prints the secret.
  CAF_CHECK(!contains(cp.srv->log(), secret));
  CAF_CHECK(!contains(n1.output(), secret));
  CAF_CHECK_EQUAL(n1.stop(), 0);
}

CAF_TEST(a node with a wrong secret is refused and exits 1) {
  cluster_server cp;
  auto opts = cp.node("intruder", "a-wrong-secret-of-enough-length");
  opts.wait_joined = false;
  gilgal_node bad{opts};
  CAF_CHECK_EQUAL(bad.wait_exit(20s), 1);
  CAF_CHECK(contains(bad.output(), "error: the control plane refused this node: wrong cluster "
                                   "secret"));
  CAF_CHECK(!contains(bad.output(), "joined"));
  CAF_CHECK(cp.srv->wait_for_log("refused node 'intruder' from 127.0.0.1:"));
  CAF_CHECK(contains(cp.srv->log(), "wrong cluster secret"));
  CAF_CHECK(!contains(cp.srv->log(), "a-wrong-secret-of-enough-length"));
  CAF_CHECK(!contains(cp.srv->log(), secret));
  CAF_CHECK(cp.node_entry("intruder").is_null());
}

CAF_TEST(a node cannot take the name of the control plane own node) {
  cluster_server cp;
  auto opts = cp.node("local");
  opts.wait_joined = false;
  gilgal_node clash{opts};
  CAF_CHECK_EQUAL(clash.wait_exit(20s), 1);
  CAF_CHECK(contains(clash.output(), "is taken by the control plane's own node"));
  // The in-process node is untouched.
  CAF_CHECK(cp.wait_node_state("local", "up"));
  CAF_CHECK(cp.node_entry("local").value("local", false));
}

CAF_TEST(a node joins again after the control plane restarts) {
  cluster_server cp;
  gilgal_node n1{cp.node("n1")};
  CAF_REQUIRE_EQUAL(cp.srv->restart(), 0);
  CAF_REQUIRE(cp.srv->wait_for_log("cluster: listening on", 10s));
  auto until = std::chrono::steady_clock::now() + 20s;
  while (count_of(n1.output(), "node n1 joined") < 2 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(50ms);
  CAF_CHECK_EQUAL(count_of(n1.output(), "node n1 joined"), 2u);
  CAF_CHECK(cp.wait_node_state("n1", "up"));
}

CAF_TEST(a node notices a silent control plane and joins again when it answers) {
  cluster_server cp;
  gilgal_node n1{cp.node("n1")};
  // A frozen control plane sends no middleman heartbeats: the node's
  // connection times out (5 s) and it starts rejoining.
  ::kill(cp.srv->pid(), SIGSTOP);
  bool lost = n1.wait_for_output("lost the control plane", 15s);
  ::kill(cp.srv->pid(), SIGCONT);
  CAF_REQUIRE(lost);
  auto until = std::chrono::steady_clock::now() + 20s;
  while (count_of(n1.output(), "node n1 joined") < 2 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(50ms);
  CAF_CHECK_EQUAL(count_of(n1.output(), "node n1 joined"), 2u);
  CAF_CHECK(cp.wait_node_state("n1", "up"));
}

CAF_TEST(over TLS a node with certificates joins and one without cannot) {
  test_certs certs;
  cluster_server cp{certs.args("control-plane")};
  auto opts = cp.node("tls-node");
  opts.extra_args = certs.args("node");
  gilgal_node good{opts};
  CAF_CHECK(cp.wait_node_state("tls-node", "up"));
  // Without certificates: the TLS listener never lets it in; it keeps trying.
  auto plain = cp.node("plain-node");
  plain.wait_joined = false;
  gilgal_node bad{plain};
  CAF_CHECK(bad.wait_for_output("retrying in", 20s));
  CAF_CHECK(bad.wait_for_output("retrying in 2000 ms", 20s)); // a second failed attempt
  CAF_CHECK(bad.running());
  CAF_CHECK(!contains(bad.output(), "joined"));
  CAF_CHECK(cp.node_entry("plain-node").is_null());
}

CAF_TEST(a node whose certificate another CA signed fails the handshake) {
  test_certs ours;
  test_certs theirs; // a CA of its own: same names, other keys
  cluster_server cp{ours.args("control-plane")};
  auto opts = cp.node("foreign-node");
  opts.extra_args = theirs.args("node");
  opts.wait_joined = false;
  gilgal_node foreign{opts};
  CAF_CHECK(foreign.wait_for_output("retrying in", 20s));
  CAF_CHECK(foreign.wait_for_output("retrying in 2000 ms", 20s)); // a second failed attempt
  CAF_CHECK(!contains(foreign.output(), "joined"));
  CAF_CHECK(cp.node_entry("foreign-node").is_null());
  CAF_CHECK(!contains(cp.srv->log(), "'foreign-node' joined"));
  // A node of the cluster's CA still joins.
  auto good = cp.node("own-node");
  good.extra_args = ours.args("node");
  gilgal_node own{good};
  CAF_CHECK(cp.wait_node_state("own-node", "up"));
}

CAF_TEST(a cluster port other machines can reach requires mutual TLS) {
  auto dir = make_temp_dir("gilgal-cluster-notls");
  auto cluster = std::to_string(free_port());
  for (auto host : {"0.0.0.0", "[::]"}) {
    std::vector<std::string> args{"serve",      "--listen",
                                  "127.0.0.1:" + std::to_string(free_port()),
                                  "--data-dir", dir,
                                  "--cluster-listen", std::string{host} + ":" + cluster};
    auto res = run_gilgal(args, {{{"GILGAL_CLUSTER_SECRET", secret}}, 30s});
    CAF_CHECK_NOT_EQUAL(res.exit_code, 0);
    CAF_CHECK(contains(res.out + res.err, "is reachable from other machines: it requires mutual "
                                          "TLS (--cluster-cert, --cluster-key and --cluster-ca"));
    CAF_CHECK(!contains(res.out + res.err, "cluster: listening on"));
  }
  remove_tree(dir);
}

CAF_TEST(on loopback without TLS the control plane warns) {
  cluster_server cp;
  CAF_CHECK(cp.srv->wait_for_log("cluster: listening on loopback without TLS"));
}

CAF_TEST(serving a cluster needs a long enough secret) {
  auto port = free_port();
  auto dir = make_temp_dir("gilgal-cluster-nosecret");
  std::vector<std::string> args{"serve", "--listen", "127.0.0.1:" + std::to_string(free_port()),
                                "--data-dir", dir, "--cluster-listen",
                                "127.0.0.1:" + std::to_string(port)};
  auto none = run_gilgal(args, {{}, 30s});
  CAF_CHECK_NOT_EQUAL(none.exit_code, 0);
  CAF_CHECK(contains(none.out + none.err, "a cluster needs a secret"));
  auto shorty = run_gilgal(args, {{{"GILGAL_CLUSTER_SECRET", "short"}}, 30s});
  CAF_CHECK_NOT_EQUAL(shorty.exit_code, 0);
  CAF_CHECK(contains(shorty.out + shorty.err, "too short"));
  CAF_CHECK(!contains(shorty.out + shorty.err, "=short"));
  remove_tree(dir);
}

CAF_TEST(gilgal node checks its arguments) {
  auto no_join = run_gilgal({"node", "--name", "n1"},
                            {{{"GILGAL_CLUSTER_SECRET", secret}}, 30s});
  CAF_CHECK_EQUAL(no_join.exit_code, 2);
  CAF_CHECK(contains(no_join.err, "needs --join HOST:PORT"));
  auto no_secret = run_gilgal({"node", "--join", "127.0.0.1:1", "--name", "n1"}, {{}, 30s});
  CAF_CHECK_EQUAL(no_secret.exit_code, 2);
  CAF_CHECK(contains(no_secret.err, "a cluster needs a secret"));
  auto bad_labels = run_gilgal({"node", "--join", "127.0.0.1:1", "--labels", "gpu"},
                               {{{"GILGAL_CLUSTER_SECRET", secret}}, 30s});
  CAF_CHECK_EQUAL(bad_labels.exit_code, 2);
  CAF_CHECK(contains(bad_labels.err, "labels: 'gpu' is not KEY=VALUE"));
  auto bad_name = run_gilgal({"node", "--join", "127.0.0.1:1", "--name", "no spaces"},
                             {{{"GILGAL_CLUSTER_SECRET", secret}}, 30s});
  CAF_CHECK_EQUAL(bad_name.exit_code, 2);
  CAF_CHECK(contains(bad_name.err, "node name"));
  auto half_tls = run_gilgal({"node", "--join", "127.0.0.1:1", "--cluster-cert", "/x.pem"},
                             {{{"GILGAL_CLUSTER_SECRET", secret}}, 30s});
  CAF_CHECK_EQUAL(half_tls.exit_code, 2);
  CAF_CHECK(contains(half_tls.err, "all of --cluster-cert, --cluster-key and --cluster-ca"));
  auto help = run_gilgal({"node", "--help"});
  CAF_CHECK_EQUAL(help.exit_code, 0);
  for (auto flag : {"--join", "--name", "--capacity", "--labels", "--docker-host", "--data-dir",
                    "--cluster-secret-file", "--cluster-cert", "--log-level"})
    if (!contains(help.out, flag))
      CAF_ERROR("gilgal node --help does not list " << flag);
  CAF_CHECK(!contains(help.out, "--database-url"));
  CAF_CHECK(!contains(help.out, "--cluster-listen TEXT"));
}
