#include "nodes/docker_client.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "nodes/docker_refs.hpp"

namespace gilgal {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_ALL); });
}

struct transfer_state {
  CURL* easy = nullptr;
  const docker_client::request* req = nullptr;
  docker_client::response* res = nullptr;
};

size_t on_write(char* data, size_t size, size_t n, void* ud) {
  auto* st = static_cast<transfer_state*>(ud);
  auto len = size * n;
  long status = 0;
  curl_easy_getinfo(st->easy, CURLINFO_RESPONSE_CODE, &status);
  if (st->req->on_chunk && status >= 200 && status < 300) {
    st->req->on_chunk(std::string_view{data, len});
  } else if (st->res->body.size() < (size_t{64} << 20)) {
    st->res->body.append(data, len);
  }
  return len;
}

struct easy_deleter {
  void operator()(CURL* e) const {
    curl_easy_cleanup(e);
  }
};

struct multi_deleter {
  void operator()(CURLM* m) const {
    curl_multi_cleanup(m);
  }
};

struct slist_deleter {
  void operator()(curl_slist* l) const {
    curl_slist_free_all(l);
  }
};

std::vector<int> parse_version(const std::string& v) {
  std::vector<int> parts;
  size_t pos = 0;
  while (pos <= v.size()) {
    auto dot = v.find('.', pos);
    auto piece = v.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    int x = 0;
    for (char c : piece)
      if (c >= '0' && c <= '9')
        x = x * 10 + (c - '0');
    parts.push_back(x);
    if (dot == std::string::npos)
      break;
    pos = dot + 1;
  }
  return parts;
}

} // namespace

int compare_api_versions(const std::string& a, const std::string& b) {
  auto x = parse_version(a);
  auto y = parse_version(b);
  auto n = std::max(x.size(), y.size());
  x.resize(n);
  y.resize(n);
  return x < y ? -1 : (y < x ? 1 : 0);
}

std::shared_ptr<docker_client::negotiated> docker_client::negotiation_of(const std::string& host) {
  static std::mutex mtx;
  static std::map<std::string, std::shared_ptr<negotiated>> by_host;
  std::lock_guard<std::mutex> guard{mtx};
  auto& n = by_host[host];
  if (!n)
    n = std::make_shared<negotiated>();
  return n;
}

docker_client::docker_client(std::string host)
  : host_(std::move(host)), negotiated_(negotiation_of(host_)) {
  global_init();
  const std::string unix_scheme = "unix://";
  const std::string tcp_scheme = "tcp://";
  if (host_.compare(0, unix_scheme.size(), unix_scheme) == 0) {
    socket_path_ = host_.substr(unix_scheme.size());
    if (!socket_path_.empty())
      base_url_ = "http://localhost";
  } else if (host_.compare(0, tcp_scheme.size(), tcp_scheme) == 0) {
    auto rest = host_.substr(tcp_scheme.size());
    if (!rest.empty())
      base_url_ = "http://" + rest;
  } else if (host_.compare(0, 7, "http://") == 0) {
    base_url_ = host_;
  }
  while (!base_url_.empty() && base_url_.back() == '/')
    base_url_.pop_back();
}

