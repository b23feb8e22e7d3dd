// Deployment logs: paginated JSON, or a Server-Sent Events stream with
// ?follow=1 (event ids are the lines' seq; Last-Event-ID resumes; the stream
// ends with an `end` event when the deployment ends).
#pragma once

#include "http/router.hpp"

namespace gilgal {

void add_log_routes(router& r);

} // namespace gilgal
