#include "http/deployment_access.hpp"

#include "http/ownership.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"

namespace gilgal {

caf::expected<deployment> owned_deployment(request_context& ctx, const std::string& id) {
  if (!is_uuid(id))
    return make_error(errc::not_found, "deployment not found");
  auto d = ctx.db().find_deployment(id);
  if (!d)
    return d.error();
  if (auto p = owned_project(ctx, d->project_id); !p)
    return make_error(errc::not_found, "deployment not found");
  return d;
}

} // namespace gilgal
