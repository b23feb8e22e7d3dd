// GET /metrics: Prometheus text format (0.0.4), unauthenticated like /healthz.
// Deployments by status come from the store; the rest from actors/metrics.
#pragma once

#include "http/router.hpp"

namespace gilgal {

void add_metrics_routes(router& r);

} // namespace gilgal
