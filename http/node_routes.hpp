// The build farm's nodes: GET /api/nodes, every node the scheduler knows (up
// or down) as {"nodes": [node...]} (protocol/json.hpp). 503 while no scheduler
// runs, 504 if it does not answer in time.
#pragma once

#include "http/router.hpp"

namespace gilgal {

void add_node_routes(router& r);

} // namespace gilgal
