#include "config/api_token.hpp"

#include <openssl/crypto.h>

#include "protocol/bytes.hpp"

namespace gilgal {

issued_token issue_token(const std::string& user_id) {
  issued_token result;
  result.record.id = random_hex(8);
  result.record.user_id = user_id;
  result.text = "glg_" + result.record.id + "_" + random_hex(24);
  result.record.secret_hash = sha256_hex(result.text);
  return result;
}

bool valid_token_id(const std::string& id) {
  return id.size() == 16 && is_lower_hex(id);
}

std::string token_id_of(const std::string& text) {
  // glg_ + 16 hex + _ + 48 hex
  if (text.size() != 4 + 16 + 1 + 48 || text.compare(0, 4, "glg_") != 0 || text[20] != '_')
    return {};
  auto id = text.substr(4, 16);
  if (!is_lower_hex(id) || !is_lower_hex(text.substr(21)))
    return {};
  return id;
}

bool token_matches(const std::string& text, const api_token& record) {
  auto hash = sha256_hex(text);
  return hash.size() == record.secret_hash.size()
         && CRYPTO_memcmp(hash.data(), record.secret_hash.data(), hash.size()) == 0;
}

} // namespace gilgal
