// Pull request (merge request) deliveries of a project's webhook: preview
// environments. Called by the hook routes (http/webhook_routes) once the
// signature is checked.
//
//   opened / reopened / synchronize(d), GitLab open / reopen / update:
//     the environment pr-<number> (type development, started from
//     previews.baseEnvironmentId: variables copied sealed, build variables,
//     resources, health check, node labels) is created if missing and the
//     head commit deployed to it, served at pr-<number>.<previews.domain>
//     (no domain: the generated host). 200 with the deployment.
//   closed, GitLab close / merge: the preview is removed as
//     DELETE /api/environments/:id removes an environment. 200.
//
// Nothing happens (200, with a message) when previews are off, for a pull
// request from a fork (its code would run with the base's variables), for
// other actions, for a redelivered delivery id and for a commit the preview
// already runs. When previews.maxPreviews previews are open, a new one is
// refused with 409 and nothing is recorded: after one closes, the host's
// "Redeliver" works.
#pragma once

#include <string>

#include <caf/error.hpp>

#include "http/git_hosts.hpp"
#include "http/request_context.hpp"

namespace gilgal {

caf::error handle_pull_request(request_context& ctx, const git_host& host, const project& p,
                               const std::string& delivery_id);

} // namespace gilgal
