#include "http/ownership.hpp"

#include "protocol/error.hpp"
#include "protocol/ids.hpp"

namespace gilgal {

caf::expected<project> owned_project(request_context& ctx, const std::string& id) {
  auto missing = [&] { return make_error(errc::not_found, "project not found: " + id); };
  if (!is_uuid(id))
    return missing();
  auto p = ctx.db().find_project(id);
  if (!p)
    return code_of(p.error()) == errc::not_found ? missing() : std::move(p.error());
  if (p->owner_id != ctx.user_id)
    return missing();
  return p;
}

caf::expected<environment> owned_environment(request_context& ctx, const std::string& id,
                                             project* owner_project) {
  auto missing = [&] { return make_error(errc::not_found, "environment not found: " + id); };
  if (!is_uuid(id))
    return missing();
  auto e = ctx.db().find_environment(id);
  if (!e)
    return code_of(e.error()) == errc::not_found ? missing() : std::move(e.error());
  auto p = ctx.db().find_project(e->project_id);
  if (!p)
    return code_of(p.error()) == errc::not_found ? missing() : std::move(p.error());
  if (p->owner_id != ctx.user_id)
    return missing();
  if (owner_project != nullptr)
    *owner_project = std::move(*p);
  return e;
}

} // namespace gilgal
