#include "http/lifecycle_routes.hpp"

#include <caf/scoped_actor.hpp>

#include "http/ownership.hpp"
#include "protocol/error.hpp"
#include "protocol/timeouts.hpp"

namespace gilgal {

namespace {

nlohmann::json state_json(const std::string& environment_id, const environment_state& s) {
  auto text_or_null = [](const std::string& t) {
    return t.empty() ? nlohmann::json(nullptr) : nlohmann::json(t);
  };
  return {{"environmentId", environment_id},
          {"state", s.state},
          {"reason", text_or_null(s.reason)},
          {"deploymentId", text_or_null(s.deployment_id)},
          {"containerId", text_or_null(s.container_id)},
          {"startedAt", text_or_null(s.started_at)}};
}

route_handler lifecycle_action(std::string action) {
  return [action](request_context& ctx) -> caf::error {
    auto e = owned_environment(ctx, ctx.param("id"));
    if (!e)
      return std::move(e.error());
    auto& manager = ctx.env.services.deployment_manager;
    if (!manager || !ctx.env.sys)
      return make_error(errc::unavailable, "the deployment engine is not running");
    auto health = std::chrono::seconds{e->settings.health_check_timeout_seconds > 0
                                         ? e->settings.health_check_timeout_seconds
                                         : 300};
    caf::scoped_actor self{*ctx.env.sys};
    caf::expected<environment_state> state{environment_state{}};
    self->request(manager, health + timeouts::edge_control, control_atom::value, *e, action)
      .receive([&](environment_state& s) { state = std::move(s); },
               [&](caf::error& err) { state = std::move(err); });
    if (!state) {
      if (state.error() == caf::sec::request_timeout)
        return make_error(errc::timeout, "the " + action + " did not end in time; it goes on");
      return std::move(state.error());
    }
    ctx.reply(200, state_json(e->id, *state));
    return {};
  };
}

} // namespace

void add_lifecycle_routes(router& r) {
  r.add("POST", "/api/environments/:id/stop", lifecycle_action("stop"));
  r.add("POST", "/api/environments/:id/start", lifecycle_action("start"));
  r.add("POST", "/api/environments/:id/restart", lifecycle_action("restart"));
}

} // namespace gilgal
