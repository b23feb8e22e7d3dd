// GET /api/deployments/:id/health: the state of a deployment's container
// (Docker state, restart count, exit code, OOM flag, one CPU/memory sample).
#pragma once

#include "http/router.hpp"

namespace gilgal {

void add_health_routes(router& r);

} // namespace gilgal
