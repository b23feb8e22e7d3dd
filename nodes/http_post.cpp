#include "nodes/http_post.hpp"

#include <memory>

#include <curl/curl.h>

#include "protocol/error.hpp"

namespace gilgal {

namespace {

/// Reads (and drops) at most 64 KiB of the answer: only its status matters.
size_t discard(char*, size_t size, size_t count, void* seen) {
  auto& total = *static_cast<size_t*>(seen);
  total += size * count;
  return total > 64 * 1024 ? 0 : size * count;
}

struct curl_list_deleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct curl_easy_deleter {
  void operator()(CURL* e) const { curl_easy_cleanup(e); }
};

} // namespace

caf::expected<long> http_post(const http_post_request& req) {
  std::unique_ptr<CURL, curl_easy_deleter> e{curl_easy_init()};
  if (!e)
    return make_error(errc::internal, "cannot initialise libcurl");
  std::unique_ptr<curl_slist, curl_list_deleter> headers;
  for (auto& h : req.headers)
    headers.reset(curl_slist_append(headers.release(), h.c_str()));
  std::unique_ptr<curl_slist, curl_list_deleter> resolve;
  for (auto& r : req.pinned)
    resolve.reset(curl_slist_append(resolve.release(), r.c_str()));
  size_t seen = 0;
  auto* c = e.get();
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  if (resolve)
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<int64_t>(req.timeout.count(), 5000)));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &seen);
  // No proxy from the server's environment: the target is the one checked.
  curl_easy_setopt(c, CURLOPT_PROXY, "");
  auto rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && status > 0))
    return make_error(errc::unavailable, curl_easy_strerror(rc));
  return status;
}

} // namespace gilgal
