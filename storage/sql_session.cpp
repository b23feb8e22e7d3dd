#include "storage/sql_session.hpp"

#include <charconv>
#include <stdexcept>

namespace gilgal {

std::string format_real(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v); // shortest text that reads back exactly
  return std::string(buf, res.ptr);
}

double parse_real(const std::string& text) {
  double v = 0;
  auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  if (res.ec != std::errc{})
    throw db_error(errc::internal, "not a number in the database: " + text);
  return v;
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
