// Where a URL points, as far as the text tells: IP literals and their scope
// (loopback, link-local, private ranges, ...), names that always mean this
// machine, and the host of a URL. Pure functions, no DNS: resolving a name and
// checking every address it yields is nodes/host_resolver's job.
//
// Used wherever a tenant names something Gilgal (or its Docker daemon) will
// connect to: repository URLs, `ADD <url>` in a Dockerfile, notification URLs.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/optional.hpp>

namespace gilgal {

/// An IPv4 or IPv6 address.
struct ip_address {
  bool v6 = false;
  /// IPv4: bytes[0..3]; IPv6: all 16.
  std::array<uint8_t, 16> bytes{};

  /// Canonical text: "10.0.0.1", "fe80::1" (no brackets).
  std::string to_string() const;
};

/// What part of a network an address belongs to. Everything but
/// public_internet is refused as a target unless private targets are allowed.
enum class address_scope {
  public_internet,
  unspecified,     // 0.0.0.0/8, ::
  loopback,        // 127.0.0.0/8, ::1
  link_local,      // 169.254.0.0/16 (cloud metadata), fe80::/10
  private_network, // 10/8, 172.16/12, 192.168/16, 100.64/10 (CGNAT), fc00::/7, fec0::/10
  multicast,       // 224.0.0.0/4, ff00::/8
  reserved,        // 240.0.0.0/4, 255.255.255.255, 192.0.0.0/24, 198.18.0.0/15,
                   // documentation ranges, 100::/64, 2001:db8::/32
};

/// "a loopback address", "a link-local address", ... (for error messages).
const char* describe(address_scope scope);

/// Parses an IP literal as resolvers and URL parsers accept it: dotted IPv4
/// including the short, octal and hexadecimal forms inet_aton takes
/// ("127.1", "0x7f.0.0.1", "2130706433"), and IPv6 with or without brackets
/// (with an optional %zone). None for anything else (a host name).
caf::optional<ip_address> parse_ip_literal(std::string_view host);

/// The scope of an address. IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible,
/// NAT64 (64:ff9b::/96) and 6to4 (2002::/16) IPv6 addresses get the scope of
/// the IPv4 address they carry.
address_scope scope_of(const ip_address& address);

/// True for names that mean this machine whatever DNS says: "localhost",
/// "*.localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"
/// (case-insensitive, with or without a trailing dot).
bool is_local_hostname(std::string_view host);

/// scheme, host and port of a URL: "scheme://[user[:pass]@]host[:port][/...]"
/// (an IPv6 host in brackets) or git's scp-like "user@host:path".
struct url_target {
  std::string scheme; // lower case; "ssh" for the scp-like form
  std::string host;   // without brackets, lower case
  int port = 0;       // the explicit port, else the scheme's default (0 if unknown)
};

/// errc::invalid_argument when no host can be found.
caf::expected<url_target> parse_url_target(std::string_view url);

/// The check that needs no DNS: refuses a host that is an IP literal or a
/// local name (see above) unless `allow_private` is set. The message starts
/// with `field` and says why ("repositoryUrl: host 127.0.0.1 is a loopback
/// address; ..."). A public IP literal is refused too: a tenant names hosts,
/// and numeric forms are the usual way around name checks.
caf::error check_target_host(const std::string& field, const std::string& host,
                             bool allow_private);

/// Refuses `address` (which `host` resolved to) unless it is public or
/// `allow_private` is set: errc::invalid_argument naming field, host, address
/// and scope.
caf::error check_resolved_address(const std::string& field, const std::string& host,
                                  const ip_address& address, bool allow_private);

} // namespace gilgal
