// Runtime logs of an environment (the seed's getContainerLogs): what the
// live deployment's container prints on stdout and stderr, from whichever
// node runs it (asked through the scheduler).
//   GET /api/environments/:id/logs?tail=N&since=RFC3339   -> {"items":[...]}
//   ...&follow=1                                          -> Server-Sent Events
// A follow goes on across restarts of the container and on to the container
// of the next live deployment; event ids are the lines' timestamps
// (Last-Event-ID resumes after one).
#pragma once

#include "http/router.hpp"

namespace gilgal {

void add_app_log_routes(router& r);

} // namespace gilgal
