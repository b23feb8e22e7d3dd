// A short-lived cache of the API token records the edge looks up: each token
// costs at most one store query per `ttl`. A revocation written to the store
// (by `gilgal admin revoke-token`, possibly from another process) is therefore
// honoured within `ttl`, which must stay below one second.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include <caf/expected.hpp>

#include "protocol/model.hpp"
#include "storage/store.hpp"

namespace gilgal {

class token_cache {
public:
  using clock = std::chrono::steady_clock;

  /// Keeps at most `capacity` records, each for `ttl`.
  explicit token_cache(std::chrono::milliseconds ttl = std::chrono::milliseconds{500},
                       size_t capacity = 4096);

  /// The record of `token_id`: cached if fetched less than `ttl` ago, else read
  /// from `db` and cached. Errors (not_found, unavailable) are never cached.
  caf::expected<api_token> find(store& db, const std::string& token_id);

private:
  struct entry {
    api_token token;
    clock::time_point fetched;
  };

  std::chrono::milliseconds ttl_;
  size_t capacity_;
  std::mutex mtx_;
  std::unordered_map<std::string, entry> entries_;
};

} // namespace gilgal
