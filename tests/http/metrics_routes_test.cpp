// Who may read GET /metrics: the rule alone, then a real `gilgal serve` with
// and without --metrics-token (tests listen on loopback only; the non-loopback
// case is covered by the rule and the address classification).
#define CAF_SUITE http.metrics_routes
#include <caf/test/unit_test.hpp>

#include "http/http_edge.hpp"
#include "http/metrics_routes.hpp"
#include "protocol/error.hpp"
#include "tests/http/api_support.hpp"

using namespace gilgal;
using namespace gilgal::test;

namespace {

const std::string metrics_token = "m3trics-t0ken-for-tests";

errc denial(bool loopback_only, const std::string& expected, const std::string& header) {
  auto err = check_metrics_access(loopback_only, expected, header);
  return err ? code_of(err) : errc{};
}

} // namespace

CAF_TEST(loopback addresses are told apart from the others) {
  for (auto host : {"127.0.0.1", "127.1.2.3", "::1", "localhost"})
    CAF_CHECK(is_loopback_host(host));
  for (auto host : {"0.0.0.0", "", "::", "10.0.0.1", "192.168.1.1", "128.0.0.1", "example.com",
                    "127.0.0.1.example.com"})
    CAF_CHECK(!is_loopback_host(host));
}

CAF_TEST(without a metrics token only a loopback api serves metrics) {
  CAF_CHECK(!check_metrics_access(true, "", ""));
  auto err = check_metrics_access(false, "", "");
  CAF_REQUIRE(err);
  CAF_CHECK_EQUAL(code_of(err), errc::unauthorized);
  CAF_CHECK(message_of(err).find("--metrics-token") != std::string::npos);
  // A user's API token does not open it either.
  CAF_CHECK_EQUAL(denial(false, "", "Bearer glg_0123"), errc::unauthorized);
}

CAF_TEST(with a metrics token it is required on every address) {
  for (bool loopback : {true, false}) {
    CAF_CHECK(!check_metrics_access(loopback, metrics_token, "Bearer " + metrics_token));
    for (auto header : {std::string{}, "Bearer " + metrics_token + "x", "Bearer " + metrics_token.substr(1),
                        "Basic " + metrics_token, metrics_token})
      CAF_CHECK_EQUAL(denial(loopback, metrics_token, header), errc::unauthorized);
  }
}

CAF_TEST(a served metrics endpoint honours the token) {
  {
    gilgal_server open_srv; // loopback, no token: as before
    auto cli = open_srv.client();
    auto r = cli->Get("/metrics");
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(r->status, 200);
  }
  server_options o;
  o.env["GILGAL_METRICS_TOKEN"] = metrics_token;
  gilgal_server srv{o};
  auto cli = srv.client();
  auto none = cli->Get("/metrics");
  CAF_REQUIRE(none);
  CAF_CHECK_EQUAL(none->status, 401);
  CAF_CHECK_EQUAL(none->get_header_value("WWW-Authenticate"), "Bearer");
  auto user_token = cli->Get("/metrics", gilgal_server::bearer(srv.token()));
  CAF_REQUIRE(user_token);
  CAF_CHECK_EQUAL(user_token->status, 401);
  auto right = cli->Get("/metrics", gilgal_server::bearer(metrics_token));
  CAF_REQUIRE(right);
  CAF_CHECK_EQUAL(right->status, 200);
  CAF_CHECK(right->body.find("# TYPE") != std::string::npos);
  // /healthz stays open; the token never reaches the log.
  auto health = cli->Get("/healthz");
  CAF_REQUIRE(health);
  CAF_CHECK_EQUAL(health->status, 200);
  CAF_CHECK(srv.log().find(metrics_token) == std::string::npos);
}
