// The embedded store: one SQLite file in WAL mode. One writer connection
// (writes are serialised by a mutex, and by SQLite's busy timeout against other
// processes such as `gilgal admin`) and a small pool of reader connections so
// that reads run concurrently with each other and with the writer.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/sql_store.hpp"

namespace gilgal {

class sqlite_connection;

class sqlite_store final : public sql_store {
public:
  /// Opens (creating if missing) the file at `path`, applies migrations.
  static caf::expected<std::unique_ptr<sqlite_store>>
  open(const std::string& path, std::shared_ptr<const secret_box> cipher,
       size_t max_readers = 4);

  ~sqlite_store() override;

protected:
  void in_transaction(bool write, const std::function<void(sql_session&)>& body) override;

private:
  sqlite_store(std::string path, std::shared_ptr<const secret_box> cipher, size_t max_readers);

  std::unique_ptr<sqlite_connection> take_reader();
  void return_reader(std::unique_ptr<sqlite_connection> conn);

  std::string path_;
  size_t max_readers_;

  std::mutex write_mtx_;
  std::unique_ptr<sqlite_connection> writer_;

  std::mutex read_mtx_;
  std::condition_variable read_cv_;
  std::vector<std::unique_ptr<sqlite_connection>> idle_readers_;
  size_t open_readers_ = 0;
};

} // namespace gilgal
