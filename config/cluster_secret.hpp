// The cluster secret and the join proof built from it. The secret never
// leaves the process: a node proves it holds it with an HMAC over a fresh
// nonce handed out by the control plane (libsodium's HMAC-SHA256).
#pragma once

#include <cstddef>
#include <string>

#include <caf/expected.hpp>

#include "config/settings.hpp"

#include "protocol/bytes.hpp" // random_hex for nonces and session tokens

namespace gilgal {

/// Shortest accepted cluster secret, in bytes.
constexpr size_t min_cluster_secret_bytes = 16;

/// The secret from settings (GILGAL_CLUSTER_SECRET / the cluster_secret key),
/// else the content of cluster_secret_file (one trailing newline stripped).
/// errc::invalid_argument when none is configured, the file cannot be read or
/// the secret is shorter than min_cluster_secret_bytes; the message never
/// contains the secret.
caf::expected<std::string> load_cluster_secret(const settings& s);

/// Hex HMAC-SHA256 of `nonce`, keyed by `secret`.
std::string cluster_proof(const std::string& secret, const std::string& nonce);

/// Constant-time check of a proof received from a peer.
bool proof_matches(const std::string& secret, const std::string& nonce,
                   const std::string& proof);

} // namespace gilgal
