// The pure parts of the proxy: host names of environments and the Caddy
// configuration made of routes.
#define CAF_SUITE proxy.caddy_config
#include <caf/test/unit_test.hpp>

#include "protocol/error.hpp"
#include "proxy/app_hosts.hpp"
#include "proxy/caddy_config.hpp"

using namespace gilgal;
using namespace gilgal::proxy;
using nlohmann::json;

namespace {

proxy_route route(std::string env, std::vector<std::string> hosts, std::string upstream) {
  return {std::move(env), std::move(hosts), std::move(upstream), {}};
}

proxy_options plain() {
  proxy_options o;
  o.http_listen = "127.0.0.1:8000";
  o.admin_listen = "unix//tmp/x/admin.sock";
  o.storage_dir = "/tmp/x/storage";
  o.log_file = "/tmp/x/caddy.log";
  return o;
}

const json& route_with_id(const json& routes, const std::string& id) {
  for (auto& r : routes)
    if (r.value("@id", "") == id)
      return r;
  throw std::runtime_error("no route " + id);
}

} // namespace

CAF_TEST(host labels are DNS labels made of names) {
  CAF_CHECK_EQUAL(host_label("Production"), "production");
  CAF_CHECK_EQUAL(host_label("My Shop_2.0"), "my-shop-2-0");
  CAF_CHECK_EQUAL(host_label("--a--b--"), "a-b");
  CAF_CHECK_EQUAL(host_label("äöü"), "app");
  CAF_CHECK_EQUAL(host_label(std::string(80, 'x')).size(), 40u);
  CAF_CHECK_EQUAL(generated_host("production", "Shop", "localhost"), "production-shop.localhost");
  CAF_CHECK_EQUAL(generated_host("staging", "shop", "Apps.Example.com"),
                  "staging-shop.apps.example.com");
}

CAF_TEST(assign_hosts gives a clashing generated host to the older environment) {
  std::vector<host_claim> claims = {
    {"11111111-aaaa", "production", "shop", "", {}},
    {"22222222-bbbb", "Production", "Shop", "", {}},
    {"33333333-cccc", "production", "shop", "Shop.Example.com", {"www.shop.example.com"}},
  };
  auto hosts = assign_hosts(claims, "localhost");
  CAF_REQUIRE_EQUAL(hosts.size(), 3u);
  CAF_CHECK_EQUAL(hosts[0], std::vector<std::string>{"production-shop.localhost"});
  CAF_CHECK_EQUAL(hosts[1], std::vector<std::string>{"production-shop-22222222.localhost"});
  CAF_CHECK_EQUAL(hosts[2],
                  (std::vector<std::string>{"shop.example.com", "www.shop.example.com"}));
  // A generated host someone claimed as a domain is not given again.
  claims = {{"44444444-dddd", "staging", "shop", "", {}},
            {"55555555-eeee", "web", "blog", "staging-shop.localhost", {}}};
  hosts = assign_hosts(claims, "localhost");
  CAF_CHECK_EQUAL(hosts[0], std::vector<std::string>{"staging-shop-44444444.localhost"});
  CAF_CHECK_EQUAL(hosts[1], std::vector<std::string>{"staging-shop.localhost"});
}

CAF_TEST(tls modes parse) {
  CAF_CHECK(*parse_tls_mode("off") == tls_mode::off);
  CAF_CHECK(*parse_tls_mode("internal") == tls_mode::internal);
  CAF_CHECK(*parse_tls_mode("acme") == tls_mode::acme);
  auto bad = parse_tls_mode("on");
  CAF_REQUIRE(!bad);
  CAF_CHECK(code_of(bad.error()) == errc::invalid_argument);
}

CAF_TEST(without tls one server routes hosts to upstreams and the rest to 404) {
  auto cfg = caddy_config(plain(), {route("e1", {"shop.example.com", "www.shop.example.com"},
                                          "127.0.0.1:20345"),
                                    route("e2", {"stopped.example.com"}, "")});
  CAF_CHECK_EQUAL(cfg["admin"]["listen"], "unix//tmp/x/admin.sock");
  CAF_CHECK_EQUAL(cfg["admin"]["config"]["persist"], false);
  CAF_CHECK_EQUAL(cfg["storage"]["root"], "/tmp/x/storage");
  CAF_CHECK_EQUAL(cfg["logging"]["logs"]["default"]["writer"]["filename"], "/tmp/x/caddy.log");
  auto& servers = cfg["apps"]["http"]["servers"];
  CAF_REQUIRE_EQUAL(servers.size(), 1u);
  auto& s = servers["gilgal"];
  CAF_CHECK_EQUAL(s["listen"], json::array({"127.0.0.1:8000"}));
  CAF_CHECK_EQUAL(s["automatic_https"]["disable"], true);
  auto& routes = s["routes"];
  CAF_REQUIRE_EQUAL(routes.size(), 3u);
  auto& live = route_with_id(routes, route_id("e1"));
  CAF_CHECK_EQUAL(live["match"][0]["host"],
                  json::array({"shop.example.com", "www.shop.example.com"}));
  CAF_CHECK_EQUAL(live["handle"][0]["handler"], "reverse_proxy");
  CAF_CHECK_EQUAL(live["handle"][0]["upstreams"], upstreams_json({"127.0.0.1:20345"}));
  CAF_CHECK_EQUAL(live["terminal"], true);
  auto& stopped = route_with_id(routes, route_id("e2"));
  CAF_CHECK_EQUAL(stopped["handle"][0]["handler"], "static_response");
  CAF_CHECK_EQUAL(stopped["handle"][0]["status_code"], 503);
  CAF_CHECK_EQUAL(stopped["handle"][0]["body"], unavailable_page());
  // The last route has no matcher: every other host gets Gilgal's 404 page.
  CAF_CHECK(!routes.back().contains("match"));
  CAF_CHECK_EQUAL(routes.back()["handle"][0]["status_code"], 404);
  CAF_CHECK_EQUAL(routes.back()["handle"][0]["body"], not_found_page());
  CAF_CHECK(!cfg["apps"].contains("tls"));
}

