// Resolves the host of a URL a tenant gave and refuses it when any address it
// resolves to is not public (protocol/network_address). Blocking (getaddrinfo):
// call it from a node's worker, never from an actor handler.
//
// Checking every address is not enough on its own: a name can resolve to a
// public address now and to 127.0.0.1 a second later (DNS rebinding). Callers
// that connect themselves, or through a program that can be told where to
// connect (git's http.curloptResolve), connect to the addresses returned here.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "protocol/network_address.hpp"

namespace gilgal {

/// Looks a name up; errc::unavailable when it cannot be resolved (now).
using host_resolver = std::function<caf::expected<std::vector<ip_address>>(const std::string&)>;

/// getaddrinfo (TCP, any family), deduplicated, in the resolver's order.
caf::expected<std::vector<ip_address>> resolve_host_addresses(const std::string& host);

/// The addresses a target host may be reached at: check_target_host, then
/// (for a name) every address from `resolve` (the system resolver when empty)
/// through check_resolved_address. With `allow_private` nothing is refused
/// and nothing is looked up (an empty list). An IP literal yields itself. errc::invalid_argument for a refused target,
/// errc::unavailable when the name does not resolve.
caf::expected<std::vector<ip_address>> resolve_target(const std::string& field,
                                                      const std::string& host,
                                                      bool allow_private,
                                                      const host_resolver& resolve = {});

} // namespace gilgal
