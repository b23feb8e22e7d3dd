// The cluster secret (environment or file, minimum length), the join proof,
// node labels and the cluster settings' consistency checks.
#define CAF_SUITE config.cluster_secret
#include <caf/test/unit_test.hpp>

#include <fstream>

#include "config/cluster_secret.hpp"
#include "config/settings.hpp"
#include "protocol/error.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

CAF_TEST(the secret comes from the setting or else from the file) {
  settings s;
  auto none = load_cluster_secret(s);
  CAF_REQUIRE(!none);
  CAF_CHECK(contains(message_of(none.error()), "a cluster needs a secret"));
  s.cluster_secret = "0123456789abcdef";
  auto direct = load_cluster_secret(s);
  CAF_REQUIRE(direct);
  CAF_CHECK_EQUAL(*direct, "0123456789abcdef");
  auto dir = test::make_temp_dir("gilgal-secret");
  s.cluster_secret.clear();
  s.cluster_secret_file = dir + "/secret";
  {
    std::ofstream out{s.cluster_secret_file};
    out << "secret-from-a-file-0123\n";
  }
  auto from_file = load_cluster_secret(s);
  CAF_REQUIRE(from_file);
  CAF_CHECK_EQUAL(*from_file, "secret-from-a-file-0123");
  {
    std::ofstream out{s.cluster_secret_file};
    out << "tiny\n";
  }
  auto tiny = load_cluster_secret(s);
  CAF_REQUIRE(!tiny);
  CAF_CHECK(contains(message_of(tiny.error()), "too short"));
  CAF_CHECK(!contains(message_of(tiny.error()), "tiny"));
  s.cluster_secret_file = dir + "/missing";
  auto missing = load_cluster_secret(s);
  CAF_REQUIRE(!missing);
  CAF_CHECK(contains(message_of(missing.error()), "cannot read the cluster secret file"));
  test::remove_tree(dir);
}

CAF_TEST(the proof is an hmac of the nonce keyed by the secret) {
  auto nonce = random_hex(32);
  CAF_CHECK_EQUAL(nonce.size(), 64u);
  CAF_CHECK_NOT_EQUAL(nonce, random_hex(32));
  auto proof = cluster_proof("0123456789abcdef", nonce);
  CAF_CHECK_EQUAL(proof.size(), 64u);
  CAF_CHECK(proof_matches("0123456789abcdef", nonce, proof));
  CAF_CHECK(!proof_matches("0123456789abcdeX", nonce, proof));
  CAF_CHECK(!proof_matches("0123456789abcdef", random_hex(32), proof));
  CAF_CHECK(!proof_matches("0123456789abcdef", nonce, proof.substr(1)));
  CAF_CHECK(!proof_matches("0123456789abcdef", nonce, ""));
  // RFC 4231 test case 2.
  CAF_CHECK_EQUAL(cluster_proof("Jefe", "what do ya want for nothing?"),
                  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

CAF_TEST(node labels are parsed and checked) {
  auto labels = parse_node_labels("arch=amd64,gpu=,zone=eu-west.1");
  CAF_REQUIRE(labels);
  CAF_CHECK_EQUAL(labels->size(), 3u);
  CAF_CHECK_EQUAL(labels->at("arch"), "amd64");
  CAF_CHECK_EQUAL(labels->at("gpu"), "");
  CAF_CHECK(parse_node_labels("")->empty());
  CAF_CHECK(!parse_node_labels("gpu"));
  CAF_CHECK(!parse_node_labels("=x"));
  CAF_CHECK(!parse_node_labels("a=b,,c=d"));
  CAF_CHECK(!parse_node_labels("a=b c"));
  CAF_CHECK(!parse_node_labels("a=1,a=2"));
  CAF_CHECK(!parse_node_labels("-a=1"));
  CAF_CHECK(!parse_node_labels(std::string(64, 'k') + "=v"));
}

CAF_TEST(cluster settings are validated together) {
  settings s;
  CAF_CHECK(validate(s));
  s.tls_certificate = "/c.pem";
  auto partial = validate(s);
  CAF_REQUIRE(!partial);
  CAF_CHECK(contains(message_of(partial.error()), "--cluster-cert, --cluster-key and --cluster-ca"));
  s.tls_key = "/c.key";
  s.tls_ca_file = "/ca.pem";
  CAF_CHECK(validate(s));
  CAF_CHECK(s.tls_enabled());
  s.cluster_listen = "no-port";
  CAF_CHECK(!validate(s));
  s.cluster_listen = "127.0.0.1:0";
  CAF_CHECK(validate(s));
  s.join = "127.0.0.1:99999";
  CAF_CHECK(!validate(s));
  s.join = "10.0.0.1:7000";
  s.node_labels = "bad label";
  CAF_CHECK(!validate(s));
}

CAF_TEST(the secret is settable from the environment but not from a flag) {
  for (auto& info : describe_settings()) {
    if (info.key == "cluster_secret") {
      CAF_CHECK_EQUAL(info.env, "GILGAL_CLUSTER_SECRET");
      CAF_CHECK(info.flag.empty());
    }
  }
}
