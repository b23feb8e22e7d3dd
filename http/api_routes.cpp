#include "http/api_routes.hpp"

#include "http/app_log_routes.hpp"
#include "http/deployment_routes.hpp"
#include "http/environment_routes.hpp"
#include "http/health_routes.hpp"
#include "http/lifecycle_routes.hpp"
#include "http/log_routes.hpp"
#include "http/metrics_routes.hpp"
#include "http/node_routes.hpp"
#include "http/notification_routes.hpp"
#include "http/preview_routes.hpp"
#include "http/project_routes.hpp"
#include "http/webhook_routes.hpp"

namespace gilgal {

namespace {

caf::error healthz(request_context& ctx) {
  ctx.reply(200, {{"status", "ok"}});
  return {};
}

} // namespace

router make_api_router() {
  router r;
  r.add("GET", "/healthz", healthz, false);
  add_project_routes(r);
  add_environment_routes(r);
  add_deployment_routes(r);
  add_log_routes(r);
  add_app_log_routes(r);
  add_lifecycle_routes(r);
  add_health_routes(r);
  add_metrics_routes(r);
  add_node_routes(r);
  add_webhook_routes(r);
  add_notification_routes(r);
  add_preview_routes(r);
  return r;
}

std::vector<route_info> api_route_table() {
  return make_api_router().routes();
}

} // namespace gilgal
