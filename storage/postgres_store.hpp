// The PostgreSQL store (libpqxx 6.4): a pool of connections, prepared
// statements per connection, and reconnection: an operation whose connection
// broke is retried once on a fresh connection (the idle ones are dropped, as
// they most likely broke too); if that fails as well, errc::unavailable.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/sql_store.hpp"

namespace gilgal {

struct pg_connection;

class postgres_store final : public sql_store {
public:
  static constexpr size_t default_pool_size = 8;

  /// Connects to `url` (a libpq URI), applies migrations.
  static caf::expected<std::unique_ptr<postgres_store>>
  open(const std::string& url, std::shared_ptr<const secret_box> cipher,
       size_t pool_size = default_pool_size);

  ~postgres_store() override;

protected:
  void in_transaction(bool write, const std::function<void(sql_session&)>& body) override;

private:
  postgres_store(std::string url, std::shared_ptr<const secret_box> cipher, size_t pool_size);

  /// An idle connection, or a new one while fewer than pool_size are open.
  /// `fresh` skips the idle ones. Throws db_broken when it cannot connect.
  std::unique_ptr<pg_connection> acquire(bool fresh);
  void release(std::unique_ptr<pg_connection> conn);
  /// Forgets a broken connection and the idle ones.
  void discard(std::unique_ptr<pg_connection> conn);

  std::string url_;
  size_t pool_size_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pg_connection>> idle_;
  size_t open_ = 0;
};

} // namespace gilgal
