// Authenticated encryption of secrets at rest (environment variable values),
// with libsodium's crypto_secretbox (XSalsa20-Poly1305) and a random nonce per value.
#pragma once

#include <string>

#include <caf/expected.hpp>

namespace gilgal {

class secret_box {
public:
  static constexpr size_t key_size = 32;

  /// Key from GILGAL_SECRET_KEY (64 hex characters) if set, else from
  /// DATA_DIR/secret.key, created with mode 0600 when missing.
  static caf::expected<secret_box> from_environment_or_file(const std::string& data_dir);

  /// A key given as 64 hex characters.
  static caf::expected<secret_box> from_hex(const std::string& hex_key);

  /// Text "v1:" + base64(nonce || ciphertext).
  std::string seal(const std::string& plaintext) const;

  /// The plaintext, or errc::internal if the text was not sealed with this key.
  caf::expected<std::string> open(const std::string& sealed) const;

private:
  explicit secret_box(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

} // namespace gilgal
