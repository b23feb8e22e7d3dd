#include "storage/postgres_store.hpp"

#include <unordered_map>
#include <unordered_set>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

namespace gilgal {

namespace {

/// Statement names shared by all connections: one per distinct query text.
const std::string& statement_name(const std::string& sql) {
  static std::mutex mtx;
  static std::unordered_map<std::string, std::string> names;
  std::lock_guard<std::mutex> guard{mtx};
  auto i = names.find(sql);
  if (i == names.end())
    i = names.emplace(sql, "gilgal_" + std::to_string(names.size() + 1)).first;
  return i->second;
}

} // namespace

struct pg_connection {
  explicit pg_connection(const std::string& url) : conn(url) {
  }
  pqxx::connection conn;
  std::unordered_set<std::string> prepared;
};

namespace {

class pg_session final : public sql_session {
public:
  pg_session(pg_connection& c, pqxx::transaction_base& txn) : c_(c), txn_(txn) {
  }

  sql_dialect dialect() const override {
    return sql_dialect::postgres;
  }

  sql_result exec(const std::string& sql, const sql_params& params) override {
    std::vector<std::optional<std::string>> values;
    values.reserve(params.size());
    for (auto& p : params)
      values.push_back(p.as_text());
    try {
      pqxx::result res;
      if (params.empty() && sql.find("CREATE ") != std::string::npos) {
        res = txn_.exec(sql); // DDL: not worth preparing
      } else {
        auto& name = statement_name(sql);
        if (!c_.prepared.count(name)) {
          c_.conn.prepare(name, sql);
          c_.prepared.insert(name);
        }
        res = txn_.exec_prepared(name, pqxx::prepare::make_dynamic_params(values));
      }
      sql_result out;
      out.affected = static_cast<int64_t>(res.affected_rows());
      out.rows.reserve(res.size());
      for (const auto& row : res) {
        sql_row r;
        r.reserve(row.size());
        for (const auto& field : row) {
          if (field.is_null())
            r.emplace_back(std::nullopt);
          else
            r.emplace_back(std::string(field.c_str(), field.size()));
        }
        out.rows.push_back(std::move(r));
      }
      return out;
    } catch (const pqxx::broken_connection& e) {
      throw db_broken(e.what());
    } catch (const pqxx::unique_violation& e) {
      throw db_error(errc::conflict, e.what());
    } catch (const pqxx::foreign_key_violation& e) {
      throw db_error(errc::not_found, e.what());
    } catch (const pqxx::failure& e) {
      if (!c_.conn.is_open())
        throw db_broken(e.what());
      throw db_error(errc::internal, std::string{"PostgreSQL: "} + e.what());
    }
  }

private:
  pg_connection& c_;
  pqxx::transaction_base& txn_;
};

} // namespace

postgres_store::postgres_store(std::string url, std::shared_ptr<const secret_box> cipher,
                               size_t pool_size)
  : sql_store(sql_dialect::postgres, std::move(cipher)),
    url_(std::move(url)),
    pool_size_(pool_size == 0 ? 1 : pool_size) {
}

postgres_store::~postgres_store() = default;

caf::expected<std::unique_ptr<postgres_store>>
postgres_store::open(const std::string& url, std::shared_ptr<const secret_box> cipher,
                     size_t pool_size) {
  if (!cipher)
    return make_error(errc::invalid_argument, "cipher is required to open a store");
  std::unique_ptr<postgres_store> st{new postgres_store(url, std::move(cipher), pool_size)};
  if (auto v = st->migrate(); !v)
    return std::move(v.error());
  return st;
}

std::unique_ptr<pg_connection> postgres_store::acquire(bool fresh) {
  std::unique_lock<std::mutex> guard{mtx_};
  for (;;) {
    if (!fresh && !idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    if (fresh && !idle_.empty()) {
      // Make room for a fresh connection by closing an idle one.
      idle_.pop_back();
      --open_;
    }
    if (open_ < pool_size_) {
      ++open_;
      guard.unlock();
      try {
        return std::make_unique<pg_connection>(url_);
      } catch (const std::exception& e) {
        guard.lock();
        --open_;
        cv_.notify_one();
        throw db_broken(e.what());
      }
    }
    cv_.wait(guard);
  }
}

void postgres_store::release(std::unique_ptr<pg_connection> conn) {
  std::lock_guard<std::mutex> guard{mtx_};
  idle_.push_back(std::move(conn));
  cv_.notify_one();
}

void postgres_store::discard(std::unique_ptr<pg_connection> conn) {
  std::vector<std::unique_ptr<pg_connection>> dropped;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    dropped.swap(idle_);
    open_ -= dropped.size() + (conn ? 1 : 0);
    cv_.notify_all();
  }
  conn.reset(); // closed outside the lock
}

void postgres_store::in_transaction(bool write,
                                    const std::function<void(sql_session&)>& body) {
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<pg_connection> c;
    try {
      c = acquire(attempt > 0);
    } catch (const db_broken&) {
      if (attempt > 0)
        throw;
      continue; // e.g. too many connections right after a restart: try once more
    }
    try {
      if (write) {
        pqxx::work txn{c->conn};
        pg_session s{*c, txn};
        body(s);
        txn.commit();
      } else {
        pqxx::read_transaction txn{c->conn};
        pg_session s{*c, txn};
        body(s);
        txn.commit();
      }
      release(std::move(c));
      return;
    } catch (const pqxx::in_doubt_error& e) {
      // The commit may or may not have happened: never retry it.
      discard(std::move(c));
      throw db_error(errc::unavailable, std::string{"database connection lost during commit: "}
                                          + e.what());
    } catch (const pqxx::broken_connection& e) {
      discard(std::move(c));
      if (attempt > 0)
        throw db_broken(e.what());
      spdlog::warn("PostgreSQL connection lost ({}); retrying on a new connection", e.what());
    } catch (const db_broken& e) {
      discard(std::move(c));
      if (attempt > 0)
        throw;
      spdlog::warn("PostgreSQL connection lost ({}); retrying on a new connection", e.what());
    } catch (...) {
      if (c->conn.is_open())
        release(std::move(c));
      else
        discard(std::move(c));
      throw;
    }
  }
}

} // namespace gilgal
