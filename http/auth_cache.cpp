#include "http/auth_cache.hpp"

namespace gilgal {

token_cache::token_cache(std::chrono::milliseconds ttl, size_t capacity)
  : ttl_(ttl), capacity_(capacity) {
}

caf::expected<api_token> token_cache::find(store& db, const std::string& token_id) {
  auto now = clock::now();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = entries_.find(token_id);
    if (i != entries_.end() && now - i->second.fetched < ttl_)
      return i->second.token;
  }
  // Outside the lock: a slow store must not serialise every request.
  auto fetched = db.find_token(token_id);
  if (!fetched)
    return fetched;
  std::lock_guard<std::mutex> guard{mtx_};
  if (entries_.size() >= capacity_) {
    for (auto i = entries_.begin(); i != entries_.end();)
      i = now - i->second.fetched >= ttl_ ? entries_.erase(i) : std::next(i);
    if (entries_.size() >= capacity_)
      entries_.clear(); // many live tokens: start over rather than grow
  }
  entries_[token_id] = entry{*fetched, now};
  return fetched;
}

} // namespace gilgal
