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
/// the last column is not padded), fitted to a terminal width: flexible
/// columns are first cut down (cells end in "...") to their minimum width,
/// then droppable columns are left out (highest rank first), then the
/// flexible ones take back what room is left. Columns that are neither
/// (ids) are always printed whole.
class text_table {
public:
  explicit text_table(std::vector<std::string> headers) : headers_(std::move(headers)) {
    flex_min_.assign(headers_.size(), 0);
    drop_rank_.assign(headers_.size(), 0);
  }

  /// Column `i` may be cut down to `min_width` (at least 4) characters.
  text_table& flexible(size_t i, size_t min_width) {
    flex_min_.at(i) = min_width < 4 ? 4 : min_width;
    return *this;
  }

  /// Column `i` may be left out; a higher `rank` is left out first.
  text_table& droppable(size_t i, int rank) {
    drop_rank_.at(i) = rank;
    return *this;
  }

  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  bool empty() const { return rows_.empty(); }

  void print(std::ostream& out, size_t width) const;

  /// Prints for the console's terminal (terminal_width()).
  void print(std::ostream& out) const;

private:
  std::vector<std::string> headers_;
  std::vector<size_t> flex_min_; // 0: never cut
  std::vector<int> drop_rank_;   // 0: never left out
  std::vector<std::vector<std::string>> rows_;
};

/// The width tables are fitted to: the terminal's when stdout is one, else
/// $COLUMNS when it is a number, else 80.
size_t terminal_width();

/// A string member of `j`, or `fallback` if absent or null.
std::string str_of(const nlohmann::json& j, const char* key, const std::string& fallback = "-");

/// An integer member of `j`, or `fallback` if absent, not an integer, or
/// beyond int64 (a float is never converted: that could be undefined).
int64_t int_of(const nlohmann::json& j, const char* key, int64_t fallback);

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
