#include "nodes/http_probe.hpp"

#include <algorithm>

#include <curl/curl.h>

namespace gilgal {

namespace {

size_t discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

} // namespace

std::chrono::milliseconds next_probe_pause(std::chrono::milliseconds previous,
                                           std::chrono::steady_clock::duration probing_for) {
  using std::chrono::milliseconds;
  auto ceiling = probing_for < std::chrono::seconds{5} ? milliseconds{50} : milliseconds{250};
  return std::max(first_probe_pause, std::min(ceiling, previous * 2));
}

long probe_http(const std::string& url, std::chrono::milliseconds timeout) {
  CURL* curl = curl_easy_init();
  if (!curl)
    return 0;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  return status;
}

} // namespace gilgal
