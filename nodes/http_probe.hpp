// One HTTP GET used as a health check (libcurl, loopback or the bind address),
// and the pace of the probes while an app starts.
#pragma once

#include <chrono>
#include <string>

namespace gilgal {

/// The HTTP status of GET `url`, or 0 when nothing answered within `timeout`.
long probe_http(const std::string& url, std::chrono::milliseconds timeout);

/// The pause before the first probe's repetition.
constexpr std::chrono::milliseconds first_probe_pause{10};

/// The pause after `previous` for an app probed for `probing_for` so far:
/// doubling up to 50 ms during the first 5 s (most apps answer within a
/// second or two, and a deployment waits for the first answer: a long pause
/// there is time lost), then doubling up to 250 ms (a slow boot is probed at
/// an external probe's pace).
std::chrono::milliseconds next_probe_pause(std::chrono::milliseconds previous,
                                           std::chrono::steady_clock::duration probing_for);

} // namespace gilgal