CAF_TEST(the api domain routes to the http edge with a body limit) {
  auto opts = plain();
  opts.api_domain = "api.example.com";
  opts.api_upstream = "127.0.0.1:8080";
  opts.api_max_body_bytes = 4096;
  auto cfg = caddy_config(opts, {});
  auto& routes = cfg["apps"]["http"]["servers"]["gilgal"]["routes"];
  auto& api = route_with_id(routes, "gilgal-api");
  CAF_CHECK_EQUAL(api["match"][0]["host"], json::array({"api.example.com"}));
  CAF_CHECK_EQUAL(api["handle"][0]["handler"], "request_body");
  CAF_CHECK_EQUAL(api["handle"][0]["max_size"], 4096);
  CAF_CHECK_EQUAL(api["handle"][1]["upstreams"], upstreams_json({"127.0.0.1:8080"}));
}

CAF_TEST(with tls the http server redirects to https) {
  auto opts = plain();
  opts.tls = tls_mode::internal;
  opts.https_listen = "127.0.0.1:8443";
  auto cfg = caddy_config(opts, {route("e1", {"shop.example.com"}, "127.0.0.1:20345")});
  auto& http = cfg["apps"]["http"];
  auto& s = http["servers"]["gilgal"];
  CAF_CHECK_EQUAL(s["listen"], json::array({"127.0.0.1:8443"}));
  CAF_CHECK_EQUAL(s["automatic_https"]["disable_redirects"], true);
  CAF_CHECK_EQUAL(route_with_id(s["routes"], route_id("e1"))["handle"][0]["handler"],
                  "reverse_proxy");
  auto& r = http["servers"]["gilgal-redirect"];
  CAF_CHECK_EQUAL(r["listen"], json::array({"127.0.0.1:8000"}));
  auto& redirect = r["routes"][0]["handle"][0];
  CAF_CHECK_EQUAL(redirect["status_code"], 308);
  CAF_CHECK_EQUAL(redirect["headers"]["Location"][0],
                  "https://{http.request.host}:8443{http.request.uri}");
  CAF_CHECK_EQUAL(http["https_port"], 8443);
  CAF_CHECK_EQUAL(http["http_port"], 8000);
  CAF_CHECK_EQUAL(cfg["apps"]["tls"]["automation"]["policies"][0]["issuers"][0]["module"],
                  "internal");
  CAF_CHECK_EQUAL(cfg["apps"]["pki"]["certificate_authorities"]["local"]["install_trust"],
                  false);

  opts.tls = tls_mode::acme;
  opts.acme_email = "ops@example.com";
  opts.https_listen = ":443";
  opts.http_listen = ":80";
  cfg = caddy_config(opts, {});
  auto& issuer = cfg["apps"]["tls"]["automation"]["policies"][0]["issuers"][0];
  CAF_CHECK_EQUAL(issuer["module"], "acme");
  CAF_CHECK_EQUAL(issuer["email"], "ops@example.com");
  CAF_CHECK_EQUAL(cfg["apps"]["http"]["servers"]["gilgal-redirect"]["routes"][0]["handle"][0]
                     ["headers"]["Location"][0],
                  "https://{http.request.host}{http.request.uri}");
}

CAF_TEST(port_of reads the port of listen addresses) {
  CAF_CHECK_EQUAL(port_of("127.0.0.1:8000"), 8000);
  CAF_CHECK_EQUAL(port_of(":443"), 443);
  CAF_CHECK_EQUAL(port_of("localhost"), 0);
}

CAF_TEST(replaced containers are counted by a second handler and get no requests) {
  proxy_route r{"e1", {"shop.example.com"}, "127.0.0.1:20346", {"127.0.0.1:20345"}};
  auto cfg = caddy_config(plain(), {r});
  auto& live = route_with_id(cfg["apps"]["http"]["servers"]["gilgal"]["routes"], route_id("e1"));
  CAF_CHECK_EQUAL(live["handle"], route_handlers(r));
  CAF_REQUIRE_EQUAL(live["handle"].size(), 2u);
  // The first handler proxies every request to the live container alone.
  CAF_CHECK_EQUAL(live["handle"][0]["upstreams"], upstreams_json({"127.0.0.1:20346"}));
  CAF_CHECK_EQUAL(live["handle"][1]["handler"], "reverse_proxy");
  CAF_CHECK_EQUAL(live["handle"][1]["upstreams"], upstreams_json({"127.0.0.1:20345"}));
  // Nothing counted: one handler.
  r.counted.clear();
  CAF_CHECK_EQUAL(route_handlers(r).size(), 1u);
}
