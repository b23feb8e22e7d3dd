// Terminal output of the operator console: aligned tables, ages, durations,
// short commits and log lines in the seed's form `[timestamp] level: message`.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gilgal::cli {

/// A table printed with columns padded to their widest cell (two spaces apart;
/// the last column is not padded).
class text_table {
public:
  explicit text_table(std::vector<std::string> headers) : headers_(std::move(headers)) {
  }

  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  bool empty() const { return rows_.empty(); }

  void print(std::ostream& out) const;

private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

/// A string member of `j`, or `fallback` if absent or null.
std::string str_of(const nlohmann::json& j, const char* key, const std::string& fallback = "-");

/// "12s ago", "5m ago", "3h ago", "2d ago" for an RFC 3339 time; the text itself
/// if it cannot be parsed.
std::string age_of(const std::string& rfc3339,
                   std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

/// "-" for null, else "42s", "2m05s", "1h02m".
std::string duration_of(const nlohmann::json& seconds);

/// The first 8 characters of a commit sha ("-" if none).
std::string commit8(const nlohmann::json& sha);

/// `text` cut to `max` characters (with "..."), on one line.
std::string one_line(const std::string& text, size_t max);

/// `[timestamp] level: message` for a log line object.
std::string format_log_line(const nlohmann::json& line);

/// "(page 1 of 3, 42 in all; --page 2 for more)" for a page object, or "" if it is the only one.
std::string page_footer(const nlohmann::json& page);

} // namespace gilgal::cli
