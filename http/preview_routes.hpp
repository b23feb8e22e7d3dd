// GET /api/projects/:id/previews: the project's preview environments (owner),
// by pull request number, one page (?page=&limit=). Each item is the
// environment as GET /api/environments/:id shows it, variable values masked,
// with "preview" {pullRequest, provider, branch, lastActivityAt, expiresAt}
// and "latestDeployment" {id, status, commitSha} (null before the first).
// The page also carries the project's "previews" settings.
#pragma once

#include "http/router.hpp"

namespace gilgal {

void add_preview_routes(router& r);

} // namespace gilgal
