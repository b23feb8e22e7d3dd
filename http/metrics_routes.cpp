#include "http/metrics_routes.hpp"

#include <openssl/crypto.h>

#include "actors/metrics.hpp"
#include "config/api_token.hpp"
#include "http/auth.hpp"
#include "protocol/error.hpp"

namespace gilgal {

caf::error check_metrics_access(bool loopback_only, const std::string& expected,
                                const std::string& authorization) {
  if (expected.empty()) {
    if (loopback_only)
      return {};
    return make_error(errc::unauthorized,
                      "/metrics is disabled: the API listens on a non-loopback address and "
                      "no metrics token is configured (--metrics-token or "
                      "GILGAL_METRICS_TOKEN)");
  }
  // Hashes have equal lengths, so the comparison reveals nothing of either.
  auto given = sha256_hex(bearer_token(authorization));
  auto wanted = sha256_hex(expected);
  if (CRYPTO_memcmp(given.data(), wanted.data(), given.size()) == 0)
    return {};
  return make_error(errc::unauthorized,
                    "/metrics requires 'Authorization: Bearer <metrics token>'");
}

namespace {

caf::error get_metrics(request_context& ctx) {
  if (auto err = check_metrics_access(ctx.env.loopback_only, ctx.env.cfg.metrics_token,
                                      ctx.req.get_header_value("Authorization"))) {
    ctx.res.set_header("WWW-Authenticate", "Bearer");
    return err;
  }
  std::map<deployment_status, int64_t> counts;
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
