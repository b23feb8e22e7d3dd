// The operator console's HTTP transport: one request to the Gilgal API over
// libcurl, http:// or https:// (certificates checked against the system CA
// bundle, or only against the CA file given with --cacert). No redirects are
// followed, no shell or signal is involved (CURLOPT_NOSIGNAL).
//
// A transport failure (nothing listening, timeout, TLS refused) is
// errc::unavailable "cannot reach Gilgal at URL (why)"; any HTTP answer,
// whatever its status, is a reply.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "cli/console_options.hpp"

namespace gilgal::cli {

struct http_reply {
  long status = 0;
  std::string body; // the whole body; for a streamed 2xx answer, empty
};

struct http_call {
  std::string method = "GET";
  std::string path;                 // "/api/..." with its query; appended to the target's URL
  std::vector<std::string> headers; // "Name: value"
  std::string body;                 // sent when not empty (or when the method is POST/PATCH)
  /// Bound on the whole exchange (0: none).
  std::chrono::seconds timeout{60};
  /// A stream is abandoned when no byte arrives for this long (0: no bound).
  std::chrono::seconds idle_timeout{0};
  /// When set, the body of a 2xx answer goes here piece by piece instead of
  /// into http_reply::body; returning false ends the exchange early (and it
  /// still counts as a reply).
  std::function<bool(std::string_view)> on_data;
};

/// Performs `call` against `target` (its URL, CA file and bearer token).
caf::expected<http_reply> perform(const console_target& target, const http_call& call);

} // namespace gilgal::cli
