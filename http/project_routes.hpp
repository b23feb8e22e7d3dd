// Projects: POST/GET /api/projects, GET/PATCH/DELETE /api/projects/:id.
#pragma once

#include "http/router.hpp"

namespace gilgal {

void add_project_routes(router& r);

} // namespace gilgal
