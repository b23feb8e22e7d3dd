// Caddy's log (JSON lines in a file Caddy writes) into Gilgal's log: each call
// of read_new() returns the entries appended since the last call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gilgal::proxy {

class caddy_log_follower {
public:
  /// Follows `path` from its current end (earlier entries are not repeated).
  explicit caddy_log_follower(std::string path);

  struct entry {
    std::string level; // debug | info | warn | error (Caddy's level names)
    std::string text;  // "message (logger) key=value ..."
  };

  /// Entries appended since the last call. A file that shrank (rolled) is
  /// read from its start. Lines that are not JSON are passed on as they are.
  std::vector<entry> read_new();

private:
  std::string path_;
  int64_t offset_ = 0;
  std::string partial_; // an unfinished last line
};

/// One line of Caddy's log as an entry.
caddy_log_follower::entry parse_caddy_log_line(const std::string& line);

} // namespace gilgal::proxy
