// A raw TCP client for the HTTP edge's abuse tests (header-only: only
// *_test.cpp files are compiled on their own): it sends bytes no well-behaved
// client library would, reads the answer while it is still sending, and holds
// connections open. Loopback only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <functional>
#include <string>

namespace gilgal::test {

class raw_connection {
public:
  using clock = std::chrono::steady_clock;

  explicit raw_connection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  ~raw_connection() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  bool connected() const {
    return fd_ >= 0;
  }

  /// Sends `text` completely (false if the peer went away).
  bool send_all(const std::string& text) {
    size_t sent = 0;
    while (sent < text.size()) {
      auto n = ::send(fd_, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  /// Sends `head`, then `body_bytes` produced by `next_piece` (called with the
  /// bytes still wanted, returns a piece), stopping as soon as an answer
  /// arrives. Returns the answer's head ("" if none came within `patience`
  /// after the last byte could be sent). `sent` counts the body bytes sent.
  std::string send_until_answer(const std::string& head, size_t body_bytes,
                                const std::function<std::string(size_t)>& next_piece,
                                size_t& sent, std::chrono::milliseconds patience) {
    sent = 0;
    if (!send_all(head))
      return read_head(clock::now() + patience);
    std::string piece;
    size_t piece_at = 0;
    auto deadline = clock::now() + patience;
    while (clock::now() < deadline) {
      pollfd p{fd_, static_cast<short>(POLLIN | (sent < body_bytes ? POLLOUT : 0)), 0};
      if (::poll(&p, 1, 100) < 0 && errno != EINTR)
        break;
      if (p.revents & (POLLIN | POLLHUP | POLLERR))
        return read_head(clock::now() + patience);
      if (!(p.revents & POLLOUT))
        continue;
      if (piece_at == piece.size()) {
        piece = next_piece(body_bytes - sent);
        piece_at = 0;
      }
      auto n = ::send(fd_, piece.data() + piece_at, piece.size() - piece_at,
                      MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        continue;
      if (n <= 0)
        return read_head(clock::now() + patience);
      piece_at += static_cast<size_t>(n);
      sent += static_cast<size_t>(n);
      deadline = clock::now() + patience; // progress: keep going
    }
    return read_head(clock::now() + patience);
  }

  /// Reads until the end of a response head ("\r\n\r\n"), EOF or the deadline;
  /// returns what was read (the head and possibly more).
  std::string read_head(clock::time_point deadline) {
    std::string in;
    char buf[4096];
    while (in.find("\r\n\r\n") == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      if (left.count() <= 0)
        break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        break;
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      in.append(buf, static_cast<size_t>(n));
    }
    return in;
  }

  /// The rest of the body announced by Content-Length in `head_and_more`
  /// (what read_head returned), reading until it is complete or the deadline.
  std::string read_body(const std::string& head_and_more, clock::time_point deadline) {
    auto end = head_and_more.find("\r\n\r\n");
    auto at = head_and_more.find("Content-Length: ");
    if (end == std::string::npos || at == std::string::npos || at > end)
      return {};
    auto wanted = static_cast<size_t>(std::atol(head_and_more.c_str() + at + 16));
    auto have = head_and_more.size() - end - 4;
    std::string more;
    char buf[4096];
    while (have + more.size() < wanted) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        break;
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      more.append(buf, static_cast<size_t>(n));
    }
    return more;
  }

  /// Reads until EOF or the deadline.
  std::string read_rest(clock::time_point deadline) {
    std::string in;
    char buf[4096];
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      if (left.count() <= 0)
        break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        break;
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      in.append(buf, static_cast<size_t>(n));
    }
    return in;
  }

private:
  int fd_ = -1;
};

/// The status code of a response head ("HTTP/1.1 411 ..."), 0 if none.
inline int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12)
    return 0;
  return std::atoi(response.c_str() + 9);
}

/// A field of /proc/PID/status in kB (VmRSS, VmHWM), -1 if unreadable.
inline long proc_status_kb(int pid, const std::string& field) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0)
      return std::atol(line.c_str() + field.size() + 1);
  return -1;
}

} // namespace gilgal::test
