// Incoming webhooks of git hosts, and the project setting behind them.
//
//   POST /api/projects/:id/webhook   (owner) a new secret, shown once; rotates
//   GET  /api/projects/:id/webhook   (owner) the URLs and whether one is set
//   POST /hooks/github/:projectId    (no bearer token: the signature is the proof)
//   POST /hooks/gitlab/:projectId
//   POST /hooks/gitea/:projectId     (Gitea and Forgejo)
//
// A hook answers, in this order: 413 for a body over 1 MiB; 404 when the
// project does not exist or has no webhook secret (one answer for both, as
// GitHub expects of an unknown hook URL); 401 when the signature (GitLab: the
// token) does not match — nothing is read from the body before that, and the
// body is never logged; 200 for a ping and for events other than pushes and
// pull requests (those make previews: http/preview_hooks); for
// a push to refs/heads/B, one deployment per environment with autoDeploy
// whose branch (default: the project's) is B, created in one transaction
// with the delivery's record. A delivery id seen before for the project
// answers 200 with "duplicate": true and creates nothing; so do tag pushes
// and pushes that delete a branch.
#pragma once

#include "http/router.hpp"

namespace gilgal {

/// Largest webhook body taken (GitHub caps its payloads at 25 MB, but a push
/// payload past 1 MiB is not one Gilgal needs to read).
constexpr size_t max_webhook_body_bytes = 1 << 20;

void add_webhook_routes(router& r);

} // namespace gilgal
