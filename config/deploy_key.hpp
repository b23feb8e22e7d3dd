// Deploy keys of private repositories: ed25519 key pairs made with libsodium
// and written in OpenSSH's own formats by hand (no ssh-keygen is run), so the
// private key never touches a disk here.
#pragma once

#include <string>

#include <caf/expected.hpp>

namespace gilgal {

struct deploy_key_pair {
  /// "-----BEGIN OPENSSH PRIVATE KEY-----..." (unencrypted, as ssh -i reads it).
  std::string private_key;
  /// "ssh-ed25519 AAAA... COMMENT": the line a user adds to GitHub or GitLab.
  std::string public_key;
};

/// A fresh ed25519 key pair whose comment is `comment` (no whitespace or
/// control characters; replaced by "gilgal" otherwise).
caf::expected<deploy_key_pair> generate_deploy_key(const std::string& comment);

/// "SHA256:..." fingerprint of a public key line, as ssh-keygen -l prints it;
/// empty when the line is not "TYPE BASE64 [COMMENT]".
std::string ssh_fingerprint(const std::string& public_key_line);

} // namespace gilgal
