#include "config/deploy_key.hpp"

#include <cstdint>

#include <sodium.h>

#include "protocol/bytes.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

constexpr const char* key_type = "ssh-ed25519";

// -- SSH wire encoding (RFC 4251) ---------------------------------------------

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_string(std::string& out, const std::string& s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out += s;
}

std::string base64(const std::string& bytes) {
  std::string b64(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  b64.resize(b64.size() - 1); // the terminating NUL
  return b64;
}

/// The public key blob: string "ssh-ed25519", string pk.
std::string public_blob(const unsigned char* pk) {
  std::string blob;
  put_string(blob, key_type);
  put_string(blob, std::string(reinterpret_cast<const char*>(pk), crypto_sign_PUBLICKEYBYTES));
  return blob;
}

bool usable_comment(const std::string& c) {
  if (c.empty() || c.size() > 200)
    return false;
  for (unsigned char ch : c)
    if (ch <= 0x20 || ch >= 0x7f)
      return false;
  return true;
}

/// Overwrites a string's bytes before it is freed.
struct wiped {
  std::string text;
  ~wiped() { sodium_memzero(text.data(), text.size()); }
};

} // namespace

caf::expected<deploy_key_pair> generate_deploy_key(const std::string& comment_in) {
  if (sodium_init() < 0)
    return make_error(errc::internal, "libsodium failed to initialise");
  auto comment = usable_comment(comment_in) ? comment_in : std::string{"gilgal"};
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES]; // seed (32) || pk (32), as OpenSSH stores it
  crypto_sign_keypair(pk, sk);
  auto blob = public_blob(pk);

  // openssh-key-v1 (PROTOCOL.key in OpenSSH's sources), unencrypted.
  wiped secret;
  uint32_t check = 0;
  random_bytes(&check, sizeof(check));
  put_u32(secret.text, check);
  put_u32(secret.text, check);
  put_string(secret.text, key_type);
  put_string(secret.text, std::string(reinterpret_cast<const char*>(pk), sizeof(pk)));
  put_string(secret.text, std::string(reinterpret_cast<const char*>(sk), sizeof(sk)));
  sodium_memzero(sk, sizeof(sk));
  put_string(secret.text, comment);
  for (char pad = 1; secret.text.size() % 8 != 0; ++pad) // block size of cipher "none"
    secret.text.push_back(pad);

  wiped body;
  body.text.append("openssh-key-v1", 14);
  body.text.push_back('\0');
  put_string(body.text, "none"); // cipher
  put_string(body.text, "none"); // kdf
  put_string(body.text, "");     // kdf options
  put_u32(body.text, 1);         // number of keys
  put_string(body.text, blob);
  put_string(body.text, secret.text);

  wiped encoded{base64(body.text)};
  deploy_key_pair out;
  out.private_key = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  for (size_t i = 0; i < encoded.text.size(); i += 70)
    out.private_key += encoded.text.substr(i, 70) + "\n";
  out.private_key += "-----END OPENSSH PRIVATE KEY-----\n";
  out.public_key = std::string{key_type} + " " + base64(blob) + " " + comment;
  return out;
}

std::string ssh_fingerprint(const std::string& line) {
  auto first = line.find(' ');
  if (first == std::string::npos)
    return {};
  auto second = line.find(' ', first + 1);
  auto b64 = line.substr(first + 1, second == std::string::npos ? std::string::npos
                                                                : second - first - 1);
  std::string blob(b64.size(), '\0');
  size_t len = 0;
  if (b64.empty()
      || sodium_base642bin(reinterpret_cast<unsigned char*>(blob.data()), blob.size(),
                           b64.data(), b64.size(), nullptr, &len, nullptr,
                           sodium_base64_VARIANT_ORIGINAL)
           != 0)
    return {};
  blob.resize(len);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(blob.data()), blob.size());
  auto text = base64(std::string(reinterpret_cast<const char*>(digest), sizeof(digest)));
  while (!text.empty() && text.back() == '=')
    text.pop_back();
  return "SHA256:" + text;
}

} // namespace gilgal
