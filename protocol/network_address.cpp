#include "protocol/network_address.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "protocol/error.hpp"

namespace gilgal {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ends_with(const std::string& s, const char* suffix) {
  auto n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

address_scope scope_of_v4(const uint8_t* b) {
  auto a = b[0];
  if (a == 0)
    return address_scope::unspecified;
  if (a == 127)
    return address_scope::loopback;
  if (a == 10 || (a == 172 && (b[1] & 0xf0) == 16) || (a == 192 && b[1] == 168)
      || (a == 100 && (b[1] & 0xc0) == 64))
    return address_scope::private_network;
  if (a == 169 && b[1] == 254)
    return address_scope::link_local;
  if ((a & 0xf0) == 224)
    return address_scope::multicast;
  if ((a & 0xf0) == 240)
    return address_scope::reserved;
  if ((a == 192 && b[1] == 0 && (b[2] == 0 || b[2] == 2)) || (a == 192 && b[1] == 88 && b[2] == 99)
      || (a == 198 && (b[1] & 0xfe) == 18) || (a == 198 && b[1] == 51 && b[2] == 100)
      || (a == 203 && b[1] == 0 && b[2] == 113))
    return address_scope::reserved;
  return address_scope::public_internet;
}

bool all_zero(const uint8_t* b, size_t n) {
  return std::all_of(b, b + n, [](uint8_t x) { return x == 0; });
}

} // namespace

std::string ip_address::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof(buf));
  return buf;
}

const char* describe(address_scope scope) {
  switch (scope) {
    case address_scope::public_internet:
      return "a public address";
    case address_scope::unspecified:
      return "an unspecified address (this host)";
    case address_scope::loopback:
      return "a loopback address";
    case address_scope::link_local:
      return "a link-local address";
    case address_scope::private_network:
      return "a private-range address";
    case address_scope::multicast:
      return "a multicast address";
    case address_scope::reserved:
      return "a reserved address";
  }
  return "an unknown address";
}

caf::optional<ip_address> parse_ip_literal(std::string_view text) {
  std::string host(text);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || host.size() > 64)
    return caf::none;
  if (host.find(':') != std::string::npos) {
    auto zone = host.find('%');
    if (zone != std::string::npos)
      host.resize(zone);
    ip_address ip;
    ip.v6 = true;
    if (::inet_pton(AF_INET6, host.c_str(), ip.bytes.data()) == 1)
      return ip;
    return caf::none;
  }
  // inet_aton stops at whitespace and accepts what follows: only hand it
  // characters of its number forms.
  for (char c : host)
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '.' && c != 'x' && c != 'X')
      return caf::none;
  in_addr addr;
  if (::inet_aton(host.c_str(), &addr) == 0)
    return caf::none;
  ip_address ip;
  std::memcpy(ip.bytes.data(), &addr.s_addr, 4);
  return ip;
}

address_scope scope_of(const ip_address& ip) {
  const auto* b = ip.bytes.data();
  if (!ip.v6)
    return scope_of_v4(b);
  if (all_zero(b, 16))
    return address_scope::unspecified;
  if (all_zero(b, 15) && b[15] == 1)
    return address_scope::loopback;
  // Addresses that carry an IPv4 address: mapped, compatible, NAT64.
  if (all_zero(b, 10) && b[10] == 0xff && b[11] == 0xff)
    return scope_of_v4(b + 12);
  if (all_zero(b, 12))
    return scope_of_v4(b + 12);
  static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b, nat64, 12) == 0)
    return scope_of_v4(b + 12);
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0 && b[5] == 1)
    return address_scope::private_network; // 64:ff9b:1::/48, local-use NAT64
  if (b[0] == 0x20 && b[1] == 0x02)
    return scope_of_v4(b + 2); // 6to4
  if (b[0] == 0xff)
    return address_scope::multicast;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
    return address_scope::link_local;
  if ((b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) || (b[0] & 0xfe) == 0xfc)
    return address_scope::private_network;
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
    return address_scope::reserved; // documentation
  if ((b[0] & 0xe0) != 0x20)
    return address_scope::reserved; // outside 2000::/3, the global unicast space
  return address_scope::public_internet;
}

