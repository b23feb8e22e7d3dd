#define CAF_SUITE config.deploy_key
#include <caf/test/unit_test.hpp>

#include <fstream>

#include <sys/stat.h>

#include "config/deploy_key.hpp"
#include "nodes/process.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;

namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
    s.pop_back();
  return s;
}

struct fixture {
  std::string dir = test::make_temp_dir("gilgal-deploy-key");
  ~fixture() { test::remove_tree(dir); }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(deploy_key_tests, fixture)

CAF_TEST(a generated key is one OpenSSH reads and derives the same public key from) {
  auto pair = generate_deploy_key("gilgal-1234abcd");
  CAF_REQUIRE(pair);
  CAF_CHECK_EQUAL(pair->public_key.rfind("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", 0), 0u);
  CAF_CHECK_EQUAL(pair->public_key.substr(pair->public_key.rfind(' ') + 1), "gilgal-1234abcd");
  CAF_CHECK_EQUAL(pair->private_key.rfind("-----BEGIN OPENSSH PRIVATE KEY-----\n", 0), 0u);
  auto path = dir + "/key";
  std::ofstream(path) << pair->private_key;
  ::chmod(path.c_str(), 0600);
  // ssh-keygen -y: the public key derived from our private key file.
  auto derived = run_process({"ssh-keygen", "-y", "-f", path});
  CAF_REQUIRE(derived);
  CAF_REQUIRE_EQUAL(derived->exit_code, 0);
  auto ours = pair->public_key.substr(0, pair->public_key.rfind(' '));
  CAF_CHECK_EQUAL(trimmed(derived->out).substr(0, ours.size()), ours);
  // ssh-keygen -l: the same fingerprint as ours.
  std::ofstream(path + ".pub") << pair->public_key << "\n";
  auto listed = run_process({"ssh-keygen", "-l", "-f", path + ".pub"});
  CAF_REQUIRE(listed);
  CAF_REQUIRE_EQUAL(listed->exit_code, 0);
  auto fingerprint = ssh_fingerprint(pair->public_key);
  CAF_MESSAGE(listed->out);
  CAF_CHECK_EQUAL(fingerprint.rfind("SHA256:", 0), 0u);
  CAF_CHECK(listed->out.find(fingerprint) != std::string::npos);
}

CAF_TEST(every key is new and a bad comment is replaced) {
  auto a = generate_deploy_key("x y");
  auto b = generate_deploy_key("");
  CAF_REQUIRE(a && b);
  CAF_CHECK_NOT_EQUAL(a->public_key, b->public_key);
  CAF_CHECK_NOT_EQUAL(a->private_key, b->private_key);
  CAF_CHECK_EQUAL(a->public_key.substr(a->public_key.rfind(' ') + 1), "gilgal");
  CAF_CHECK_EQUAL(ssh_fingerprint("not a key"), "");
  CAF_CHECK_EQUAL(ssh_fingerprint("ssh-ed25519 !!!"), "");
}

CAF_TEST_FIXTURE_SCOPE_END()
