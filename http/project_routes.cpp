#include "http/project_routes.hpp"

#include <caf/send.hpp>

#include "http/ownership.hpp"
#include "protocol/json.hpp"
#include "protocol/validation.hpp"

namespace gilgal {

namespace {

caf::error create_project(request_context& ctx) {
  auto body = ctx.json_body();
  if (!body)
    return std::move(body.error());
  project p;
  p.owner_id = ctx.user_id;
  if (auto err = apply_project_json(*body, p, true, ctx.env.cfg.allow_local_sources))
    return err;
  if (auto err = validate_repository_target("repositoryUrl", p.repository_url,
                                            ctx.env.cfg.allow_private_targets))
    return err;
  auto created = ctx.db().create_project(p);
  if (!created)
    return std::move(created.error());
  ctx.res.set_header("Location", "/api/projects/" + created->id);
  ctx.reply(201, to_json(*created));
  return {};
}

caf::error list_projects(request_context& ctx) {
  auto req = ctx.page();
  if (!req)
    return std::move(req.error());
  auto result = ctx.db().list_projects(ctx.user_id, *req);
  if (!result)
    return std::move(result.error());
  ctx.reply(200, page_to_json(*result, [](const project& p) { return to_json(p); }));
  return {};
}

caf::error get_project(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("id"));
  if (!p)
    return std::move(p.error());
  ctx.reply(200, to_json(*p));
  return {};
}

caf::error update_project(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("id"));
  if (!p)
    return std::move(p.error());
  auto body = ctx.json_body();
  if (!body)
    return std::move(body.error());
  if (auto err = apply_project_json(*body, *p, false, ctx.env.cfg.allow_local_sources))
    return err;
  if (body->contains("repositoryUrl"))
    if (auto err = validate_repository_target("repositoryUrl", p->repository_url,
                                              ctx.env.cfg.allow_private_targets))
      return err;
  auto updated = ctx.db().update_project(*p);
  if (!updated)
    return std::move(updated.error());
  if (auto& r = ctx.env.services.router) // a new name: new generated hosts
    caf::anon_send(r, reconcile_atom::value);
  ctx.reply(200, to_json(*updated));
  return {};
}

caf::error delete_project(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("id"));
  if (!p)
    return std::move(p.error());
  if (auto res = ctx.db().delete_project(p->id); !res)
    return std::move(res.error());
  // Its environments are gone: so are their routes, and project renames
  // change generated hosts.
  if (auto& r = ctx.env.services.router)
    caf::anon_send(r, reconcile_atom::value);
  ctx.reply_empty(204);
  return {};
}

} // namespace

void add_project_routes(router& r) {
  r.add("POST", "/api/projects", create_project);
  r.add("GET", "/api/projects", list_projects);
  r.add("GET", "/api/projects/:id", get_project);
  r.add("PATCH", "/api/projects/:id", update_project);
  r.add("DELETE", "/api/projects/:id", delete_project);
}

} // namespace gilgal
