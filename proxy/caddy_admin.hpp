// A client of Caddy's admin API (JSON over HTTP), on a unix socket
// ("unix//PATH", Caddy's own notation) or a TCP address ("127.0.0.1:2019").
// Blocking: call it from a detached actor or a thread of its own.
//
// Errors: errc::unavailable when Caddy does not answer (no socket, refused,
// timed out), errc::conflict when Caddy refuses the request (the message is
// Caddy's error text), errc::invalid_argument for an address of no known form.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "proxy/caddy_config.hpp"

namespace gilgal::proxy {

class caddy_admin {
public:
  explicit caddy_admin(std::string address,
                       std::chrono::milliseconds timeout = std::chrono::seconds{10});

  const std::string& address() const { return address_; }

  /// The socket path of a "unix//PATH" address (empty for TCP addresses).
  const std::string& socket_path() const { return socket_path_; }

  /// True when Caddy's admin API answers (GET /reverse_proxy/upstreams).
  bool answers();

  /// The configuration Caddy runs (null when it runs none).
  caf::expected<nlohmann::json> config();

  /// Replaces the whole configuration (POST /load). Caddy applies it
  /// gracefully: open connections finish on the configuration they started on.
  caf::expected<void> load(const nlohmann::json& config);

  /// Replaces the handlers of `route`'s route (see route_handlers): one
  /// PATCH of /id/<route id>/handle, so one reload of Caddy's configuration.
  /// errc::not_found if Caddy has no such route.
  caf::expected<void> switch_route(const proxy_route& route);

  /// Requests in flight per upstream address (GET /reverse_proxy/upstreams).
  /// An address absent from the map has none.
  caf::expected<std::map<std::string, int64_t>> upstream_requests();

private:
  struct reply {
    long status = 0;
    std::string body;
  };
  caf::expected<reply> perform(const std::string& method, const std::string& path,
                               const std::string& body);

  std::string address_;
  std::string socket_path_;
  std::string base_url_;
  std::chrono::milliseconds timeout_;
};

} // namespace gilgal::proxy
