// Test helper: a fresh store of each available backend. SQLite always (a file
// in a temp dir); PostgreSQL when gilgal::test::postgres_url() is set, in a
// uniquely named database created on that server and dropped afterwards.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <pqxx/pqxx>
#include <sqlite3.h>

#include "config/secret_box.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "storage/store.hpp"
#include "tests/fixtures/services.hpp"

namespace gilgal::test {

/// A fixed key: tests may reopen stores and compare.
inline std::shared_ptr<const secret_box> test_cipher(char fill = 'a') {
  auto box = secret_box::from_hex(std::string(64, fill));
  return std::make_shared<const secret_box>(*box);
}

/// `url` with its database name replaced by `db`.
inline std::string with_database(const std::string& url, const std::string& db) {
  auto scheme = url.find("://");
  auto start = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  auto query = url.find('?');
  if (start == std::string::npos || (query != std::string::npos && start > query)) {
    auto at = query == std::string::npos ? url.size() : query;
    return url.substr(0, at) + "/" + db + url.substr(at);
  }
  auto end = query == std::string::npos ? url.size() : query;
  return url.substr(0, start + 1) + db + url.substr(end);
}

struct backend {
  std::string name; // "sqlite" or "postgres"
  std::string url;  // what open_store takes; reopen with the same
  std::string dir;  // SQLite: the temp dir holding the file
  std::string admin_url; // PostgreSQL: the server's URL, for dropping the database
  std::string db_name;

  bool is_postgres() const {
    return name == "postgres";
  }

  std::unique_ptr<store> open(std::shared_ptr<const secret_box> cipher = test_cipher()) const {
    auto st = open_store(url, std::move(cipher));
    if (!st)
      throw std::runtime_error("open_store(" + name + ") failed: " + message_of(st.error()));
    return std::move(*st);
  }

  /// Runs one raw SQL statement that changes data, outside the store (to put
  /// at rest what the store itself never writes).
  void raw_exec(const std::string& sql) const {
    if (is_postgres()) {
      pqxx::connection c{url};
      pqxx::nontransaction tx{c};
      tx.exec(sql);
      return;
    }
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(url.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      sqlite3_close(db);
      throw std::runtime_error("cannot open " + url);
    }
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      sqlite3_close(db);
      throw std::runtime_error("bad statement: " + msg);
    }
    sqlite3_close(db);
  }

  /// Runs raw SQL outside the store (to inspect what is at rest).
  std::vector<std::vector<std::string>> raw_query(const std::string& sql) const {
    std::vector<std::vector<std::string>> out;
    if (is_postgres()) {
      pqxx::connection c{url};
      pqxx::nontransaction tx{c};
      for (const auto& row : tx.exec(sql)) {
        std::vector<std::string> r;
        for (const auto& f : row)
          r.push_back(f.is_null() ? "" : f.c_str());
        out.push_back(std::move(r));
      }
      return out;
    }
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(url.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
      throw std::runtime_error("cannot open " + url);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      std::string msg = sqlite3_errmsg(db);
      sqlite3_close(db);
      throw std::runtime_error("bad query: " + msg);
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::vector<std::string> r;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        auto t = sqlite3_column_text(stmt, i);
        r.push_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      out.push_back(std::move(r));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }
};

/// Fresh backends for one test; cleans up in its destructor.
struct backends {
  std::vector<backend> list;

  backends() {
    backend lite;
    lite.name = "sqlite";
    lite.dir = make_temp_dir("gilgal-store");
    lite.url = lite.dir + "/sub/gilgal.db"; // the missing parent dir is created by open_store
    list.push_back(lite);
    auto pg = postgres_url();
    if (!pg.empty()) {
      backend b;
      b.name = "postgres";
      b.admin_url = pg;
      b.db_name = "gilgal_test_" + new_uuid().substr(0, 8);
      {
        pqxx::connection c{pg};
        pqxx::nontransaction tx{c};
        tx.exec("CREATE DATABASE " + b.db_name);
      }
      b.url = with_database(pg, b.db_name);
      list.push_back(b);
    }
  }

  ~backends() {
    for (auto& b : list) {
      if (b.is_postgres()) {
        try {
          pqxx::connection c{b.admin_url};
          pqxx::nontransaction tx{c};
          tx.exec("DROP DATABASE IF EXISTS " + b.db_name + " WITH (FORCE)");
        } catch (...) {
          // Left behind in a throwaway cluster: harmless.
        }
      } else {
        remove_tree(b.dir);
      }
    }
  }

  auto begin() {
    return list.begin();
  }
  auto end() {
    return list.end();
  }
};

} // namespace gilgal::test
