// Versioned schema migrations, shared by both backends. Each migration is a
// list of statements written once; the few dialect differences are explicit
// placeholders rendered per dialect (see migrations.cpp). Applied versions are
// recorded in schema_migrations(version, applied_at).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/sql_session.hpp"

namespace gilgal {

struct migration {
  int64_t version;
  std::string name;
  std::vector<std::string> statements; // already rendered for one dialect
};

/// Every migration, oldest first, rendered for `dialect`.
std::vector<migration> all_migrations(sql_dialect dialect);

/// Applies the pending migrations inside the session's transaction (which the
/// caller commits). On PostgreSQL an advisory lock serialises concurrent
/// openers. Returns the schema version afterwards.
int64_t apply_migrations(sql_session& session);

/// Renders a query written with dialect placeholders: {ord} is a column that
/// grows with insertion order (SQLite's rowid, PostgreSQL's ord BIGSERIAL),
/// and "$N" placeholders become "?N" on SQLite.
std::string render_query(const std::string& sql, sql_dialect dialect);

} // namespace gilgal
