#include "http/environment_routes.hpp"

#include "http/ownership.hpp"
#include "protocol/json.hpp"

namespace gilgal {

namespace {

caf::error create_environment(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("projectId"));
  if (!p)
    return std::move(p.error());
  auto body = ctx.json_body();
  if (!body)
    return std::move(body.error());
  environment e;
  e.project_id = p->id;
  if (auto err = apply_environment_json(*body, e, true))
    return err;
  auto created = ctx.db().create_environment(e);
  if (!created)
    return std::move(created.error());
  ctx.res.set_header("Location", "/api/environments/" + created->id);
  ctx.reply(201, to_json(*created, true));
  return {};
}

caf::error list_environments(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("projectId"));
  if (!p)
    return std::move(p.error());
  auto req = ctx.page();
  if (!req)
    return std::move(req.error());
  auto result = ctx.db().list_environments_masked(p->id, *req); // values are masked anyway
  if (!result)
    return std::move(result.error());
  ctx.reply(200,
            page_to_json(*result, [](const environment& e) { return to_json(e, false); }));
  return {};
}

caf::error get_environment(request_context& ctx) {
  auto e = owned_environment(ctx, ctx.param("id"));
  if (!e)
    return std::move(e.error());
  ctx.reply(200, to_json(*e, true));
  return {};
}

caf::error update_environment(request_context& ctx) {
  auto e = owned_environment(ctx, ctx.param("id"));
  if (!e)
    return std::move(e.error());
  auto body = ctx.json_body();
  if (!body)
    return std::move(body.error());
  if (auto err = apply_environment_json(*body, *e, false))
    return err;
  auto updated = ctx.db().update_environment(*e);
  if (!updated)
    return std::move(updated.error());
  ctx.reply(200, to_json(*updated, true));
  return {};
}

caf::error delete_environment(request_context& ctx) {
  auto e = owned_environment(ctx, ctx.param("id"));
  if (!e)
    return std::move(e.error());
  if (auto res = ctx.db().delete_environment(e->id); !res)
    return std::move(res.error());
  ctx.reply_empty(204);
  return {};
}

} // namespace

void add_environment_routes(router& r) {
  r.add("POST", "/api/projects/:projectId/environments", create_environment);
  r.add("GET", "/api/projects/:projectId/environments", list_environments);
  r.add("GET", "/api/environments/:id", get_environment);
  r.add("PATCH", "/api/environments/:id", update_environment);
  r.add("DELETE", "/api/environments/:id", delete_environment);
}

} // namespace gilgal
