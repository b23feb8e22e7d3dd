#include "http/preview_routes.hpp"

#include <cmath>

#include "http/environment_routes.hpp"
#include "http/ownership.hpp"
#include "protocol/ids.hpp"
#include "protocol/json.hpp"

namespace gilgal {

namespace {

using nlohmann::json;

/// When a preview last active at `last` is removed, for `ttl_hours` (RFC 3339;
/// empty if `last` is not a time).
std::string expiry(const std::string& last, double ttl_hours) {
  std::chrono::system_clock::time_point t;
  if (!parse_rfc3339(last, t))
    return {};
  auto ms = static_cast<int64_t>(std::llround(ttl_hours * 3600 * 1000));
  return to_rfc3339(t + std::chrono::milliseconds{ms});
}

caf::error list_previews(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("id"));
  if (!p)
    return std::move(p.error());
  auto req = ctx.page();
  if (!req)
    return std::move(req.error());
  auto previews = ctx.db().list_previews(p->id, *req);
  if (!previews)
    return std::move(previews.error());
  std::vector<environment> envs;
  for (auto& v : previews->items)
    envs.push_back(v.env);
  auto views = environments_json(ctx, envs, false);
  if (!views)
    return std::move(views.error());
  size_t i = 0;
  auto body = page_to_json(*previews, [&](const preview_view& v) {
    auto j = std::move((*views)[i++]);
    j["preview"]["lastActivityAt"] = v.last_activity_at;
    j["preview"]["expiresAt"] = expiry(v.last_activity_at, p->previews.ttl_hours);
    j["latestDeployment"] = v.latest_deployment_id.empty()
                              ? json(nullptr)
                              : json{{"id", v.latest_deployment_id},
                                     {"status", to_string(v.latest_status)},
                                     {"commitSha", v.latest_commit_sha}};
    return j;
  });
  body["previews"] = to_json(p->previews);
  ctx.reply(200, body);
  return {};
}

} // namespace

void add_preview_routes(router& r) {
  r.add("GET", "/api/projects/:id/previews", list_previews);
}

} // namespace gilgal
