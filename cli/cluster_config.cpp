#include "cli/cluster_config.hpp"

#include <cstdlib>
#include <fstream>

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

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
