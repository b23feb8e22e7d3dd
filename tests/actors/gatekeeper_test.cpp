// The gatekeeper's join protocol on CAF's deterministic scheduler, with
// stand-in scheduler, node, store and logger actors.
#define CAF_SUITE actors.gatekeeper
#include <caf/test/dsl.hpp>

#include <memory>

#include "actors/container_sweep.hpp"
#include "actors/gatekeeper.hpp"
#include "config/cluster_secret.hpp"
#include "protocol/error.hpp"

using namespace gilgal;

// The sweep works on one node or, through the scheduler, on all of them.
static_assert(std::is_convertible<node_actor, sweep_target>::value, "");
static_assert(std::is_convertible<scheduler_actor, sweep_target>::value, "");

namespace {

struct config : caf::actor_system_config {
  config() {
    gilgal::add_message_types(*this);
  }
};

const std::string secret = "a-cluster-secret-of-32-bytes-ok!";

/// What the stand-ins saw.
struct recording {
  std::vector<node_info> joined;
  std::vector<std::string> heartbeats;
  std::vector<std::string> stopped; // containers the node was told to stop
  bool listed = false;
};

struct fixture : test_coordinator_fixture<config> {
  std::shared_ptr<recording> rec = std::make_shared<recording>();
  caf::actor scheduler_standin;
  caf::actor logger_standin;
  caf::actor store_standin;
  caf::actor node_standin;
  gatekeeper_actor gk;
  std::shared_ptr<admitted_nodes> admitted = std::make_shared<admitted_nodes>();

  fixture() {
    auto r = rec;
    scheduler_standin = sys.spawn([r]() -> caf::behavior {
      return {
        [r](join_atom, const node_info& info, const node_actor&) {
          r->joined.push_back(info);
          return true;
        },
        [r](heartbeat_atom, const std::string& name) { r->heartbeats.push_back(name); },
      };
    });
    logger_standin = sys.spawn([]() -> caf::behavior {
      return {[](log_atom, const std::string&, const std::string&, const std::string&) {}};
    });
    store_standin = sys.spawn([]() -> caf::behavior {
      return {
        [](keep_atom, const std::map<std::string, std::string>&) {
          return std::vector<std::string>{"c-live"};
        },
      };
    });
    node_standin = sys.spawn([r]() -> caf::behavior {
      return {
        [r](list_atom) {
          r->listed = true;
          return std::map<std::string, std::string>{{"c-live", "d1"}, {"c-orphan", "d2"}};
        },
        [r](stop_atom, const std::string& id) {
          r->stopped.push_back(id);
          return true;
        },
      };
    });
    gatekeeper_config cfg;
    cfg.secret = secret;
    cfg.scheduler = caf::actor_cast<scheduler_actor>(scheduler_standin);
    cfg.log = caf::actor_cast<logger_actor>(logger_standin);
    cfg.db = caf::actor_cast<deployment_store_actor>(store_standin);
    cfg.admitted = admitted;
    cfg.max_capacity = 3;
    gk = spawn_gatekeeper(sys, cfg);
    run();
  }

  ~fixture() {
    for (auto& a : {caf::actor_cast<caf::actor>(gk), scheduler_standin, logger_standin,
                    store_standin, node_standin})
      anon_send_exit(a, caf::exit_reason::user_shutdown);
    run();
  }

  node_actor node() const {
    return caf::actor_cast<node_actor>(node_standin);
  }

