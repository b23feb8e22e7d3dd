#include "nodes/port_allocator.hpp"

#include <random>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocol/error.hpp"

namespace gilgal {

port_allocator::port_allocator(std::string host, int first, int last)
  : host_(std::move(host)), first_(first), last_(last), next_(first) {
  // Start at a random place, so that several Gilgal processes on one host
  // rarely race for the same port.
  std::random_device rd;
  if (last_ > first_)
    next_ = first_ + static_cast<int>(rd() % static_cast<unsigned>(last_ - first_ + 1));
}

bool port_allocator::can_bind(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

caf::expected<int> port_allocator::allocate() {
  std::lock_guard<std::mutex> guard{mtx_};
  int span = last_ - first_ + 1;
  for (int i = 0; i < span; ++i) {
    int port = next_;
    next_ = next_ == last_ ? first_ : next_ + 1;
    if (reserved_.count(port) == 0 && can_bind(host_, port)) {
      reserved_.insert(port);
      return port;
    }
  }
  return make_error(errc::unavailable, "no free host port between " + std::to_string(first_)
                                         + " and " + std::to_string(last_));
}

void port_allocator::release(int port) {
  std::lock_guard<std::mutex> guard{mtx_};
  reserved_.erase(port);
}

} // namespace gilgal
