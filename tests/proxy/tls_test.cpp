// The proxy with TLS from Caddy's local CA (--proxy-tls internal), no Docker
// needed: HTTPS with SNI answers for an environment's host (Gilgal's 503 page
// while nothing is deployed) with a certificate of that host signed by the
// local CA, plain HTTP redirects to HTTPS, and --api-domain reaches the API.
#define CAF_SUITE proxy.tls
#include <caf/test/unit_test.hpp>

#include <curl/curl.h>

#include "proxy/caddy_config.hpp"
#include "tests/fixtures/caddy_instance.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/http/api_support.hpp"

using namespace gilgal;
using namespace gilgal::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct https_answer {
  long status = 0;
  std::string body;
  std::string location;
  std::string error;
};

size_t collect(char* data, size_t size, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(data, size * n);
  return size * n;
}

size_t header_line(char* data, size_t size, size_t n, void* ud) {
  std::string line{data, size * n};
  if (line.rfind("location:", 0) == 0 || line.rfind("Location:", 0) == 0) {
    auto v = line.substr(9);
    while (!v.empty() && (v.front() == ' '))
      v.erase(0, 1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n'))
      v.pop_back();
    *static_cast<std::string*>(ud) = v;
  }
  return size * n;
}

/// GET SCHEME://HOST:PORT/PATH where HOST resolves to 127.0.0.1 (so curl sends
/// HOST as SNI and Host header); TLS verified against `ca_file`.
https_answer fetch(const std::string& scheme, const std::string& host, int port,
                   const std::string& path, const std::string& ca_file) {
  https_answer out;
  CURL* e = curl_easy_init();
  auto url = scheme + "://" + host + ":" + std::to_string(port) + path;
  auto resolve_entry = host + ":" + std::to_string(port) + ":127.0.0.1";
  curl_slist* resolve = curl_slist_append(nullptr, resolve_entry.c_str());
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_RESOLVE, resolve);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
  if (!ca_file.empty())
    curl_easy_setopt(e, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_line);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &out.location);
  auto rc = curl_easy_perform(e);
  if (rc == CURLE_OK)
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out.status);
  else
    out.error = curl_easy_strerror(rc);
  curl_slist_free_all(resolve);
  curl_easy_cleanup(e);
  return out;
}

} // namespace

CAF_TEST(internal tls serves hosts by sni and redirects http) {
  int http_port = free_port();
  int https_port = free_port();
  server_options opts;
  opts.extra_args = {"--proxy-listen",       "127.0.0.1:" + std::to_string(http_port),
                     "--proxy-https-listen", "127.0.0.1:" + std::to_string(https_port),
                     "--proxy-tls",          "internal",
                     "--api-domain",         "api.gilgal.test"};
  gilgal_server srv{opts};
  auto cli = srv.client();
  auto project = make_project(*cli, srv.token(), "shop");
  auto env = call(*cli, "POST", "/api/projects/" + project + "/environments", srv.token(),
                  json{{"name", "production"}, {"type", "production"}});
  CAF_REQUIRE_EQUAL(env.status, 201);
  CAF_CHECK_EQUAL(env.body["url"],
                  "https://production-shop.localhost:" + std::to_string(https_port));
  auto ca = srv.data_dir() + "/caddy/storage/pki/authorities/local/root.crt";
  const std::string host = "production-shop.localhost";
  // The certificate is issued in the background: wait for the first handshake.
  https_answer page;
  CAF_CHECK(eventually([&] {
    page = fetch("https", host, https_port, "/", ca);
    return page.status != 0;
  }, 20s));
  CAF_MESSAGE("first https answer: " << page.status << " " << page.error);
  CAF_CHECK_EQUAL(page.status, 503); // nothing deployed yet: Gilgal's page, over TLS
  CAF_CHECK_EQUAL(page.body, proxy::unavailable_page());
  // Without the local CA the certificate is not trusted (it is not a public one).
  auto untrusted = fetch("https", host, https_port, "/", "/dev/null");
  CAF_CHECK_EQUAL(untrusted.status, 0);
  // Plain HTTP: a permanent redirect to the same host and path over HTTPS.
  auto redirect = fetch("http", host, http_port, "/some/path?q=1", "");
  CAF_CHECK_EQUAL(redirect.status, 308);
  CAF_CHECK_EQUAL(redirect.location,
                  "https://" + host + ":" + std::to_string(https_port) + "/some/path?q=1");
  // The API behind the same proxy.
  https_answer api;
  CAF_CHECK(eventually([&] {
    api = fetch("https", "api.gilgal.test", https_port, "/healthz", ca);
    return api.status == 200;
  }, 20s));
  CAF_CHECK_EQUAL(api.status, 200);
  // The API's host cannot be claimed by an environment.
  auto clash = call(*cli, "POST", "/api/projects/" + project + "/environments", srv.token(),
                    json{{"name", "web"}, {"type", "production"}, {"domain", "api.gilgal.test"}});
  CAF_CHECK_EQUAL(clash.status, 409);
}
