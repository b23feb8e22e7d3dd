#include "config/cluster_secret.hpp"

#include <fstream>
#include <sstream>
#include <vector>

#include "protocol/bytes.hpp"
#include "protocol/error.hpp"

namespace gilgal {

caf::expected<std::string> load_cluster_secret(const settings& s) {
  std::string secret = s.cluster_secret;
  std::string origin = "GILGAL_CLUSTER_SECRET";
  if (secret.empty() && !s.cluster_secret_file.empty()) {
    std::ifstream in{s.cluster_secret_file, std::ios::binary};
    if (!in)
      return make_error(errc::invalid_argument,
                        "cannot read the cluster secret file " + s.cluster_secret_file);
    std::ostringstream buf;
    buf << in.rdbuf();
    secret = buf.str();
    if (!secret.empty() && secret.back() == '\n')
      secret.pop_back();
    if (!secret.empty() && secret.back() == '\r')
      secret.pop_back();
    origin = "the cluster secret file " + s.cluster_secret_file;
  }
  if (secret.empty())
    return make_error(errc::invalid_argument,
                      "a cluster needs a secret: set GILGAL_CLUSTER_SECRET or "
                      "--cluster-secret-file");
  if (secret.size() < min_cluster_secret_bytes)
    return make_error(errc::invalid_argument,
                      "the cluster secret from " + origin + " is too short (at least "
                        + std::to_string(min_cluster_secret_bytes) + " bytes)");
  return secret;
}

std::string cluster_proof(const std::string& secret, const std::string& nonce) {
  return hmac_sha256_hex(secret, nonce);
}

bool proof_matches(const std::string& secret, const std::string& nonce,
                   const std::string& proof) {
  return constant_time_equal(proof, cluster_proof(secret, nonce));
}

} // namespace gilgal
