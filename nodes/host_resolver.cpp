#include "nodes/host_resolver.hpp"

#include <algorithm>
#include <cstring>
#include <memory>

#include <netdb.h>
#include <sys/socket.h>

#include "protocol/error.hpp"

namespace gilgal {

caf::expected<std::vector<ip_address>> resolve_host_addresses(const std::string& host) {
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  auto rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0)
    return make_error(errc::unavailable,
                      "could not resolve host " + host + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard{list, ::freeaddrinfo};
  std::vector<ip_address> out;
  for (auto* ai = list; ai != nullptr; ai = ai->ai_next) {
    ip_address ip;
    if (ai->ai_family == AF_INET) {
      auto* sa = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      std::memcpy(ip.bytes.data(), &sa->sin_addr, 4);
    } else if (ai->ai_family == AF_INET6) {
      auto* sa = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      ip.v6 = true;
      std::memcpy(ip.bytes.data(), &sa->sin6_addr, 16);
    } else {
      continue;
    }
    if (std::none_of(out.begin(), out.end(), [&](const ip_address& x) {
          return x.v6 == ip.v6 && x.bytes == ip.bytes;
        }))
      out.push_back(ip);
  }
  if (out.empty())
    return make_error(errc::unavailable, "could not resolve host " + host + ": no address");
  return out;
}

caf::expected<std::vector<ip_address>> resolve_target(const std::string& field,
                                                      const std::string& host,
                                                      bool allow_private,
                                                      const host_resolver& resolve) {
  if (allow_private)
    return std::vector<ip_address>{}; // anything goes: no need to know where
  if (auto err = check_target_host(field, host, allow_private))
    return err;
  if (auto ip = parse_ip_literal(host))
    return std::vector<ip_address>{*ip};
  auto addresses = resolve ? resolve(host) : resolve_host_addresses(host);
  if (!addresses)
    return addresses.error();
  for (auto& a : *addresses)
    if (auto err = check_resolved_address(field, host, a, allow_private))
      return err;
  return addresses;
}

} // namespace gilgal
