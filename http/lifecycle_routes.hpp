// The seed's "start, stop, restart" of a running app:
//   POST /api/environments/:id/stop | start | restart
// answer 200 with the environment's state once the action is done (a start
// or restart once the app answers HTTP on its health path):
//   {"environmentId","state":"running|stopped|restarting|failed","reason",
//    "deploymentId","containerId","startedAt"}
// The deployment manager carries them out (it owns the run state).
#pragma once

#include <string>

#include "http/router.hpp"

namespace gilgal {

void add_lifecycle_routes(router& r);

} // namespace gilgal
