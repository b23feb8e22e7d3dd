#include "config/api_token.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sodium.h>

namespace gilgal {

namespace {

std::string random_hex(size_t bytes) {
  if (sodium_init() < 0)
    abort();
  std::string bin(bytes, '\0');
  randombytes_buf(bin.data(), bin.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(bin.data()),
                 bin.size());
  hex.pop_back();
  return hex;
}

bool is_hex(const std::string& s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return !s.empty();
}

} // namespace

std::string sha256_hex(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(sizeof digest * 2);
  for (unsigned char b : digest) {
    out += digits[b >> 4];
    out += digits[b & 0xf];
  }
  return out;
}

issued_token issue_token(const std::string& user_id) {
  issued_token result;
  result.record.id = random_hex(8);
  result.record.user_id = user_id;
  result.text = "glg_" + result.record.id + "_" + random_hex(24);
  result.record.secret_hash = sha256_hex(result.text);
  return result;
}

std::string token_id_of(const std::string& text) {
  // glg_ + 16 hex + _ + 48 hex
  if (text.size() != 4 + 16 + 1 + 48 || text.compare(0, 4, "glg_") != 0 || text[20] != '_')
    return {};
  auto id = text.substr(4, 16);
  if (!is_hex(id) || !is_hex(text.substr(21)))
    return {};
  return id;
}

bool token_matches(const std::string& text, const api_token& record) {
  auto hash = sha256_hex(text);
  return hash.size() == record.secret_hash.size()
         && CRYPTO_memcmp(hash.data(), record.secret_hash.data(), hash.size()) == 0;
}

} // namespace gilgal