bool is_local_hostname(std::string_view text) {
  auto host = lower(text);
  if (!host.empty() && host.back() == '.')
    host.pop_back();
  return host == "localhost" || ends_with(host, ".localhost") || host == "localhost.localdomain"
         || host == "ip6-localhost" || host == "ip6-loopback";
}

caf::expected<url_target> parse_url_target(std::string_view url_text) {
  std::string url(url_text);
  auto bad = [&](const char* why) {
    return make_error(errc::invalid_argument, std::string{"URL: "} + why);
  };
  url_target t;
  std::string authority;
  auto scheme_end = url.find("://");
  if (scheme_end != std::string::npos) {
    t.scheme = lower(url.substr(0, scheme_end));
    auto rest = url.substr(scheme_end + 3);
    authority = rest.substr(0, rest.find_first_of("/?#"));
    // user information ends at the last '@' of the authority
    auto at = authority.rfind('@');
    if (at != std::string::npos)
      authority = authority.substr(at + 1);
  } else {
    // scp-like user@host:path (a ':' before any '/')
    auto colon = url.find(':');
    auto slash = url.find('/');
    if (colon == std::string::npos || (slash != std::string::npos && slash < colon))
      return bad("no host");
    t.scheme = "ssh";
    authority = url.substr(0, colon);
    auto at = authority.rfind('@');
    if (at != std::string::npos)
      authority = authority.substr(at + 1);
    t.host = lower(authority);
    t.port = 22;
    if (t.host.empty())
      return bad("no host");
    return t;
  }
  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos)
      return bad("unterminated IPv6 address");
    t.host = authority.substr(1, close - 1);
    auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return bad("invalid port");
      port_text = rest.substr(1);
    }
  } else {
    auto colon = authority.rfind(':');
    t.host = authority.substr(0, colon);
    if (colon != std::string::npos)
      port_text = authority.substr(colon + 1);
  }
  t.host = lower(t.host);
  if (t.host.empty())
    return bad("no host");
  if (!port_text.empty()) {
    if (port_text.size() > 5
        || !std::all_of(port_text.begin(), port_text.end(),
                        [](char c) { return c >= '0' && c <= '9'; }))
      return bad("invalid port");
    t.port = std::stoi(port_text);
    if (t.port < 1 || t.port > 65535)
      return bad("invalid port");
  } else if (t.scheme == "https") {
    t.port = 443;
  } else if (t.scheme == "http") {
    t.port = 80;
  } else if (t.scheme == "ssh" || t.scheme == "git+ssh" || t.scheme == "ssh+git") {
    t.port = 22;
  } else if (t.scheme == "git") {
    t.port = 9418;
  }
  return t;
}

caf::error check_target_host(const std::string& field, const std::string& host,
                             bool allow_private) {
  if (allow_private)
    return {};
  auto hint = "; targets on this machine or a private network need --allow-private-targets";
  if (is_local_hostname(host))
    return make_error(errc::invalid_argument,
                      field + ": host " + host + " names this machine" + hint);
  if (auto ip = parse_ip_literal(host)) {
    auto scope = scope_of(*ip);
    if (scope == address_scope::public_internet)
      return make_error(errc::invalid_argument,
                        field + ": host " + host
                          + " is an IP address; name the host by its DNS name");
    return make_error(errc::invalid_argument,
                      field + ": host " + host + " is " + describe(scope) + hint);
  }
  return {};
}

caf::error check_resolved_address(const std::string& field, const std::string& host,
                                  const ip_address& address, bool allow_private) {
  auto scope = scope_of(address);
  if (allow_private || scope == address_scope::public_internet)
    return {};
  return make_error(errc::invalid_argument,
                    field + ": host " + host + " resolves to " + address.to_string() + ", "
                      + describe(scope)
                      + "; targets on this machine or a private network need "
                        "--allow-private-targets");
}

} // namespace gilgal
