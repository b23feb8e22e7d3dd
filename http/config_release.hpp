// Releases on config change (as Heroku does): a PATCH of an environment that
// changes its environmentVariables or resources creates a deployment of kind
// "config" that runs the live deployment's image with the new settings,
// health-gated like any deployment (the old container serves until the new
// one is healthy, and stays if it never is). `?deploy=false` skips it.
#pragma once

#include <caf/expected.hpp>

#include "http/request_context.hpp"

namespace gilgal {

/// True when `after` runs differently from `before`: variables or resources changed.
bool needs_config_release(const environment& before, const environment& after);

/// Creates and starts the config deployment of `after` (stored) if it has a
/// live deployment; `before` names what changed in its message (variable
/// names only, never values). Returns the created record, or nothing when
/// there is no live deployment to release.
caf::expected<caf::optional<deployment>> release_config(request_context& ctx,
                                                        const environment& before,
                                                        const environment& after);

} // namespace gilgal
