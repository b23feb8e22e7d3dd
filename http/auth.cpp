#include "http/auth.hpp"

#include <cctype>

#include "config/api_token.hpp"
#include "protocol/error.hpp"

namespace gilgal {

caf::expected<std::string> authenticate(store& db, const std::string& authorization) {
  auto denied = [] {
    return make_error(errc::unauthorized, "missing or invalid bearer token "
                                          "(send 'Authorization: Bearer <token>')");
  };
  constexpr size_t prefix_len = 7; // "Bearer "
  if (authorization.size() <= prefix_len)
    return denied();
  std::string scheme = authorization.substr(0, prefix_len);
  for (auto& c : scheme)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ")
    return denied();
  auto text = authorization.substr(prefix_len);
  auto id = token_id_of(text);
  if (id.empty())
    return denied();
  auto record = db.find_token(id);
  if (!record) {
    if (code_of(record.error()) == errc::not_found)
      return denied();
    return std::move(record.error());
  }
  if (!token_matches(text, *record))
    return denied();
  return record->user_id;
}

} // namespace gilgal
