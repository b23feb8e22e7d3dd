// The edge's HTTP server: cpp-httplib behind a front of our own on each
// connection.
//
// Debian's cpp-httplib 0.11.4 is a prebuilt library, so its limits
// (CPPHTTPLIB_HEADER_MAX_LENGTH, ...) are fixed at its build, and they are
// checked only after a whole line is buffered: a 100 MB header line costs
// 100 MB. It also reads chunked bodies past its payload limit, and a body
// without Content-Length until the client closes. No httplib hook runs before
// those reads, so this server overrides the one per-connection entry point
// (process_and_close_socket) and feeds httplib from a bounded buffer:
//
//  - a request's head (request line and headers) must arrive complete, within
//    max_head_bytes and head_timeout, before httplib reads a byte of it;
//  - a head with Transfer-Encoding is refused (411: bodies need a
//    Content-Length), as is a Content-Length above the payload limit (413), a
//    malformed or repeated Content-Length (400), an oversized head (431; 414
//    when the request line alone is too long) and a late one (408). The body of
//    a refused request is never read, and its connection is closed;
//  - httplib then sees exactly the head and Content-Length bytes of the body
//    (EOF after them), which must arrive within body_timeout;
//  - an idle keep-alive connection is closed after keep_alive_timeout.
//
// So no request holds a worker thread longer than head_timeout + body_timeout
// while it is received; streaming answers (SSE) are bounded by their own caps.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <set>
#include <string>

#include <httplib.h>

namespace gilgal {

struct edge_limits {
  size_t max_head_bytes = 16 * 1024;
  size_t max_body_bytes = 1 << 20;
  std::chrono::milliseconds keep_alive_timeout{5000}; // idle between requests
  std::chrono::milliseconds head_timeout{10000};      // first byte to end of head
  std::chrono::milliseconds body_timeout{30000};      // end of head to end of body
};

/// What the front decides about one request head.
struct head_verdict {
  int status = 0;      // 0: hand it to httplib; else the refusal's HTTP status
  std::string reason;  // why, for the error body (never echoes header values)
  size_t body_bytes = 0; // the Content-Length (0 when absent)
};

/// Checks a complete head (request line, headers, the blank line) against the
/// limits. Pure: exposed for tests.
head_verdict inspect_head(const std::string& head, size_t max_body_bytes);

class edge_server : public httplib::Server {
public:
  explicit edge_server(edge_limits limits);

  /// Shuts down every open connection (after stop(): idle keep-alive waits
  /// and streams end now instead of at their timeouts).
  void close_connections();

private:
  bool process_and_close_socket(socket_t sock) override;

  edge_limits limits_;
  std::mutex mtx_;
  std::set<socket_t> open_; // sockets being served; closed only after removal
};

} // namespace gilgal
