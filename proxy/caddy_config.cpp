#include "proxy/caddy_config.hpp"

#include <cstdlib>

#include "protocol/error.hpp"

namespace gilgal::proxy {

namespace {

using nlohmann::json;

std::string page(const std::string& title, const std::string& text) {
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title
         + "</title><style>body{font-family:sans-serif;margin:4em auto;max-width:40em;"
           "color:#333}</style></head>\n<body><h1>"
         + title + "</h1><p>" + text + "</p><p><small>Gilgal</small></p></body></html>\n";
}

json static_page(int status, const std::string& body) {
  return {{"handler", "static_response"},
          {"status_code", status},
          {"headers",
           {{"Content-Type", {"text/html; charset=utf-8"}}, {"Cache-Control", {"no-store"}}}},
          {"body", body}};
}

json reverse_proxy(const std::string& upstream) {
  // A container that refuses a connection (just restarted) is retried for a
  // moment instead of failing the visitor's request at once.
  return {{"handler", "reverse_proxy"},
          {"upstreams", upstreams_json({upstream})},
          {"load_balancing", {{"try_duration", "3s"}, {"try_interval", "100ms"}}}};
}

/// Never runs: it only holds `upstreams` in Caddy's upstream pool, which
/// counts the requests the previous configuration still sends them.
json request_counter(const std::vector<std::string>& upstreams) {
  return {{"handler", "reverse_proxy"}, {"upstreams", upstreams_json(upstreams)}};
}

json host_match(const std::vector<std::string>& hosts) {
  return json::array({{{"host", hosts}}});
}

json app_routes(const proxy_options& opts, const std::vector<proxy_route>& routes) {
  auto out = json::array();
  for (auto& r : routes) {
    if (r.hosts.empty())
      continue;
    out.push_back({{"@id", route_id(r.environment_id)},
                   {"match", host_match(r.hosts)},
                   {"handle", route_handlers(r)},
                   {"terminal", true}});
  }
  if (!opts.api_domain.empty() && !opts.api_upstream.empty()) {
    out.push_back({{"@id", "gilgal-api"},
                   {"match", host_match({opts.api_domain})},
                   {"handle",
                    json::array({{{"handler", "request_body"},
                                  {"max_size", opts.api_max_body_bytes}},
                                 {{"handler", "reverse_proxy"},
                                  {"upstreams", upstreams_json({opts.api_upstream})},
                                  {"flush_interval", -1}}})},
                   {"terminal", true}});
  }
  out.push_back({{"@id", "gilgal-not-found"},
                 {"handle", json::array({static_page(404, not_found_page())})}});
  return out;
}

json server(const std::string& listen, json routes) {
  // Limits on what a visitor may send: header size and slow clients.
  return {{"listen", json::array({listen})},
          {"routes", std::move(routes)},
          {"max_header_bytes", 64 * 1024},
          {"read_header_timeout", "10s"},
          {"idle_timeout", "2m"}};
}

} // namespace

caf::expected<tls_mode> parse_tls_mode(const std::string& text) {
  if (text == "off")
    return tls_mode::off;
  if (text == "internal")
    return tls_mode::internal;
  if (text == "acme")
    return tls_mode::acme;
  return make_error(errc::invalid_argument, "proxy TLS must be off, internal or acme");
}

const char* to_string(tls_mode mode) {
  switch (mode) {
    case tls_mode::off:
      return "off";
    case tls_mode::internal:
      return "internal";
    case tls_mode::acme:
      return "acme";
  }
  return "?";
}

std::string route_id(const std::string& environment_id) {
  return "gilgal-env-" + environment_id;
}

json upstreams_json(const std::vector<std::string>& upstreams) {
  auto out = json::array();
  for (auto& u : upstreams)
    out.push_back({{"dial", u}});
  return out;
}

json route_handlers(const proxy_route& r) {
  auto out = json::array({r.upstream.empty() ? static_page(503, unavailable_page())
                                             : reverse_proxy(r.upstream)});
  if (!r.counted.empty())
    out.push_back(request_counter(r.counted));
  return out;
}

int port_of(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos)
    return 0;
  return std::atoi(address.c_str() + colon + 1);
}

std::string not_found_page() {
  return page("404 Not Found", "No app is served at this address.");
}

std::string unavailable_page() {
  return page("503 Service Unavailable",
              "This app is not running right now. It is served again once it is deployed.");
}

json caddy_config(const proxy_options& opts, const std::vector<proxy_route>& routes) {
  json cfg;
  cfg["admin"] = {{"listen", opts.admin_listen}, {"config", {{"persist", false}}}};
  if (!opts.storage_dir.empty())
    cfg["storage"] = {{"module", "file_system"}, {"root", opts.storage_dir}};
  if (!opts.log_file.empty())
    cfg["logging"] = {
      {"logs",
       {{"default",
         {{"writer",
           {{"output", "file"}, {"filename", opts.log_file}, {"roll_size_mb", 10},
            {"roll_keep", 3}}},
          {"encoder", {{"format", "json"}}},
          {"level", "INFO"}}}}}};
  json http;
  if (opts.tls == tls_mode::off) {
    auto s = server(opts.http_listen, app_routes(opts, routes));
    s["automatic_https"] = {{"disable", true}};
    http["servers"]["gilgal"] = std::move(s);
  } else {
    auto https_port = port_of(opts.https_listen);
    auto s = server(opts.https_listen, app_routes(opts, routes));
    s["automatic_https"] = {{"disable_redirects", true}};
    s["tls_connection_policies"] = json::array({json::object()});
    http["servers"]["gilgal"] = std::move(s);
    if (!opts.http_listen.empty()) {
      auto location = std::string{"https://{http.request.host}"}
                      + (https_port == 443 ? "" : ":" + std::to_string(https_port))
                      + "{http.request.uri}";
      json redirect = {{"handler", "static_response"},
                       {"status_code", 308},
                       {"headers", {{"Location", {location}}}}};
      auto r = server(opts.http_listen, json::array({{{"handle", json::array({redirect})}}}));
      r["automatic_https"] = {{"disable", true}};
      http["servers"]["gilgal-redirect"] = std::move(r);
      http["http_port"] = port_of(opts.http_listen);
    }
    http["https_port"] = https_port;
    json issuer = opts.tls == tls_mode::internal
                    ? json{{"module", "internal"}}
                    : json{{"module", "acme"}, {"email", opts.acme_email}};
    if (opts.tls == tls_mode::acme && opts.acme_email.empty())
      issuer.erase("email");
    cfg["apps"]["tls"]["automation"]["policies"] = json::array({{{"issuers", json::array({issuer})}}});
    // The local CA is Gilgal's business: never touch the system's trust store.
    cfg["apps"]["pki"]["certificate_authorities"]["local"]["install_trust"] = false;
  }
  cfg["apps"]["http"] = std::move(http);
  return cfg;
}

} // namespace gilgal::proxy
