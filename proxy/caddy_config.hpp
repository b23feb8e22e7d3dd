// The pure function from Gilgal's routes to Caddy's JSON configuration (the
// body of Caddy's POST /load). Gilgal never templates a Caddyfile: this
// document is the whole configuration, so loading it replaces whatever Caddy
// served before.
//
// Layout: one server "gilgal" on the HTTP address (TLS off) or on the HTTPS
// address (TLS on; then a second server "gilgal-redirect" on the HTTP address
// answers every request with a 308 to https). Its routes, in order: one per
// environment (@id "gilgal-env-<environment id>", matched by host, proxying to
// the live container, or answering Gilgal's 503 page when none is live), the
// API's route (--api-domain), and last Gilgal's 404 page for any other host.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

namespace gilgal::proxy {

enum class tls_mode { off, internal, acme };

/// "off", "internal" or "acme"; errc::invalid_argument otherwise.
caf::expected<tls_mode> parse_tls_mode(const std::string& text);
const char* to_string(tls_mode mode);

/// One environment's route. Requests go to the live container only. Replaced
/// containers are listed in a second reverse_proxy handler of the route that
/// never runs (the first one answers every request and ends the chain): it
/// only keeps Caddy counting their requests in flight (GET
/// /reverse_proxy/upstreams), which tells when they are drained. So a switch
/// is one change of the route's handlers, and a drained container needs none.
struct proxy_route {
  std::string environment_id;
  std::vector<std::string> hosts;  // at least one
  std::string upstream;            // "host:port" of the live container; empty: 503 page
  std::vector<std::string> counted; // "host:port" of replaced containers (no requests)
};

struct proxy_options {
  std::string http_listen;        // "127.0.0.1:8000", ":80"
  std::string https_listen;       // with TLS on, e.g. ":443"
  tls_mode tls = tls_mode::off;
  std::string acme_email;         // acme: the account's contact (may be empty)
  std::string admin_listen;       // Caddy's admin address, "unix//PATH"
  std::string storage_dir;        // certificates and the local CA; empty: Caddy's default
  std::string log_file;           // Caddy's log; empty: leave Caddy's logging alone
  std::string api_domain;         // empty: the API is not served through Caddy
  std::string api_upstream;       // "host:port" of Gilgal's HTTP edge
  size_t api_max_body_bytes = 1 << 20;
};

/// The Caddy @id of an environment's route.
std::string route_id(const std::string& environment_id);

/// The value of a reverse_proxy handler's "upstreams".
nlohmann::json upstreams_json(const std::vector<std::string>& upstreams);

/// The value of an environment's route's "handle" (what PATCH
/// /id/<route id>/handle takes): the live container's proxy (or Gilgal's 503
/// page), then the handler that only counts the replaced containers' requests.
nlohmann::json route_handlers(const proxy_route& r);

/// The whole configuration.
nlohmann::json caddy_config(const proxy_options& opts, const std::vector<proxy_route>& routes);

/// Gilgal's own pages (HTML), served by Caddy.
std::string not_found_page();
std::string unavailable_page();

/// The port of "host:port" or ":port" (0 if there is none).
int port_of(const std::string& address);

} // namespace gilgal::proxy
