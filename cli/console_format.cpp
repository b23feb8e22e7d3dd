#include "cli/console_format.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include <sys/ioctl.h>
#include <unistd.h>

#include "protocol/ids.hpp"

namespace gilgal::cli {

namespace {

/// Display width of UTF-8 text: code points (good enough for names and messages).
size_t width_of(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

} // namespace

void text_table::print(std::ostream& out) const {
  print(out, terminal_width());
}

void text_table::print(std::ostream& out, size_t width) const {
  auto n = headers_.size();
  std::vector<size_t> natural(n, 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < n; ++i)
      natural[i] = std::max(natural[i], width_of(one_line(row[i], SIZE_MAX)));
  };
  measure(headers_);
  for (auto& row : rows_)
    measure(row);
  auto widths = natural;
  std::vector<bool> shown(n, true);
  auto total = [&] {
    size_t sum = 0;
    size_t count = 0;
    for (size_t i = 0; i < n; ++i)
      if (shown[i]) {
        sum += widths[i];
        ++count;
      }
    return sum + (count > 0 ? 2 * (count - 1) : 0);
  };
  // 1. Cut flexible columns down, widest first.
  for (;;) {
    if (total() <= width)
      break;
    size_t widest = n;
    for (size_t i = 0; i < n; ++i)
      if (shown[i] && flex_min_[i] > 0 && widths[i] > flex_min_[i]
          && (widest == n || widths[i] > widths[widest]))
        widest = i;
    if (widest == n)
      break;
    widths[widest] -= std::min(total() - width, widths[widest] - flex_min_[widest]);
  }
  // 2. Leave out droppable columns, highest rank first.
  while (total() > width) {
    size_t drop = n;
    for (size_t i = 0; i < n; ++i)
      if (shown[i] && drop_rank_[i] > 0 && (drop == n || drop_rank_[i] > drop_rank_[drop]))
        drop = i;
    if (drop == n)
      break;
    shown[drop] = false;
  }
  // 3. Give the room left back to the cut columns.
  for (size_t i = 0; i < n; ++i)
    if (shown[i] && widths[i] < natural[i] && total() < width)
      widths[i] += std::min(natural[i] - widths[i], width - total());
  size_t last = n;
  for (size_t i = 0; i < n; ++i)
    if (shown[i])
      last = i;
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < n; ++i) {
      if (!shown[i])
        continue;
      auto cell = one_line(i < row.size() ? row[i] : std::string{}, widths[i]);
      line += cell;
      if (i != last)
        line += std::string(widths[i] - width_of(cell) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out << line << '\n';
  };
  print_row(headers_);
  for (auto& row : rows_)
    print_row(row);
  out.flush();
}

size_t terminal_width() {
  struct winsize ws {};
  if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  if (const char* columns = std::getenv("COLUMNS")) {
    char* end = nullptr;
    auto value = std::strtol(columns, &end, 10);
    if (end && *end == '\0' && value >= 20 && value <= 1000)
      return static_cast<size_t>(value);
  }
  return 80;
}

int64_t int_of(const nlohmann::json& j, const char* key, int64_t fallback) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer())
    return fallback;
  if (it->is_number_unsigned()
      && it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return fallback;
  return it->get<int64_t>();
}

std::string str_of(const nlohmann::json& j, const char* key, const std::string& fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    return fallback;
  if (it->is_string())
    return it->get<std::string>();
  return it->dump();
}

std::string age_of(const std::string& rfc3339, std::chrono::system_clock::time_point now) {
  std::chrono::system_clock::time_point t;
  if (!parse_rfc3339(rfc3339, t))
    return rfc3339.empty() ? "-" : rfc3339;
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - t).count();
  if (secs < 0)
    secs = 0;
  if (secs < 60)
    return std::to_string(secs) + "s ago";
  if (secs < 3600)
    return std::to_string(secs / 60) + "m ago";
  if (secs < 86400)
    return std::to_string(secs / 3600) + "h ago";
  return std::to_string(secs / 86400) + "d ago";
}

std::string duration_of(const nlohmann::json& seconds) {
  if (!seconds.is_number())
    return "-";
  auto total = static_cast<long long>(seconds.get<double>() + 0.5);
  char buf[32];
  if (total < 60)
    std::snprintf(buf, sizeof buf, "%llds", total);
  else if (total < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", total / 60, total % 60);
  else
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", total / 3600, (total % 3600) / 60);
  return buf;
}

std::string commit8(const nlohmann::json& sha) {
  if (!sha.is_string() || sha.get<std::string>().empty())
    return "-";
  return sha.get<std::string>().substr(0, 8);
}

std::string one_line(const std::string& text, size_t max) {
  std::string out;
  for (char c : text)
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (width_of(out) <= max)
    return out;
  // Cut at a code point boundary.
  size_t n = 0;
  size_t i = 0;
  for (; i < out.size(); ++i) {
    if ((static_cast<unsigned char>(out[i]) & 0xC0) != 0x80) {
      if (n == max - 3)
        break;
      ++n;
    }
  }
  return out.substr(0, i) + "...";
}

std::string format_log_line(const nlohmann::json& line) {
  return "[" + str_of(line, "timestamp", "") + "] " + str_of(line, "level", "info") + ": "
         + str_of(line, "message", "");
}

std::string page_footer(const nlohmann::json& page) {
  if (!page.value("hasMore", false) && page.value("page", 1) <= 1)
    return {};
  auto total = int_of(page, "total", 0);
  auto limit = std::max<int64_t>(int_of(page, "limit", 1), 1);
  auto number = int_of(page, "page", 1);
  auto pages = (total + limit - 1) / limit;
  std::string text = "(page " + std::to_string(number) + " of " + std::to_string(pages) + ", "
                     + std::to_string(total) + " in all";
  if (page.value("hasMore", false))
    text += "; --page " + std::to_string(number + 1) + " for more";
  return text + ")";
}

} // namespace gilgal::cli
