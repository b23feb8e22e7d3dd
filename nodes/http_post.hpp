// One outbound HTTP POST of a JSON body (libcurl): for notifications to URLs a
// tenant named. No redirects, http and https only, bounded time and answer
// size; `pinned` addresses make libcurl connect exactly where the caller
// checked (no second DNS lookup an attacker could answer differently).
// Blocking: call it from a detached actor or a worker thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace gilgal {

struct http_post_request {
  std::string url;
  std::string body;
  std::vector<std::string> headers;    // "Name: value"
  /// "host:port:address" entries (CURLOPT_RESOLVE); empty: the system resolver.
  std::vector<std::string> pinned;
  std::chrono::milliseconds timeout{10000};
};

/// The HTTP status of the answer (any status: the caller decides), or
/// errc::unavailable naming what failed (connect, TLS, timeout).
caf::expected<long> http_post(const http_post_request& req);

} // namespace gilgal
