#include "config/secret_box.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/bytes.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

bool sodium_ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

} // namespace

caf::expected<secret_box> secret_box::from_hex(const std::string& hex_key) {
  if (!sodium_ready())
    return make_error(errc::internal, "libsodium failed to initialise");
  std::string key(key_size, '\0');
  size_t len = 0;
  if (hex_key.size() != key_size * 2
      || sodium_hex2bin(reinterpret_cast<unsigned char*>(key.data()), key.size(),
                        hex_key.data(), hex_key.size(), nullptr, &len, nullptr)
           != 0
      || len != key_size)
    return make_error(errc::invalid_argument, "secret key must be 64 hex characters");
  return secret_box{std::move(key)};
}

caf::expected<secret_box> secret_box::from_environment_or_file(const std::string& data_dir) {
  if (const char* env = std::getenv("GILGAL_SECRET_KEY"); env && *env)
    return from_hex(env);
  if (!sodium_ready())
    return make_error(errc::internal, "libsodium failed to initialise");
  auto path = data_dir + "/secret.key";
  std::ifstream in(path);
  if (in) {
    std::string hex;
    std::getline(in, hex);
    return from_hex(hex);
  }
  std::string key(key_size, '\0');
  random_bytes(key.data(), key.size());
  auto hex = to_hex(key) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0)
    return make_error(errc::unavailable, "cannot create key file " + path);
  bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
  ::close(fd);
  if (!ok)
    return make_error(errc::unavailable, "cannot write key file " + path);
  return secret_box{std::move(key)};
}

std::string secret_box::seal(const std::string& plaintext) const {
  std::string buf(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(),
                  '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(buf.data());
  random_bytes(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        plaintext.size(), nonce,
                        reinterpret_cast<const unsigned char*>(key_.data()));
  std::string b64(sodium_base64_encoded_len(buf.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(buf.data()),
                    buf.size(), sodium_base64_VARIANT_ORIGINAL);
  b64.pop_back(); // trailing NUL
  return "v1:" + b64;
}

caf::expected<std::string> secret_box::open(const std::string& sealed) const {
  if (sealed.compare(0, 3, "v1:") != 0)
    return make_error(errc::internal, "sealed value has an unknown format");
  std::string buf(sealed.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(buf.data()), buf.size(),
                        sealed.data() + 3, sealed.size() - 3, nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL)
        != 0
      || len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    return make_error(errc::internal, "sealed value is malformed");
  auto* nonce = reinterpret_cast<const unsigned char*>(buf.data());
  size_t clen = len - crypto_secretbox_NONCEBYTES;
  std::string plain(clen - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                 nonce + crypto_secretbox_NONCEBYTES, clen, nonce,
                                 reinterpret_cast<const unsigned char*>(key_.data()))
      != 0)
    return make_error(errc::internal, "sealed value does not open with this key");
  return plain;
}

} // namespace gilgal
