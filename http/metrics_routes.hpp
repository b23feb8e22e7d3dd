// GET /metrics: Prometheus text format (0.0.4). Not behind user tokens: with
// --metrics-token it requires "Authorization: Bearer <that token>"; without one
// it answers only when the API listens on a loopback address (else 401).
// Deployments by status come from the store; the rest from actors/metrics.
#pragma once

#include <string>

#include <caf/error.hpp>

#include "http/router.hpp"

namespace gilgal {

void add_metrics_routes(router& r);

/// No error when /metrics may answer a request carrying `authorization` (the
/// header's value): with a metrics token (`expected`) only if it presents that
/// token; without one only if the API listens on loopback. Else
/// errc::unauthorized saying what is missing. Compares in constant time.
caf::error check_metrics_access(bool loopback_only, const std::string& expected,
                                const std::string& authorization);

} // namespace gilgal
