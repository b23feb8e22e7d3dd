// One HTTP GET used as a health check (libcurl, loopback or the bind address).
#pragma once

#include <chrono>
#include <string>

namespace gilgal {

/// The HTTP status of GET `url`, or 0 when nothing answered within `timeout`.
long probe_http(const std::string& url, std::chrono::milliseconds timeout);

} // namespace gilgal
