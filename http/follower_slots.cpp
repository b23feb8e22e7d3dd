#include "http/follower_slots.hpp"

#include "protocol/error.hpp"

namespace gilgal {

follower_slots::slot::slot(std::shared_ptr<follower_slots> owner, std::string user_id)
  : owner_(std::move(owner)), user_id_(std::move(user_id)) {
}

follower_slots::slot::~slot() {
  owner_->release(user_id_);
}

follower_slots::follower_slots(int per_user, int total) : per_user_(per_user), total_(total) {
}

caf::expected<std::unique_ptr<follower_slots::slot>>
follower_slots::acquire(const std::string& user_id) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& mine = per_user_active_[user_id];
    if (mine >= per_user_) {
      if (mine == 0)
        per_user_active_.erase(user_id);
      return make_error(errc::too_many_requests,
                        "you already follow " + std::to_string(per_user_)
                          + " logs at once (the per-user limit); close one and retry");
    }
    if (active_ >= total_) {
      if (mine == 0)
        per_user_active_.erase(user_id);
      return make_error(errc::too_many_requests,
                        "the server streams its maximum of " + std::to_string(total_)
                          + " followed logs; retry later");
    }
    ++mine;
    ++active_;
  }
  return std::make_unique<slot>(shared_from_this(), user_id);
}

int follower_slots::active() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return active_;
}

void follower_slots::release(const std::string& user_id) {
  std::lock_guard<std::mutex> guard{mtx_};
  --active_;
  if (auto i = per_user_active_.find(user_id); i != per_user_active_.end() && --i->second <= 0)
    per_user_active_.erase(i);
}

} // namespace gilgal
