#include "http/health_routes.hpp"

#include <caf/scoped_actor.hpp>

#include "http/deployment_access.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

// Inspect plus a stats sample (about a second) on a detached worker.
constexpr auto node_timeout = std::chrono::seconds(30);

nlohmann::json health_json(const deployment& d, const container_health& h) {
  nlohmann::json j;
  j["deploymentId"] = d.id;
  j["containerId"] = h.container_id;
  j["state"] = h.state;
  j["running"] = h.running;
  j["restartCount"] = h.restart_count;
  j["exitCode"] = h.exit_code;
  j["oomKilled"] = h.oom_killed;
  j["cpuPercent"] = h.cpu_percent;
  j["memoryBytes"] = h.memory_bytes;
  j["memoryLimitBytes"] = h.memory_limit_bytes;
  j["startedAt"] = h.started_at.empty() ? nlohmann::json(nullptr) : nlohmann::json(h.started_at);
  j["finishedAt"] = h.finished_at.empty() ? nlohmann::json(nullptr)
                                          : nlohmann::json(h.finished_at);
  return j;
}

caf::error get_health(request_context& ctx) {
  auto d = owned_deployment(ctx, ctx.param("id"));
  if (!d)
    return std::move(d.error());
  if (d->container_id.empty())
    return make_error(errc::conflict, "deployment " + d->id + " has no container (status "
                                        + to_string(d->status) + ")");
  auto& node = ctx.env.services.scheduler; // asks every node; the one with the container answers
  if (!node || !ctx.env.sys)
    return make_error(errc::unavailable, "the deployment engine is not running");
  caf::scoped_actor self{*ctx.env.sys};
  caf::expected<container_health> health{container_health{}};
  self->request(node, node_timeout, health_atom::value, d->container_id)
    .receive([&](container_health& h) { health = std::move(h); },
             [&](caf::error& err) { health = std::move(err); });
  if (!health) {
    if (code_of(health.error()) == errc::not_found)
      return make_error(errc::conflict, "the container of deployment " + d->id
                                          + " no longer exists");
    if (health.error() == caf::sec::request_timeout)
      return make_error(errc::timeout, "the node did not answer within 30s");
    return std::move(health.error());
  }
  ctx.reply(200, health_json(*d, *health));
  return {};
}

} // namespace

void add_health_routes(router& r) {
  r.add("GET", "/api/deployments/:id/health", get_health);
}

} // namespace gilgal
