#include "protocol/bytes.hpp"

#include <cstdlib>
#include <vector>

#include <sodium.h>

namespace gilgal {

namespace {

void ensure_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok)
    std::abort();
}

bool hex_digit(char c, bool upper_too) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
         || (upper_too && c >= 'A' && c <= 'F');
}

} // namespace

std::string to_hex(const void* data, size_t size) {
  static const char* digits = "0123456789abcdef";
  auto* p = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 0xf];
  }
  return out;
}

std::string to_hex(std::string_view bytes) {
  return to_hex(bytes.data(), bytes.size());
}

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!hex_digit(c, true))
      return false;
  return !s.empty();
}

bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!hex_digit(c, false))
      return false;
  return !s.empty();
}

void random_bytes(void* out, size_t size) {
  ensure_sodium();
  randombytes_buf(out, size);
}

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  random_bytes(buf.data(), buf.size());
  return to_hex(buf.data(), buf.size());
}

std::string sha256_hex(std::string_view data) {
  ensure_sodium();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return to_hex(digest, sizeof digest);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  ensure_sodium();
  // crypto_auth_hmacsha256_init accepts keys of any length.
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(data.data()),
                                data.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&st, mac);
  sodium_memzero(&st, sizeof st);
  return to_hex(mac, sizeof mac);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  ensure_sodium();
  if (a.size() != b.size())
    return false;
  return a.empty() || sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace gilgal
