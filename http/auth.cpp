#include "http/auth.hpp"

#include <cctype>

#include "config/api_token.hpp"
#include "protocol/error.hpp"

namespace gilgal {

std::string bearer_token(const std::string& authorization) {
  constexpr size_t prefix_len = 7; // "Bearer "
  if (authorization.size() <= prefix_len)
    return {};
  std::string scheme = authorization.substr(0, prefix_len);
  for (auto& c : scheme)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ")
    return {};
  return authorization.substr(prefix_len);
}

caf::expected<std::string> authenticate(store& db, token_cache& cache,
                                        const std::string& authorization) {
  auto denied = [] {
    return make_error(errc::unauthorized, "missing or invalid bearer token "
                                          "(send 'Authorization: Bearer <token>')");
  };
  auto text = bearer_token(authorization);
  auto id = token_id_of(text);
  if (id.empty())
    return denied();
  auto record = cache.find(db, id);
  if (!record) {
    if (code_of(record.error()) == errc::not_found)
      return denied();
    return std::move(record.error());
  }
  if (!token_matches(text, *record) || !record->revoked_at.empty())
    return denied();
  return record->user_id;
}

} // namespace gilgal
