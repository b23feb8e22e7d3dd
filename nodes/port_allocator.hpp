// Host ports for containers. A port is handed out only if no other job of this
// process holds it and it can be bound on the host address right now, so
// concurrent deployments never get the same port.
#pragma once

#include <mutex>
#include <set>
#include <string>

#include <caf/expected.hpp>

namespace gilgal {

class port_allocator {
public:
  port_allocator(std::string host, int first, int last);

  /// A free port, reserved until release(). errc::unavailable when the range is
  /// exhausted.
  caf::expected<int> allocate();

  /// Gives a port back (no-op for ports not reserved).
  void release(int port);

  /// True if `port` can be bound on the host address now.
  static bool can_bind(const std::string& host, int port);

private:
  std::string host_;
  int first_;
  int last_;
  int next_;
  std::mutex mtx_;
  std::set<int> reserved_;
};

} // namespace gilgal
