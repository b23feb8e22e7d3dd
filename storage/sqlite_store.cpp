#include "storage/sqlite_store.hpp"

#include <cstdio>
#include <unordered_map>

#include <sqlite3.h>

namespace gilgal {

// -- one connection with its prepared statements --------------------------------

class sqlite_connection final : public sql_session {
public:
  sqlite_connection(const std::string& path, bool reader) {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw db_error(errc::unavailable, "cannot open SQLite database " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 10000);
    run_plain("PRAGMA foreign_keys = ON");
    if (!reader) {
      run_plain("PRAGMA journal_mode = WAL");
      run_plain("PRAGMA synchronous = NORMAL");
    } else {
      run_plain("PRAGMA query_only = ON");
    }
  }

  ~sqlite_connection() override {
    for (auto& [sql, stmt] : stmts_)
      sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  sql_dialect dialect() const override {
    return sql_dialect::sqlite;
  }

  sql_result exec(const std::string& sql, const sql_params& params) override {
    auto stmt = prepared(sql);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    for (size_t i = 0; i < params.size(); ++i) {
      auto& p = params[i];
      int idx = static_cast<int>(i + 1);
      int rc = SQLITE_OK;
      switch (p.kind) {
        case sql_param::integer_kind:
          rc = sqlite3_bind_int64(stmt, idx, p.integer);
          break;
        case sql_param::real_kind:
          rc = sqlite3_bind_double(stmt, idx, p.real);
          break;
        case sql_param::text_kind:
          rc = sqlite3_bind_text(stmt, idx, p.text.data(), static_cast<int>(p.text.size()),
                                 SQLITE_TRANSIENT);
          break;
        default:
          rc = sqlite3_bind_null(stmt, idx);
      }
      if (rc != SQLITE_OK)
        fail(rc, stmt);
    }
    sql_result out;
    int cols = sqlite3_column_count(stmt);
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE)
        break;
      if (rc != SQLITE_ROW)
        fail(rc, stmt);
      sql_row row;
      row.reserve(static_cast<size_t>(cols));
      for (int c = 0; c < cols; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_NULL:
            row.emplace_back(std::nullopt);
            break;
          case SQLITE_INTEGER:
            row.emplace_back(std::to_string(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_FLOAT:
            row.emplace_back(format_real(sqlite3_column_double(stmt, c)));
            break;
          default: {
            auto text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            auto len = sqlite3_column_bytes(stmt, c);
            row.emplace_back(std::string(text ? text : "", static_cast<size_t>(len)));
          }
        }
      }
      out.rows.push_back(std::move(row));
    }
    if (!sqlite3_stmt_readonly(stmt))
      out.affected = sqlite3_changes64(db_);
    sqlite3_reset(stmt);
    return out;
  }

private:
  sqlite3_stmt* prepared(const std::string& sql) {
    auto i = stmts_.find(sql);
    if (i != stmts_.end())
      return i->second;
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK)
      fail(rc, nullptr);
    stmts_.emplace(sql, stmt);
    return stmt;
  }

  void run_plain(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      throw db_error(errc::internal, std::string{sql} + ": " + msg);
    }
  }

  [[noreturn]] void fail(int rc, sqlite3_stmt* stmt) {
    std::string msg = sqlite3_errmsg(db_);
    int ext = sqlite3_extended_errcode(db_);
    if (stmt)
      sqlite3_reset(stmt);
    switch (ext) {
      case SQLITE_CONSTRAINT_UNIQUE:
      case SQLITE_CONSTRAINT_PRIMARYKEY:
        throw db_error(errc::conflict, msg);
      case SQLITE_CONSTRAINT_FOREIGNKEY:
        throw db_error(errc::not_found, msg);
      default:
        break;
    }
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
      throw db_error(errc::unavailable, "SQLite database is busy: " + msg);
    throw db_error(errc::internal, "SQLite: " + msg);
  }

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> stmts_;
};

// -- the store -------------------------------------------------------------------

sqlite_store::sqlite_store(std::string path, std::shared_ptr<const secret_box> cipher,
                           size_t max_readers)
  : sql_store(sql_dialect::sqlite, std::move(cipher)),
    path_(std::move(path)),
    max_readers_(max_readers == 0 ? 1 : max_readers) {
}

sqlite_store::~sqlite_store() {
  // Readers first, so that the writer's close checkpoints the WAL into the file.
  idle_readers_.clear();
  writer_.reset();
}

caf::expected<std::unique_ptr<sqlite_store>>
sqlite_store::open(const std::string& path, std::shared_ptr<const secret_box> cipher,
                   size_t max_readers) {
  if (!cipher)
    return make_error(errc::invalid_argument, "cipher is required to open a store");
  std::unique_ptr<sqlite_store> st{new sqlite_store(path, std::move(cipher), max_readers)};
  try {
    st->writer_ = std::make_unique<sqlite_connection>(path, false);
  } catch (db_error& e) {
    return make_error(e.code, e.what());
  }
  if (auto v = st->migrate(); !v)
    return std::move(v.error());
  return st;
}

std::unique_ptr<sqlite_connection> sqlite_store::take_reader() {
  std::unique_lock<std::mutex> guard{read_mtx_};
  for (;;) {
    if (!idle_readers_.empty()) {
      auto conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return conn;
    }
    if (open_readers_ < max_readers_) {
      ++open_readers_;
      guard.unlock();
      try {
        return std::make_unique<sqlite_connection>(path_, true);
      } catch (...) {
        guard.lock();
        --open_readers_;
        read_cv_.notify_one();
        throw;
      }
    }
    read_cv_.wait(guard);
  }
}

void sqlite_store::return_reader(std::unique_ptr<sqlite_connection> conn) {
  std::lock_guard<std::mutex> guard{read_mtx_};
  idle_readers_.push_back(std::move(conn));
  read_cv_.notify_one();
}

void sqlite_store::in_transaction(bool write,
                                  const std::function<void(sql_session&)>& body) {
  auto run = [&](sqlite_connection& conn, const char* begin) {
    conn.exec(begin, {});
    try {
      body(conn);
      conn.exec("COMMIT", {});
    } catch (...) {
      try {
        conn.exec("ROLLBACK", {});
      } catch (...) {
        // The transaction may already be gone (SQLite rolls back on some errors).
      }
      throw;
    }
  };
  if (write) {
    std::lock_guard<std::mutex> guard{write_mtx_};
    run(*writer_, "BEGIN IMMEDIATE");
    return;
  }
  auto conn = take_reader();
  try {
    run(*conn, "BEGIN");
  } catch (...) {
    return_reader(std::move(conn));
    throw;
  }
  return_reader(std::move(conn));
}

} // namespace gilgal