  /// hello; the nonce, or the error.
  caf::expected<std::string> hello(int64_t version, const std::string& name) {
    caf::expected<std::string> out{caf::sec::none};
    auto h = self->request(gk, caf::infinite, hello_atom::value, version, name);
    run();
    h.receive([&](std::string& nonce) { out = std::move(nonce); },
              [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  node_registration registration(const std::string& name, const std::string& nonce,
                                 const std::string& key = secret) {
    node_registration reg;
    reg.protocol_version = cluster_protocol_version;
    reg.info.name = name;
    reg.info.capacity = 3;
    reg.info.labels = {{"arch", "amd64"}};
    reg.nonce = nonce;
    reg.proof = cluster_proof(key, nonce);
    return reg;
  }

  /// join; the session token, or the error.
  caf::expected<std::string> join(const node_registration& reg) {
    caf::expected<std::string> out{caf::sec::none};
    auto h = self->request(gk, caf::infinite, join_atom::value, reg, node());
    run();
    h.receive(
      [&](std::string& token, logger_actor& log) {
        CAF_CHECK_EQUAL(log, caf::actor_cast<logger_actor>(logger_standin));
        out = std::move(token);
      },
      [&](caf::error& err) { out = std::move(err); });
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(gatekeeper_tests, fixture)

CAF_TEST(hello with another protocol version is a conflict naming both versions) {
  auto nonce = hello(cluster_protocol_version + 1, "n1");
  CAF_REQUIRE(!nonce);
  CAF_CHECK(code_of(nonce.error()) == errc::conflict);
  CAF_CHECK_EQUAL(message_of(nonce.error()),
                  "protocol version mismatch: node speaks "
                    + std::to_string(cluster_protocol_version + 1) + ", control plane speaks "
                    + std::to_string(cluster_protocol_version));
}

CAF_TEST(join with a wrong proof is unauthorized and the scheduler never hears of it) {
  auto nonce = hello(cluster_protocol_version, "n1");
  CAF_REQUIRE(nonce);
  CAF_CHECK_EQUAL(nonce->size(), 64u);
  auto token = join(registration("n1", *nonce, "another-secret-of-enough-bytes"));
  CAF_REQUIRE(!token);
  CAF_CHECK(code_of(token.error()) == errc::unauthorized);
  CAF_CHECK_EQUAL(message_of(token.error()), "wrong cluster secret");
  CAF_CHECK(rec->joined.empty());
  CAF_CHECK(!rec->listed);
}

CAF_TEST(a nonce is single use even after a failed join) {
  auto nonce = hello(cluster_protocol_version, "n1");
  CAF_REQUIRE(nonce);
  auto bad = join(registration("n1", *nonce, "another-secret-of-enough-bytes"));
  CAF_REQUIRE(!bad);
  auto again = join(registration("n1", *nonce));
  CAF_REQUIRE(!again);
  CAF_CHECK(code_of(again.error()) == errc::unauthorized);
  CAF_CHECK(rec->joined.empty());
}

CAF_TEST(a reused nonce is refused after a successful join) {
  auto nonce = hello(cluster_protocol_version, "n1");
  CAF_REQUIRE(nonce);
  CAF_REQUIRE(join(registration("n1", *nonce)));
  auto again = join(registration("n1", *nonce));
  CAF_REQUIRE(!again);
  CAF_CHECK(code_of(again.error()) == errc::unauthorized);
  CAF_CHECK_EQUAL(rec->joined.size(), 1u);
}

CAF_TEST(an unknown or expired nonce is refused) {
  auto unknown = join(registration("n1", std::string(64, 'a')));
  CAF_REQUIRE(!unknown);
  CAF_CHECK(code_of(unknown.error()) == errc::unauthorized);
  auto nonce = hello(cluster_protocol_version, "n1");
  CAF_REQUIRE(nonce);
  sched.clock().current_time += std::chrono::seconds{31};
  auto expired = join(registration("n1", *nonce));
  CAF_REQUIRE(!expired);
  CAF_CHECK(code_of(expired.error()) == errc::unauthorized);
  CAF_CHECK(rec->joined.empty());
}

CAF_TEST(a nonce is bound to the name that asked for it) {
  auto nonce = hello(cluster_protocol_version, "n1");
  CAF_REQUIRE(nonce);
  auto token = join(registration("n2", *nonce));
  CAF_REQUIRE(!token);
  CAF_CHECK(code_of(token.error()) == errc::unauthorized);
  CAF_CHECK(rec->joined.empty());
}

CAF_TEST(join with another protocol version is a conflict) {
  auto nonce = hello(cluster_protocol_version, "n1");
  CAF_REQUIRE(nonce);
  auto reg = registration("n1", *nonce);
  reg.protocol_version = cluster_protocol_version + 1;
  auto token = join(reg);
  CAF_REQUIRE(!token);
  CAF_CHECK(code_of(token.error()) == errc::conflict);
  CAF_CHECK(rec->joined.empty());
}

CAF_TEST(a bad node name is refused) {
  auto nonce = hello(cluster_protocol_version, "bad name");
  CAF_REQUIRE(nonce);
  auto token = join(registration("bad name", *nonce));
  CAF_REQUIRE(!token);
  CAF_CHECK(code_of(token.error()) == errc::invalid_argument);
  CAF_CHECK(rec->joined.empty());
}

CAF_TEST(a nodes advertised address reaches the scheduler and a bad one is refused) {
  for (auto bad : {"0.0.0.0", "10.0.0.1/8", "host name", "a;b"}) {
    auto nonce = hello(cluster_protocol_version, "n1");
    CAF_REQUIRE(nonce);
    auto reg = registration("n1", *nonce);
    reg.info.address = bad;
    auto token = join(reg);
    CAF_REQUIRE(!token);
    CAF_CHECK(code_of(token.error()) == errc::invalid_argument);
  }
  CAF_CHECK(rec->joined.empty());
  auto nonce = hello(cluster_protocol_version, "n1");
  CAF_REQUIRE(nonce);
  auto reg = registration("n1", *nonce);
  reg.info.address = "10.0.0.21";
  CAF_REQUIRE(join(reg));
  CAF_REQUIRE_EQUAL(rec->joined.size(), 1u);
  CAF_CHECK_EQUAL(rec->joined[0].address, "10.0.0.21");
}

CAF_TEST(the right proof registers the node sweeps its containers and opens a session) {
  auto nonce = hello(cluster_protocol_version, "n1");
  CAF_REQUIRE(nonce);
  auto token = join(registration("n1", *nonce));
  CAF_REQUIRE(token);
  CAF_CHECK_EQUAL(token->size(), 64u);
  CAF_REQUIRE_EQUAL(rec->joined.size(), 1u);
  CAF_CHECK_EQUAL(rec->joined[0].name, "n1");
  CAF_CHECK_EQUAL(rec->joined[0].capacity, 3);
  CAF_CHECK_EQUAL(rec->joined[0].labels.at("arch"), "amd64");
  // The sweep: list -> keep -> stop the others.
  run();
  CAF_CHECK(rec->listed);
  CAF_CHECK_EQUAL(rec->stopped, std::vector<std::string>{"c-orphan"});
  // Heartbeats: a good token is forwarded by name, a bad one ignored.
  self->send(gk, heartbeat_atom::value, *token);
  self->send(gk, heartbeat_atom::value, std::string{"not-a-token"});
  run();
  CAF_CHECK_EQUAL(rec->heartbeats, std::vector<std::string>{"n1"});
}

CAF_TEST(a rejoin replaces the session token) {
  auto first = join(registration("n1", *hello(cluster_protocol_version, "n1")));
  CAF_REQUIRE(first);
  auto second = join(registration("n1", *hello(cluster_protocol_version, "n1")));
  CAF_REQUIRE(second);
  CAF_CHECK_NOT_EQUAL(*first, *second);
  self->send(gk, heartbeat_atom::value, *first);
  self->send(gk, heartbeat_atom::value, *second);
  run();
  CAF_CHECK_EQUAL(rec->heartbeats, std::vector<std::string>{"n1"});
  CAF_CHECK_EQUAL(rec->joined.size(), 2u);
}

CAF_TEST(the gatekeeper stops with the scheduler) {
  self->monitor(gk);
  anon_send_exit(scheduler_standin, caf::exit_reason::user_shutdown);
  run();
  bool down = false;
  self->receive([&](const caf::down_msg& msg) { down = msg.source == gk.address(); },
                caf::after(std::chrono::seconds{0}) >> [] {});
  CAF_CHECK(down);
}

CAF_TEST(a node that proves the secret is admitted with its capacity capped) {
  // The fixture's control plane gives a node at most 3 build slots.
  auto bad_nonce = hello(cluster_protocol_version, "n1");
  CAF_REQUIRE(bad_nonce);
  CAF_REQUIRE(!join(registration("n1", *bad_nonce, "another-secret-of-enough-bytes")));
  CAF_CHECK(!admitted->contains(node()->node()));
  auto nonce = hello(cluster_protocol_version, "n1");
  CAF_REQUIRE(nonce);
  auto reg = registration("n1", *nonce);
  reg.info.capacity = 200;
  CAF_REQUIRE(join(reg));
  CAF_REQUIRE_EQUAL(rec->joined.size(), 1u);
  CAF_CHECK_EQUAL(rec->joined[0].capacity, 3);
  CAF_CHECK(admitted->contains(node()->node()));
}

CAF_TEST_FIXTURE_SCOPE_END()
