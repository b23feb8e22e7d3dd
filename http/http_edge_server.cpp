#include "http/http_edge_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "protocol/json.hpp"

namespace gilgal {

namespace {

using clock_type = std::chrono::steady_clock;

/// Milliseconds left until `deadline` (0 when passed), for poll().
int millis_until(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

/// poll() for `events` until `deadline`; true when ready (or hung up).
bool wait_for(int fd, short events, clock_type::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, millis_until(deadline));
    if (n > 0)
      return true;
    if (n == 0 || errno != EINTR)
      return false;
  }
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    default: return "Error";
  }
}

const char* error_code_of(int status) {
  switch (status) {
    case 408: return "timeout";
    case 413: return "payload_too_large";
    default: return "invalid_argument";
  }
}

/// One accepted connection as httplib's Stream. Reads go through a buffer that
/// the front fills with a request's head before httplib runs; httplib may then
/// read only that request's head and body (`allow`), and sees EOF after them.
class connection : public httplib::Stream {
public:
  connection(int fd, size_t buffer_bytes, std::chrono::milliseconds write_timeout)
    : fd_(fd), buf_(buffer_bytes), write_timeout_(write_timeout) {
  }

  enum class head_state { ready, closed, too_large, line_too_long, timed_out };

  /// Waits (idle_timeout) for a request to begin, then (head_timeout) for its
  /// head to be buffered completely. On `ready`, `head_bytes` is its length.
  head_state await_head(std::chrono::milliseconds idle_timeout,
                        std::chrono::milliseconds head_timeout, size_t max_head,
                        size_t& head_bytes) {
    if (begin_ == end_) {
      begin_ = end_ = 0;
      if (!wait_for(fd_, POLLIN, clock_type::now() + idle_timeout) || fill() <= 0)
        return head_state::closed;
    }
    auto deadline = clock_type::now() + head_timeout;
    size_t searched = begin_;
    for (;;) {
      static const char terminator[] = "\r\n\r\n";
      auto from = buf_.begin() + static_cast<ptrdiff_t>(searched);
      auto to = buf_.begin() + static_cast<ptrdiff_t>(end_);
      auto at = std::search(from, to, terminator, terminator + 4);
      if (at != to) {
        head_bytes = static_cast<size_t>(at - buf_.begin()) + 4 - begin_;
        return head_bytes <= max_head ? head_state::ready : head_state::too_large;
      }
      searched = std::max(begin_, end_ >= 3 ? end_ - 3 : 0);
      if (end_ - begin_ >= max_head) {
        auto first = buf_.begin() + static_cast<ptrdiff_t>(begin_);
        bool has_line = std::search(first, to, terminator, terminator + 2) != to;
        return has_line ? head_state::too_large : head_state::line_too_long;
      }
      if (end_ == buf_.size())
        compact(searched);
      if (!wait_for(fd_, POLLIN, deadline))
        return head_state::timed_out;
      if (fill() <= 0)
        return head_state::closed;
    }
  }

  std::string buffered_text(size_t bytes) const {
    return std::string(buf_.data() + begin_, bytes);
  }

  /// Lets the next reads return up to `bytes`, until `deadline`.
  void allow(size_t bytes, clock_type::time_point deadline) {
    allowed_ = bytes;
    deadline_ = deadline;
  }

  /// Bytes of the current request that httplib left unread.
  size_t unread() const {
    return allowed_;
  }

  /// Reads and drops input for a while (so that a refused client sees our
  /// answer rather than a reset), then gives up.
  void drain(std::chrono::milliseconds budget, size_t max_bytes) {
    auto deadline = clock_type::now() + budget;
    size_t dropped = 0;
    char sink[16384];
    while (dropped < max_bytes && wait_for(fd_, POLLIN, deadline)) {
      auto n = ::recv(fd_, sink, sizeof sink, 0);
      if (n <= 0)
        return;
      dropped += static_cast<size_t>(n);
    }
  }

  // -- httplib::Stream --------------------------------------------------------

  bool is_readable() const override {
    return allowed_ > 0 && (begin_ < end_ || wait_for(fd_, POLLIN, deadline_));
  }

  /// Also false once the client has hung up, so that a stream (SSE) whose
  /// reader left ends at its next check instead of its next failed write.
  bool is_writable() const override {
    if (!wait_for(fd_, POLLOUT, clock_type::now() + write_timeout_))
      return false;
    pollfd p{fd_, POLLRDHUP, 0};
    return ::poll(&p, 1, 0) == 0 || !(p.revents & (POLLRDHUP | POLLHUP | POLLERR));
  }

  ssize_t read(char* ptr, size_t size) override {
    size = std::min(size, allowed_);
    if (size == 0)
      return 0; // the end of what this request may send
    if (begin_ == end_) {
      if (!wait_for(fd_, POLLIN, deadline_))
        return -1; // too slow
      begin_ = end_ = 0;
      if (size >= buf_.size()) { // large reads bypass the buffer
        auto n = recv_some(ptr, size);
        if (n > 0)
          allowed_ -= static_cast<size_t>(n);
        return n;
      }
      auto n = fill();
      if (n <= 0)
        return n;
    }
    auto n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buf_.data() + begin_, n);
    begin_ += n;
    allowed_ -= n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!wait_for(fd_, POLLOUT, clock_type::now() + write_timeout_))
      return -1;
    for (;;) {
      auto n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
      if (n >= 0 || errno != EINTR)
        return n;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(::getpeername, ip, port);
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(::getsockname, ip, port);
  }

  socket_t socket() const override {
    return fd_;
  }

