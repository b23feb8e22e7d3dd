#include "http/metrics_routes.hpp"

#include "actors/metrics.hpp"

namespace gilgal {

namespace {

caf::error get_metrics(request_context& ctx) {
  std::map<std::string, int64_t> counts;
  if (ctx.env.services.db) {
    auto stored = ctx.db().count_deployments_by_status();
    if (!stored)
      return std::move(stored.error());
    counts = std::move(*stored);
  }
  ctx.res.status = 200;
  ctx.res.set_content(metrics::render_prometheus(counts), metrics::content_type);
  return {};
}

} // namespace

void add_metrics_routes(router& r) {
  r.add("GET", "/metrics", get_metrics, false);
}

} // namespace gilgal
