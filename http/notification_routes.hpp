// A project's notifications out (the targets themselves are the project's
// `notifications` field, see project routes):
//
//   POST /api/projects/:id/notifications/secret        a new signing secret, shown once
//   GET  /api/projects/:id/notifications/deliveries    every attempt, newest first
#pragma once

#include <nlohmann/json.hpp>

#include "http/router.hpp"

namespace gilgal {

void add_notification_routes(router& r);

/// Checks where each notification URL of `p` points (SSRF rules of the
/// server) — errc::invalid_argument naming "notifications[i].url".
caf::error check_notification_targets(const request_context& ctx, const project& p);

/// After a project was stored with notifications: makes its signing secret
/// if it has none and adds it to `answer` as "notificationSecret" (shown
/// this once).
caf::error ensure_notification_secret(request_context& ctx, const project& p,
                                      nlohmann::json& answer);

} // namespace gilgal
