#include "proxy/caddy_admin.hpp"

#include <memory>
#include <mutex>

#include <curl/curl.h>

#include "protocol/error.hpp"
#include "proxy/caddy_config.hpp"

namespace gilgal::proxy {

namespace {

constexpr size_t max_reply_bytes = size_t{16} << 20;

size_t on_write(char* data, size_t size, size_t n, void* ud) {
  auto* body = static_cast<std::string*>(ud);
  if (body->size() < max_reply_bytes)
    body->append(data, size * n);
  return size * n;
}

struct easy_deleter {
  void operator()(CURL* e) const { curl_easy_cleanup(e); }
};

struct slist_deleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

/// Caddy's error replies are {"error":"..."}; anything else is shown as it is.
std::string caddy_error_text(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string())
    return j["error"].get<std::string>();
  return body.substr(0, 300);
}

} // namespace

caddy_admin::caddy_admin(std::string address, std::chrono::milliseconds timeout)
  : address_(std::move(address)), timeout_(timeout) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_ALL); });
  const std::string unix_prefix = "unix/";
  if (address_.compare(0, unix_prefix.size(), unix_prefix) == 0) {
    socket_path_ = address_.substr(unix_prefix.size()); // "unix//run/x" -> "/run/x"
    if (!socket_path_.empty())
      base_url_ = "http://localhost";
  } else if (!address_.empty() && address_.find('/') == std::string::npos
             && address_.find(':') != std::string::npos) {
    base_url_ = "http://" + address_;
  }
}

caf::expected<caddy_admin::reply> caddy_admin::perform(const std::string& method,
                                                       const std::string& path,
                                                       const std::string& body) {
  if (base_url_.empty())
    return make_error(errc::invalid_argument,
                      "the Caddy admin address must be unix//PATH or HOST:PORT");
  std::unique_ptr<CURL, easy_deleter> easy{curl_easy_init()};
  if (!easy)
    return make_error(errc::internal, "curl initialisation failed");
  auto* e = easy.get();
  reply out;
  auto url = base_url_ + path;
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  if (!socket_path_.empty())
    curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, socket_path_.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &out.body);
  std::unique_ptr<curl_slist, slist_deleter> headers;
  auto add = [&](const char* h) {
    if (auto* l = curl_slist_append(headers.get(), h)) {
      (void) headers.release();
      headers.reset(l);
    }
  };
  // Caddy's admin API on a unix socket accepts only an empty Host header
  // ("Host;" makes curl send one); on TCP the real host is right.
  if (!socket_path_.empty())
    add("Host;");
  if (!body.empty() || method == "POST" || method == "PATCH") {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    add("Content-Type: application/json");
    add("Expect:");
  }
  if (method != "GET" && method != "POST")
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
  auto rc = curl_easy_perform(e);
  if (rc != CURLE_OK)
    return make_error(errc::unavailable, "Caddy's admin API at " + address_
                                           + " does not answer: " + curl_easy_strerror(rc));
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

bool caddy_admin::answers() {
  // Smaller than the configuration (the router asks twice a second), and
  // answered by a Caddy that runs none.
  auto r = perform("GET", "/reverse_proxy/upstreams", "");
  return r && r->status == 200;
}

caf::expected<nlohmann::json> caddy_admin::config() {
  auto r = perform("GET", "/config/", "");
  if (!r)
    return std::move(r.error());
  if (r->status != 200)
    return make_error(errc::conflict, "Caddy: " + caddy_error_text(r->body));
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded())
    return make_error(errc::internal, "Caddy answered a configuration that is not JSON");
  return j;
}

caf::expected<void> caddy_admin::load(const nlohmann::json& config) {
  auto r = perform("POST", "/load", config.dump());
  if (!r)
    return std::move(r.error());
  if (r->status != 200)
    return make_error(errc::conflict, "Caddy refused the configuration: "
                                        + caddy_error_text(r->body));
  return caf::unit;
}

caf::expected<void> caddy_admin::switch_route(const proxy_route& route) {
  auto id = route_id(route.environment_id);
  auto r = perform("PATCH", "/id/" + id + "/handle", route_handlers(route).dump());
  if (!r)
    return std::move(r.error());
  if (r->status == 404)
    return make_error(errc::not_found, "Caddy has no route " + id);
  if (r->status != 200)
    return make_error(errc::conflict, "Caddy refused the switch of " + id + ": "
                                        + caddy_error_text(r->body));
  return caf::unit;
}

caf::expected<std::map<std::string, int64_t>> caddy_admin::upstream_requests() {
  auto r = perform("GET", "/reverse_proxy/upstreams", "");
  if (!r)
    return std::move(r.error());
  if (r->status != 200)
    return make_error(errc::conflict, "Caddy: " + caddy_error_text(r->body));
  std::map<std::string, int64_t> out;
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_array())
    for (auto& u : j)
      if (u.is_object() && u.contains("address") && u["address"].is_string())
        out[u["address"].get<std::string>()] =
          u.contains("num_requests") && u["num_requests"].is_number_integer()
            ? u["num_requests"].get<int64_t>()
            : 0;
  return out;
}

} // namespace gilgal::proxy
