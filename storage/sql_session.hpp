// The small SQL vocabulary both backends speak: typed parameters, text
// results, and one session (a connection inside a transaction) at a time.
// Query text uses PostgreSQL's "$1" placeholders; the SQLite backend rewrites
// them to "?1". Failures are thrown as db_error inside a session and turned
// into caf::error values at the store boundary (sql_store).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocol/error.hpp"

namespace gilgal {

/// The SQL dialects Gilgal speaks.
enum class sql_dialect { sqlite, postgres };

/// One bound parameter.
struct sql_param {
  enum kind_t { null_kind, integer_kind, real_kind, text_kind };
  kind_t kind = null_kind;
  int64_t integer = 0;
  double real = 0;
  std::string text;

  sql_param(std::nullptr_t) {}
  sql_param(int v) : kind(integer_kind), integer(v) {}
  sql_param(long v) : kind(integer_kind), integer(v) {}
  sql_param(long long v) : kind(integer_kind), integer(v) {}
  sql_param(double v) : kind(real_kind), real(v) {}
  sql_param(std::string v) : kind(text_kind), text(std::move(v)) {}
  sql_param(const char* v) : kind(text_kind), text(v) {}

  /// The value as text (integers in decimal, reals with full precision).
  std::optional<std::string> as_text() const;
};

using sql_params = std::vector<sql_param>;
using sql_row = std::vector<std::optional<std::string>>;

/// Rows as text (NULL is nullopt) and the number of rows a DML statement changed.
struct sql_result {
  std::vector<sql_row> rows;
  int64_t affected = 0;
};

/// A failure inside a session: the errc it maps to, plus a message.
struct db_error : std::runtime_error {
  errc code;
  db_error(errc c, const std::string& what) : std::runtime_error(what), code(c) {}
};

/// Thrown by a backend when the connection broke (the operation may be retried
/// on a fresh connection).
struct db_broken : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// One connection inside one transaction.
class sql_session {
public:
  virtual ~sql_session() = default;

  /// Runs one statement. Throws db_error: errc::conflict on a uniqueness
  /// violation, errc::not_found on a foreign key violation, errc::internal
  /// otherwise; db_broken when the connection is lost.
  virtual sql_result exec(const std::string& sql, const sql_params& params = {}) = 0;

  virtual sql_dialect dialect() const = 0;
};

/// "$1" placeholders → "?1" (outside of string literals).
std::string to_sqlite_placeholders(const std::string& sql);

/// Formats a double so that it parses back to the same value (locale-independent).
std::string format_real(double v);

/// Parses what format_real or PostgreSQL writes (locale-independent).
double parse_real(const std::string& text);

} // namespace gilgal
