// Admission of live log followers (SSE): each holds an HTTP worker thread for
// as long as it streams, so their number is capped per user and in total.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <caf/expected.hpp>

namespace gilgal {

class follower_slots : public std::enable_shared_from_this<follower_slots> {
public:
  /// Held while one follower streams; releases its slot when destroyed.
  class slot {
  public:
    slot(std::shared_ptr<follower_slots> owner, std::string user_id);
    ~slot();
    slot(const slot&) = delete;
    slot& operator=(const slot&) = delete;

  private:
    std::shared_ptr<follower_slots> owner_;
    std::string user_id_;
  };

  follower_slots(int per_user, int total);

  /// A slot for one more follower of `user_id`, or errc::too_many_requests
  /// naming the limit that is reached.
  caf::expected<std::unique_ptr<slot>> acquire(const std::string& user_id);

  /// Followers streaming now (all users).
  int active() const;

private:
  void release(const std::string& user_id);

  const int per_user_;
  const int total_;
  mutable std::mutex mtx_;
  int active_ = 0;
  std::map<std::string, int> per_user_active_;
};

} // namespace gilgal