private:
  ssize_t recv_some(char* ptr, size_t size) {
    for (;;) {
      auto n = ::recv(fd_, ptr, size, 0);
      if (n >= 0 || errno != EINTR)
        return n;
    }
  }

  /// Appends what the socket has to the buffer (one recv).
  ssize_t fill() {
    auto n = recv_some(buf_.data() + end_, buf_.size() - end_);
    if (n > 0)
      end_ += static_cast<size_t>(n);
    return n;
  }

  /// Moves the unread bytes to the front; `mark` moves with them.
  void compact(size_t& mark) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    mark -= begin_;
    end_ -= begin_;
    begin_ = 0;
  }

  template <class F>
  void address_of(F get, std::string& ip, int& port) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    ip.clear();
    port = 0;
    if (get(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    char text[INET6_ADDRSTRLEN] = {0};
    if (addr.ss_family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(&addr);
      inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
      port = ntohs(in->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
      inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
      port = ntohs(in6->sin6_port);
    }
    ip = text;
  }

  int fd_;
  std::vector<char> buf_;
  size_t begin_ = 0; // unread bytes are buf_[begin_, end_)
  size_t end_ = 0;
  size_t allowed_ = 0;
  clock_type::time_point deadline_;
  std::chrono::milliseconds write_timeout_;
};

/// Answers a refused request and closes the conversation (the caller closes
/// the socket).
void refuse(connection& conn, int fd, int status, const std::string& reason) {
  std::string ip;
  int port = 0;
  conn.get_remote_ip_and_port(ip, port);
  spdlog::warn("refused a request from {}: {} ({})", ip, status, reason);
  auto body = error_json(error_code_of(status), reason).dump();
  auto text = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status)
              + "\r\nContent-Type: application/json\r\nContent-Length: "
              + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < text.size()) {
    auto n = conn.write(text.data() + sent, text.size() - sent);
    if (n <= 0)
      return;
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  conn.drain(std::chrono::milliseconds{1000}, 1 << 20);
}

} // namespace

head_verdict inspect_head(const std::string& head, size_t max_body_bytes) {
  head_verdict v;
  bool has_length = false;
  size_t pos = head.find("\r\n"); // past the request line
  while (pos != std::string::npos && pos + 2 < head.size()) {
    auto start = pos + 2;
    auto end = head.find("\r\n", start);
    if (end == std::string::npos || end == start)
      break;
    auto line = head.substr(start, end - start);
    pos = end;
    auto colon = line.find(':');
    if (colon == std::string::npos)
      continue; // httplib decides about malformed lines
    auto name = lower(trim(line.substr(0, colon)));
    if (name == "transfer-encoding")
      return {411, "request bodies must be sent with Content-Length, not Transfer-Encoding"};
    if (name != "content-length")
      continue;
    auto value = trim(line.substr(colon + 1));
    if (value.empty() || value.size() > 19 || value.find_first_not_of("0123456789") != std::string::npos)
      return {400, "Content-Length must be a non-negative integer"};
    auto length = static_cast<size_t>(std::stoull(value));
    if (has_length && length != v.body_bytes)
      return {400, "conflicting Content-Length headers"};
    has_length = true;
    v.body_bytes = length;
    if (length > max_body_bytes)
      return {413, "request body exceeds " + std::to_string(max_body_bytes) + " bytes"};
  }
  return v;
}

edge_server::edge_server(edge_limits limits) : limits_(limits) {
}

void edge_server::close_connections() {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto sock : open_)
    ::shutdown(sock, SHUT_RDWR);
}

bool edge_server::process_and_close_socket(socket_t sock) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    open_.insert(sock);
  }
  auto write_timeout = std::chrono::seconds(write_timeout_sec_)
                       + std::chrono::microseconds(write_timeout_usec_);
  connection conn{sock, std::max<size_t>(limits_.max_head_bytes, 16 * 1024),
                  std::chrono::duration_cast<std::chrono::milliseconds>(write_timeout)};
  bool ok = true;
  for (size_t served = 0; served < keep_alive_max_count_ && svr_sock_ != INVALID_SOCKET;
       ++served) {
    size_t head_bytes = 0;
    auto state = conn.await_head(limits_.keep_alive_timeout, limits_.head_timeout,
                                 limits_.max_head_bytes, head_bytes);
    if (state == connection::head_state::closed)
      break;
    if (state != connection::head_state::ready) {
      auto limit = std::to_string(limits_.max_head_bytes);
      if (state == connection::head_state::too_large)
        refuse(conn, sock, 431, "request headers exceed " + limit + " bytes");
      else if (state == connection::head_state::line_too_long)
        refuse(conn, sock, 414, "request line exceeds " + limit + " bytes");
      else
        refuse(conn, sock, 408, "the request head did not arrive within "
                                  + std::to_string(limits_.head_timeout.count()) + " ms");
      break;
    }
    auto verdict = inspect_head(conn.buffered_text(head_bytes), limits_.max_body_bytes);
    if (verdict.status != 0) {
      refuse(conn, sock, verdict.status, verdict.reason);
      break;
    }
    conn.allow(head_bytes + verdict.body_bytes, clock_type::now() + limits_.body_timeout);
    bool closed = false;
    bool last = served + 1 == keep_alive_max_count_;
    ok = process_request(conn, last, closed, [](httplib::Request&) {});
    // A request httplib did not read to its end leaves the stream out of step.
    if (!ok || closed || conn.unread() > 0)
      break;
  }
  {
    std::lock_guard<std::mutex> guard{mtx_};
    open_.erase(sock);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

} // namespace gilgal
