// The whole API's route table. A new resource adds one add_*_routes call here
// and its handlers in its own file (http/<resource>_routes.cpp).
#pragma once

#include <vector>

#include "http/router.hpp"

namespace gilgal {

/// The router of every route the edge serves (including GET /healthz).
router make_api_router();

/// make_api_router().routes(): compared against docs/openapi.yaml by a test.
std::vector<route_info> api_route_table();

} // namespace gilgal
