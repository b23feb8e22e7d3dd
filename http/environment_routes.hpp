// Environments (the seed's EnvironmentService):
// POST/GET /api/projects/:projectId/environments,
// GET/PATCH/DELETE /api/environments/:id.
// Lists mask variable values; a single GET, create and PATCH by the owner show them.
#pragma once

#include "http/router.hpp"

namespace gilgal {

void add_environment_routes(router& r);

} // namespace gilgal
