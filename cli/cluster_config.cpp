#include "cli/cluster_config.hpp"

#include <cstdlib>
#include <fstream>

#include <arpa/inet.h>

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include <spdlog/spdlog.h>

#include "protocol/error.hpp"

namespace gilgal::cli {

namespace {

caf::expected<void> readable(const std::string& what, const std::string& path) {
  std::ifstream in{path};
  if (!in)
    return make_error(errc::invalid_argument, "cannot read the " + what + " " + path);
  return caf::unit;
}

} // namespace

caf::expected<void> configure_cluster(caf::actor_system_config& cfg, const settings& s) {
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.heartbeat-interval", caf::timespan{cluster_heartbeat_interval});
  cfg.set("middleman.connection-timeout", caf::timespan{cluster_connection_timeout});
  if (s.tls_enabled()) {
    if (auto ok = readable("cluster certificate", s.tls_certificate); !ok)
      return ok;
    if (auto ok = readable("cluster key", s.tls_key); !ok)
      return ok;
    if (auto ok = readable("cluster CA file", s.tls_ca_file); !ok)
      return ok;
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = s.tls_certificate;
    cfg.openssl_key = s.tls_key;
    cfg.openssl_cafile = s.tls_ca_file;
  }
  return caf::unit;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost")
    return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

caf::expected<void> check_cluster_tls(const settings& s) {
  auto address = split_host_port(s.cluster_listen);
  if (!address)
    return make_error(errc::invalid_argument, "cluster_listen: " + message_of(address.error()));
  if (s.tls_enabled())
    return caf::unit;
  if (!is_loopback_host(address->first))
    return make_error(errc::invalid_argument,
                      "cluster_listen " + s.cluster_listen
                        + " is reachable from other machines: it requires mutual TLS "
                          "(--cluster-cert, --cluster-key and --cluster-ca: certificates "
                          "signed by the cluster's own CA)");
  spdlog::warn("cluster: listening on loopback without TLS; any local process can connect "
               "(use --cluster-cert, --cluster-key and --cluster-ca outside of tests)");
  return caf::unit;
}

caf::expected<std::pair<std::string, uint16_t>> split_host_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return make_error(errc::invalid_argument, "'" + text + "' is not HOST:PORT");
  auto host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  char* end = nullptr;
  auto port_text = text.substr(colon + 1);
  long port = std::strtol(port_text.c_str(), &end, 10);
  if (*end != '\0' || port < 0 || port > 65535)
    return make_error(errc::invalid_argument, "'" + text + "': the port must be 0..65535");
  return std::make_pair(host, static_cast<uint16_t>(port));
}

} // namespace gilgal::cli
