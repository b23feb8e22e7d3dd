// Environments (the seed's EnvironmentService):
// POST/GET /api/projects/:projectId/environments,
// GET/PATCH/DELETE /api/environments/:id.
// Lists mask variable values; a single GET, create and PATCH by the owner show them.
#pragma once

#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "actors/environment_removal.hpp"
#include "http/router.hpp"

namespace gilgal {

void add_environment_routes(router& r);

/// Environments as the API shows them: to_json plus "url" and
/// "liveDeploymentId" (what the proxy serves). `show_values` false masks
/// variable values.
caf::expected<std::vector<nlohmann::json>>
environments_json(request_context& ctx, const std::vector<environment>& envs, bool show_values);

/// The router derives routes from the store: tells it the environments changed.
void routes_changed(request_context& ctx);

/// What removing an environment takes (remove_environment), from the edge's services.
environment_removal removal_services(const request_context& ctx);

} // namespace gilgal
