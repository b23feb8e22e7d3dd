// The admin API client and the process launcher against a real Caddy: load a
// configuration, switch a route's upstream in place, count requests in flight,
// Gilgal's own 404 and 503 pages, the pid file, and an admin API that is gone.
#define CAF_SUITE proxy.caddy_admin
#include <caf/test/unit_test.hpp>

#include <csignal>
#include <thread>

#include "protocol/error.hpp"
#include "proxy/caddy_config.hpp"
#include "proxy/caddy_process.hpp"
#include "tests/fixtures/caddy_instance.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;
using namespace gilgal::proxy;
using namespace gilgal::test;

namespace {

proxy_route route(std::string env, std::vector<std::string> hosts, std::string upstream) {
  return {std::move(env), std::move(hosts), std::move(upstream), {}};
}

proxy_options options_of(const caddy_instance& caddy) {
  proxy_options o;
  o.http_listen = "127.0.0.1:" + std::to_string(caddy.http_port());
  o.admin_listen = caddy.admin_address();
  o.storage_dir = caddy.dir() + "/storage";
  o.log_file = caddy.dir() + "/caddy.log";
  return o;
}

} // namespace

CAF_TEST(a loaded configuration routes hosts and one patch switches the upstream) {
  caddy_instance caddy;
  text_backend one{"version one"};
  text_backend two{"version two"};
  auto api = caddy.admin();
  auto loaded = api.load(caddy_config(options_of(caddy),
                                      {route("e1", {"shop.example.com"}, one.address()),
                                       route("e2", {"stopped.example.com"}, "")}));
  CAF_REQUIRE(loaded);
  auto a = get_with_host(caddy.http_port(), "shop.example.com");
  CAF_CHECK_EQUAL(a.status, 200);
  CAF_CHECK_EQUAL(a.body, "version one");

  proxy_route moved{"e1", {"shop.example.com"}, two.address(), {one.address()}};
  CAF_REQUIRE(api.switch_route(moved));
  // Only the live upstream gets requests; the replaced one is only counted.
  for (int i = 0; i < 20; ++i)
    CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "shop.example.com").body, "version two");
  CAF_CHECK_EQUAL(one.requests(), 1);
  // The configuration Caddy runs says so too.
  auto cfg = api.config();
  CAF_REQUIRE(cfg);
  auto routes = (*cfg)["apps"]["http"]["servers"]["gilgal"]["routes"];
  CAF_CHECK_EQUAL(routes[0]["handle"], route_handlers(moved));

  // Upstreams Caddy proxies to, with the requests in flight (none now).
  auto inflight = api.upstream_requests();
  CAF_REQUIRE(inflight);
  CAF_CHECK(inflight->count(two.address()) == 1);
  CAF_CHECK_EQUAL(inflight->at(two.address()), 0);

  auto stopped = get_with_host(caddy.http_port(), "stopped.example.com");
  CAF_CHECK_EQUAL(stopped.status, 503);
  CAF_CHECK_EQUAL(stopped.body, unavailable_page());
  auto unknown = get_with_host(caddy.http_port(), "nobody.example.com");
  CAF_CHECK_EQUAL(unknown.status, 404);
  CAF_CHECK_EQUAL(unknown.body, not_found_page());
}

CAF_TEST(a replaced upstream kept in the list shows its requests in flight) {
  caddy_instance caddy;
  text_backend slow{"slow", std::chrono::milliseconds{1500}};
  text_backend fast{"fast"};
  auto api = caddy.admin();
  CAF_REQUIRE(api.load(caddy_config(options_of(caddy), {route("e1", {"a.example.com"}, slow.address())})));
  http_answer in_flight;
  std::thread visitor{[&] { in_flight = get_with_host(caddy.http_port(), "a.example.com"); }};
  CAF_REQUIRE(eventually([&] {
    auto n = api.upstream_requests();
    return n && n->count(slow.address()) && n->at(slow.address()) == 1;
  }));
  CAF_REQUIRE(api.switch_route({"e1", {"a.example.com"}, fast.address(), {slow.address()}}));
  // After the switch the old request is still counted, new ones go to "fast".
  auto counted = api.upstream_requests();
  CAF_REQUIRE(counted);
  CAF_CHECK_EQUAL(counted->at(slow.address()), 1);
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "a.example.com").body, "fast");
  visitor.join();
  CAF_CHECK_EQUAL(in_flight.status, 200);
  CAF_CHECK_EQUAL(in_flight.body, "slow");
  auto after = api.upstream_requests();
  CAF_REQUIRE(after);
  CAF_CHECK_EQUAL(after->at(slow.address()), 0);
}

CAF_TEST(switching a route caddy does not have is not_found) {
  caddy_instance caddy;
  auto api = caddy.admin();
  CAF_REQUIRE(api.load(caddy_config(options_of(caddy), {})));
  auto r = api.switch_route({"missing", {"a.example.com"}, "127.0.0.1:1", {}});
  CAF_REQUIRE(!r);
  CAF_CHECK(code_of(r.error()) == errc::not_found);
}

CAF_TEST(a configuration caddy refuses is a conflict and the old one stays) {
  caddy_instance caddy;
  text_backend one{"version one"};
  auto api = caddy.admin();
  CAF_REQUIRE(api.load(caddy_config(options_of(caddy), {route("e1", {"a.example.com"}, one.address())})));
  auto bad = caddy_config(options_of(caddy), {});
  bad["apps"]["http"]["servers"]["gilgal"]["routes"][0]["handle"][0]["handler"] = "no_such_handler";
  auto r = api.load(bad);
  CAF_REQUIRE(!r);
  CAF_CHECK(code_of(r.error()) == errc::conflict);
  CAF_CHECK_EQUAL(get_with_host(caddy.http_port(), "a.example.com").body, "version one");
}

CAF_TEST(the pid file names the running caddy until it is killed) {
  caddy_instance caddy;
  CAF_REQUIRE(eventually([&] { return running_caddy(caddy.pid_file()) == caddy.pid(); }));
  CAF_CHECK(process_alive(caddy.pid()));
  auto api = caddy.admin();
  CAF_CHECK(api.answers());
  caddy.kill_hard();
  CAF_CHECK_EQUAL(running_caddy(caddy.pid_file()), 0);
  CAF_CHECK(!api.answers());
  auto r = api.config();
  CAF_REQUIRE(!r);
  CAF_CHECK(code_of(r.error()) == errc::unavailable);
}

CAF_TEST(bad addresses and a missing binary are clear errors) {
  caddy_admin nowhere{"/not/a/form"};
  auto r = nowhere.config();
  CAF_REQUIRE(!r);
  CAF_CHECK(code_of(r.error()) == errc::invalid_argument);
  caddy_launch launch;
  launch.binary = "/nonexistent/caddy";
  auto pid = start_caddy(launch);
  CAF_REQUIRE(!pid);
  CAF_CHECK(code_of(pid.error()) == errc::not_found);
  CAF_CHECK_EQUAL(running_caddy("/nonexistent/pid"), 0);
}
