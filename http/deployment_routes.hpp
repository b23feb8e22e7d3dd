// Deployments: trigger (with Idempotency-Key), list, get, cancel.
#pragma once

#include "http/router.hpp"

namespace gilgal {

void add_deployment_routes(router& r);

} // namespace gilgal
