#include "storage/sql_session.hpp"

#include <cstdio>

namespace gilgal {

std::string format_real(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::optional<std::string> sql_param::as_text() const {
  switch (kind) {
    case integer_kind:
      return std::to_string(integer);
    case real_kind:
      return format_real(real);
    case text_kind:
      return text;
    default:
      return std::nullopt;
  }
}

std::string to_sqlite_placeholders(const std::string& sql) {
  std::string out;
  out.reserve(sql.size());
  bool in_literal = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'')
      in_literal = !in_literal;
    if (!in_literal && c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9')
      out += '?';
    else
      out += c;
  }
  return out;
}

} // namespace gilgal
