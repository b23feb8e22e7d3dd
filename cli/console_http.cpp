#include "cli/console_http.hpp"

#include <memory>
#include <mutex>

#include <curl/curl.h>

#include "protocol/error.hpp"

namespace gilgal::cli {

namespace {

constexpr long connect_timeout_s = 5;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_ALL); });
}

struct easy_deleter {
  void operator()(CURL* e) const { curl_easy_cleanup(e); }
};

struct slist_deleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct transfer {
  CURL* easy = nullptr;
  const http_call* call = nullptr;
  http_reply* reply = nullptr;
  bool stopped = false; // on_data asked to end the exchange
};

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<transfer*>(user);
  auto len = size * n;
  long status = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  if (t->call->on_data && status >= 200 && status < 300) {
    if (!t->call->on_data(std::string_view{data, len})) {
      t->stopped = true;
      return 0; // curl ends the transfer with CURLE_WRITE_ERROR
    }
    return len;
  }
  if (t->reply->body.size() < (size_t{16} << 20)) // an error page is short; bound it anyway
    t->reply->body.append(data, len);
  return len;
}

/// Why a transfer failed, for "cannot reach Gilgal at URL (why)".
std::string why_of(CURLcode code, const char* detail, const console_target& target) {
  std::string extra = detail && *detail ? std::string{": "} + detail : std::string{};
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      return "connection failed" + extra;
    case CURLE_COULDNT_RESOLVE_HOST:
      return "cannot resolve the host name" + extra;
    case CURLE_OPERATION_TIMEDOUT:
      return "no answer in time" + extra;
    case CURLE_PEER_FAILED_VERIFICATION:
      return "its TLS certificate is not trusted" + extra
             + (target.cacert.empty()
                  ? "; if it is signed by your own CA, pass --cacert FILE (or GILGAL_CACERT)"
                  : "; it is not signed by the CA in " + target.cacert);
    case CURLE_SSL_CACERT_BADFILE:
      return "cannot use the CA file " + target.cacert + extra;
    case CURLE_SSL_CONNECT_ERROR:
      return "TLS handshake failed" + extra + " (is it an https server?)";
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
      return "no answer (the connection was closed or the reply was not HTTP)";
    case CURLE_SEND_ERROR:
      return "the request could not be sent" + extra;
    default:
      return curl_easy_strerror(code) + extra;
  }
}

caf::error unreachable(const console_target& target, const std::string& why) {
  return make_error(errc::unavailable, "cannot reach Gilgal at " + target.url + " (" + why + ")");
}

} // namespace

caf::expected<http_reply> perform(const console_target& target, const http_call& call) {
  global_init();
  std::unique_ptr<CURL, easy_deleter> easy{curl_easy_init()};
  if (!easy)
    return make_error(errc::internal, "cannot initialise libcurl");
  CURL* e = easy.get();
  http_reply reply;
  transfer t{e, &call, &reply};
  char errbuf[CURL_ERROR_SIZE] = {0};
  auto url = target.url + call.path;
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(e, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, connect_timeout_s);
  if (call.timeout.count() > 0)
    curl_easy_setopt(e, CURLOPT_TIMEOUT, static_cast<long>(call.timeout.count()));
  if (call.idle_timeout.count() > 0) {
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>(call.idle_timeout.count()));
  }
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!target.cacert.empty())
    curl_easy_setopt(e, CURLOPT_CAINFO, target.cacert.c_str());
  curl_easy_setopt(e, CURLOPT_USERAGENT, "gilgal-console/0.2");
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  if (call.method == "GET")
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  else if (!call.body.empty() || call.method == "POST" || call.method == "PATCH") {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, call.body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  }
  std::unique_ptr<curl_slist, slist_deleter> headers;
  auto add_header = [&](const std::string& h) {
    headers.reset(curl_slist_append(headers.release(), h.c_str()));
  };
  add_header("Authorization: Bearer " + target.token);
  add_header("Expect:"); // no 100-continue round trip
  bool has_accept = false;
  for (auto& h : call.headers) {
    has_accept = has_accept || h.rfind("Accept:", 0) == 0;
    add_header(h);
  }
  if (!has_accept)
    add_header("Accept: application/json");
  if (!call.body.empty())
    add_header("Content-Type: application/json");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  auto rc = curl_easy_perform(e);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &reply.status);
  if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && t.stopped))
    return reply;
  return unreachable(target, why_of(rc, errbuf, target));
}

} // namespace gilgal::cli
