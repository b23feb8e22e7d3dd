// API tokens: "glg_<id>_<secret>". Only the SHA-256 of the whole text is stored;
// verification looks the token up by id and compares hashes in constant time.
#pragma once

#include <string>

#include "protocol/model.hpp"
#include "protocol/bytes.hpp" // sha256_hex of token texts

namespace gilgal {

struct issued_token {
  std::string text;   // shown to the user once
  api_token record;   // what the store keeps
};

/// A new random token for `user_id`.
issued_token issue_token(const std::string& user_id);

/// The token id inside `text`, or empty if `text` is not shaped like a token.
std::string token_id_of(const std::string& text);

/// True if `id` has the shape of a token id (16 lower-case hex digits).
bool valid_token_id(const std::string& id);

/// True if sha256(text) equals `record.secret_hash`, compared in constant time.
bool token_matches(const std::string& text, const api_token& record);

} // namespace gilgal
