#include "http/pipeline_start.hpp"

#include <caf/scoped_actor.hpp>

#include "protocol/error.hpp"
#include "protocol/timeouts.hpp"

namespace gilgal {

caf::error start_pipeline(request_context& ctx, const deployment& d, const project& p,
                          const environment& e) {
  auto& manager = ctx.env.services.deployment_manager;
  if (!manager || !ctx.env.sys)
    return make_error(errc::unavailable, "the deployment engine is not running");
  caf::error failure;
  caf::scoped_actor self{*ctx.env.sys};
  self->request(manager, timeouts::edge_deploy, deploy_atom::value, d, p, e)
    .receive([](bool) {}, [&](caf::error& err) { failure = std::move(err); });
  if (!failure)
    return {};
  if (failure == caf::sec::request_timeout)
    return make_error(errc::timeout, "the deployment engine did not take deployment " + d.id
                                       + " in time; follow GET /api/deployments/" + d.id);
  return make_error(errc::unavailable,
                    "could not start the pipeline: " + message_of(failure));
}

} // namespace gilgal
