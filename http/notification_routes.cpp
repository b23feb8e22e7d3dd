#include "http/notification_routes.hpp"

#include <spdlog/spdlog.h>

#include "http/ownership.hpp"
#include "protocol/bytes.hpp"
#include "protocol/error.hpp"
#include "protocol/json.hpp"
#include "protocol/validation.hpp"

namespace gilgal {

namespace {

/// Bytes of randomness in a signing secret (64 hex characters).
constexpr size_t notification_secret_bytes = 32;

caf::error rotate_secret(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("id"));
  if (!p)
    return std::move(p.error());
  auto secret = random_hex(notification_secret_bytes);
  if (auto res = ctx.db().set_notification_secret(p->id, secret); !res)
    return std::move(res.error());
  spdlog::info("notification secret of project {} (re)generated", p->id);
  ctx.reply(201, {{"secret", secret}});
  return {};
}

caf::error list_deliveries(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("id"));
  if (!p)
    return std::move(p.error());
  auto req = ctx.page();
  if (!req)
    return std::move(req.error());
  auto result = ctx.db().list_notification_attempts(p->id, *req);
  if (!result)
    return std::move(result.error());
  ctx.reply(200, page_to_json(*result, [](const notification_attempt& a) { return to_json(a); }));
  return {};
}

} // namespace

caf::error check_notification_targets(const request_context& ctx, const project& p) {
  for (size_t i = 0; i < p.notifications.size(); ++i)
    if (auto err = validate_notification_target("notifications[" + std::to_string(i) + "].url",
                                                p.notifications[i].url,
                                                ctx.env.cfg.allow_private_targets))
      return err;
  return {};
}

caf::error ensure_notification_secret(request_context& ctx, const project& p,
                                      nlohmann::json& answer) {
  if (p.notifications.empty())
    return {};
  auto existing = ctx.db().find_notification_secret(p.id);
  if (existing)
    return {};
  if (code_of(existing.error()) != errc::not_found)
    return std::move(existing.error());
  auto secret = random_hex(notification_secret_bytes);
  if (auto res = ctx.db().set_notification_secret(p.id, secret); !res)
    return std::move(res.error());
  answer["notificationSecret"] = secret;
  return {};
}

void add_notification_routes(router& r) {
  r.add("POST", "/api/projects/:id/notifications/secret", rotate_secret);
  r.add("GET", "/api/projects/:id/notifications/deliveries", list_deliveries);
}

} // namespace gilgal
