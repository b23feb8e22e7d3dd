#include "nodes/json_lines.hpp"

#include <algorithm>

namespace gilgal {

namespace {

std::string_view chomp(std::string_view line) {
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  return line;
}

} // namespace

void line_splitter::take(std::string_view piece) {
  if (pending_.size() < max_line_)
    pending_.append(piece.data(), std::min(piece.size(), max_line_ - pending_.size()));
}

void line_splitter::feed(std::string_view bytes) {
  size_t start = 0;
  for (;;) {
    auto nl = bytes.find('\n', start);
    if (nl == std::string_view::npos)
      break;
    auto piece = bytes.substr(start, nl - start);
    if (pending_.empty() && piece.size() <= max_line_) {
      on_line_(chomp(piece));
    } else {
      take(piece);
      std::string line;
      line.swap(pending_);
      on_line_(chomp(line));
    }
    start = nl + 1;
  }
  take(bytes.substr(start));
}

void line_splitter::finish() {
  if (pending_.empty())
    return;
  std::string line;
  line.swap(pending_);
  on_line_(chomp(line));
}

} // namespace gilgal