caf::expected<docker_client::response> docker_client::perform(const request& req) {
  if (base_url_.empty())
    return make_error(errc::invalid_argument,
                      "docker host must be unix:///path or tcp://host:port, got '" + host_
                        + "'");
  if (!is_plain_api_path(req.path))
    return make_error(errc::invalid_argument, "refusing a Docker API path with a '.' or '..' "
                                              "component, an escape, '#' or a control character");
  std::string url = base_url_;
  if (req.versioned) {
    auto prefix = api_prefix();
    if (!prefix)
      return std::move(prefix.error());
    url += *prefix;
  }
  url += req.path;
  std::unique_ptr<CURL, easy_deleter> easy{curl_easy_init()};
  std::unique_ptr<CURLM, multi_deleter> multi{curl_multi_init()};
  if (!easy || !multi)
    return make_error(errc::internal, "curl initialisation failed");
  response res;
  transfer_state st{easy.get(), &req, &res};
  std::unique_ptr<curl_slist, slist_deleter> headers;
  auto add_header = [&](const std::string& h) {
    auto* l = curl_slist_append(headers.get(), h.c_str());
    if (l) {
      (void) headers.release();
      headers.reset(l);
    }
  };
  for (const auto& h : req.headers)
    add_header(h);
  auto* e = easy.get();
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  if (!socket_path_.empty())
    curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, socket_path_.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &st);
  std::string method = req.method;
  if (method == "POST" || !req.body.empty()) {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    add_header("Content-Type: " + req.content_type);
    add_header("Expect:"); // no 100-continue round trip
  }
  if (method != "GET" && method != "POST")
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req.method);
  if (method == "HEAD")
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  if (headers)
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
  // The transfer runs in a multi handle so that an abort_signal can wake the
  // wait at once; removing the handle mid-transfer closes the connection.
  curl_multi_add_handle(multi.get(), e);
  int waker = -1;
  if (req.abort) {
    auto* m = multi.get();
    waker = req.abort->add_waker([m] { curl_multi_wakeup(m); });
  }
  auto deadline = std::chrono::steady_clock::now() + req.timeout;
  caf::error failure;
  CURLcode result = CURLE_OK;
  for (;;) {
    if (req.abort && req.abort->triggered()) {
      failure = make_error(errc::cancelled, "docker request aborted: " + std::string{req.method}
                                              + " " + req.path);
      break;
    }
    int running = 0;
    auto mc = curl_multi_perform(multi.get(), &running);
    if (mc != CURLM_OK) {
      failure = make_error(errc::internal, std::string{"curl: "} + curl_multi_strerror(mc));
      break;
    }
    if (running == 0) {
      int left = 0;
      while (auto* msg = curl_multi_info_read(multi.get(), &left))
        if (msg->msg == CURLMSG_DONE)
          result = msg->data.result;
      break;
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      failure = make_error(errc::timeout, "docker request timed out after "
                                            + std::to_string(req.timeout.count())
                                            + " ms: " + req.method + " " + req.path);
      break;
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    curl_multi_poll(multi.get(), nullptr, 0,
                    static_cast<int>(std::min<int64_t>(wait.count() + 1, 1000)), nullptr);
  }
  if (req.abort)
    req.abort->remove_waker(waker);
  curl_multi_remove_handle(multi.get(), e);
  if (failure)
    return failure;
  if (result != CURLE_OK) {
    std::string msg = curl_easy_strerror(result);
    if (result == CURLE_COULDNT_CONNECT || result == CURLE_COULDNT_RESOLVE_HOST
        || result == CURLE_OPERATION_TIMEDOUT || result == CURLE_GOT_NOTHING
        || result == CURLE_RECV_ERROR || result == CURLE_SEND_ERROR
        || result == CURLE_PARTIAL_FILE)
      return make_error(errc::unavailable, "cannot reach Docker at " + host_ + ": " + msg);
    return make_error(errc::internal, "docker request " + std::string{req.method} + " "
                                        + req.path + " failed: " + msg);
  }
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &res.status);
  return res;
}

caf::error docker_client::http_error(const response& res, errc server_error,
                                     const std::string& what) {
  std::string msg;
  auto j = nlohmann::json::parse(res.body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string())
    msg = j["message"].get<std::string>();
  else
    msg = res.body.substr(0, 500);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r'))
    msg.pop_back();
  auto text = what + ": " + (msg.empty() ? "HTTP " + std::to_string(res.status) : msg);
  switch (res.status) {
    case 400:
      return make_error(errc::invalid_argument, text);
    case 401:
    case 403:
      return make_error(errc::unauthorized, text);
    case 404:
      return make_error(errc::not_found, text);
    case 409:
      return make_error(errc::conflict, text);
    default:
      return make_error(res.status >= 500 ? server_error : errc::internal, text);
  }
}

std::string docker_client::escape(std::string_view value) {
  std::string out;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : value) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

std::string docker_client::label_filters(
  const std::vector<std::string>& labels,
  const std::vector<std::pair<std::string, std::string>>& extra) {
  nlohmann::json f = nlohmann::json::object();
  if (!labels.empty())
    f["label"] = labels;
  for (const auto& [k, v] : extra)
    f[k].push_back(v);
  return escape(f.dump());
}

caf::expected<docker_version> docker_client::version() {
  request req;
  req.path = "/version";
  req.versioned = false;
  req.timeout = std::chrono::seconds{10};
  auto res = perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status != 200)
    return http_error(*res, errc::unavailable, "docker version");
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (!j.is_object())
    return make_error(errc::unavailable, "docker version: unreadable answer");
  docker_version v;
  v.version = j.value("Version", "");
  v.api_version = j.value("ApiVersion", "");
  v.min_api_version = j.value("MinAPIVersion", "");
  if (v.api_version.empty())
    return make_error(errc::unavailable, "docker version: no ApiVersion in the answer");
  v.negotiated = compare_api_versions(v.api_version, max_api_version) < 0 ? v.api_version
                                                                          : max_api_version;
  std::lock_guard<std::mutex> guard{negotiated_->mtx};
  negotiated_->prefix = "/v" + v.negotiated;
  return v;
}

caf::expected<std::string> docker_client::api_prefix() {
  {
    std::lock_guard<std::mutex> guard{negotiated_->mtx};
    if (!negotiated_->prefix.empty())
      return negotiated_->prefix;
  }
  auto v = version();
  if (!v)
    return std::move(v.error());
  return "/v" + v->negotiated;
}

} // namespace gilgal
