#include "http/environment_routes.hpp"

#include <caf/send.hpp>

#include "http/config_release.hpp"
#include "http/ownership.hpp"
#include "http/served_environments.hpp"
#include "protocol/error.hpp"
#include "protocol/json.hpp"
#include "protocol/validation.hpp"

namespace gilgal {

namespace {

nlohmann::json environment_json(const environment& e, bool show_values,
                                 const served_map& served) {
  auto j = to_json(e, show_values);
  auto i = served.find(e.id);
  auto text_or_null = [](const std::string& s) {
    return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
  };
  j["url"] = i == served.end() ? nlohmann::json(nullptr) : text_or_null(i->second.url);
  j["liveDeploymentId"] =
    i == served.end() ? nlohmann::json(nullptr) : text_or_null(i->second.live_deployment_id);
  return j;
}

/// A domain or alias must not be the API's host nor a host Gilgal gives
/// another environment. (Uniqueness among domains is the store's: a clash is
/// errc::conflict from there.)
caf::error check_hosts(request_context& ctx, const environment& e) {
  if (e.domain.empty())
    return {};
  auto served = served_environments(ctx);
  if (!served)
    return std::move(served.error());
  std::vector<std::string> wanted{e.domain};
  wanted.insert(wanted.end(), e.aliases.begin(), e.aliases.end());
  for (auto& host : wanted) {
    auto field = host == e.domain ? "domain" : "aliases";
    if (!ctx.env.cfg.api_domain.empty() && equal_hosts(host, ctx.env.cfg.api_domain))
      return make_error(errc::conflict, std::string{field} + ": " + host + " is the API's host");
    for (auto& [id, s] : **served)
      if (id != e.id)
        for (auto& taken : s.hosts)
          if (equal_hosts(taken, host))
            return make_error(errc::conflict, std::string{field} + ": " + host
                                                + " is already used by another environment");
  }
  return {};
}


caf::error reply_environment(request_context& ctx, int status, const environment& e) {
  auto served = served_environments(ctx);
  if (!served)
    return std::move(served.error());
  ctx.reply(status, environment_json(e, true, **served));
  return {};
}

resource_maxima maxima_of(const settings& cfg) {
  return {cfg.max_memory_mb, cfg.max_cpus, cfg.max_pids};
}

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
  if (auto err = check_hosts(ctx, e))
    return err;
  if (auto err = validate_resource_maxima(e.settings, maxima_of(ctx.env.cfg)))
    return err;
  auto created = ctx.db().create_environment(e);
  if (!created)
    return std::move(created.error());
  routes_changed(ctx);
  ctx.res.set_header("Location", "/api/environments/" + created->id);
  return reply_environment(ctx, 201, *created);
}

caf::error list_environments(request_context& ctx) {
  auto& project_id = ctx.param("projectId");
  auto req = ctx.page();
  auto epoch = ctx.db().write_epoch(); // before the reads (see view_cache)
  std::string key;
  if (req) {
    key = project_id + ' ' + std::to_string(req->page) + ' ' + std::to_string(req->limit);
    auto kept = ctx.env.environment_pages->find(key, epoch);
    if (kept && kept->owner_id == ctx.user_id) {
      ctx.reply_text(200, kept->json);
      return {};
    }
  }
  auto p = owned_project(ctx, project_id);
  if (!p)
    return std::move(p.error());
  if (!req)
    return std::move(req.error());
  auto result = ctx.db().list_environments_masked(p->id, *req); // values are masked anyway
  if (!result)
    return std::move(result.error());
  auto served = served_environments(ctx);
  if (!served)
    return std::move(served.error());
  // Written directly (no JSON document): lists are the API's hot path.
  auto view = std::make_shared<owned_view>();
  view->owner_id = p->owner_id;
  view->json = page_text(*result, [&](json_writer& w, const environment& e) {
    auto i = (*served)->find(e.id);
    static const served_environment none;
    auto& s = i == (*served)->end() ? none : i->second;
    write_json(w, e, false, s.url, s.live_deployment_id);
  });
  ctx.reply_text(200, view->json);
  ctx.env.environment_pages->put(key, epoch, std::move(view));
  return {};
}

caf::error get_environment(request_context& ctx) {
  auto e = owned_environment(ctx, ctx.param("id"));
  if (!e)
    return std::move(e.error());
  return reply_environment(ctx, 200, *e);
}

caf::error update_environment(request_context& ctx) {
  auto e = owned_environment(ctx, ctx.param("id"));
  if (!e)
    return std::move(e.error());
  auto body = ctx.json_body();
  if (!body)
    return std::move(body.error());
  // ?deploy=false: a change of variables or resources waits for the next deployment.
  auto deploy = ctx.req.has_param("deploy") ? ctx.req.get_param_value("deploy") : "true";
  if (deploy != "true" && deploy != "1" && deploy != "false" && deploy != "0")
    return make_error(errc::invalid_argument, "deploy: must be true or false");
  auto before = *e;
  if (auto err = apply_environment_json(*body, *e, false))
    return err;
  if (auto err = check_hosts(ctx, *e))
    return err;
  if (body->contains("resources"))
    if (auto err = validate_resource_maxima(e->settings, maxima_of(ctx.env.cfg)))
      return err;
  auto updated = ctx.db().update_environment(*e);
  if (!updated)
    return std::move(updated.error());
  routes_changed(ctx);
  nlohmann::json release = nullptr;
  if ((deploy == "true" || deploy == "1") && needs_config_release(before, *updated)) {
    auto released = release_config(ctx, before, *updated);
    if (!released)
      return make_error(code_of(released.error()),
                        "the settings are saved, but their release could not start: "
                          + message_of(released.error()));
    if (*released)
      release = to_json(**released);
  }
  auto served = served_environments(ctx);
  if (!served)
    return std::move(served.error());
  auto body_out = environment_json(*updated, true, **served);
  body_out["deployment"] = std::move(release);
  ctx.reply(200, body_out);
  return {};
}

caf::error delete_environment(request_context& ctx) {
  auto e = owned_environment(ctx, ctx.param("id"));
  if (!e)
    return std::move(e.error());
  if (auto err = remove_environment(removal_services(ctx), e->id))
    return err;
  ctx.reply_empty(204);
  return {};
}

} // namespace

void routes_changed(request_context& ctx) {
  if (auto& r = ctx.env.services.router)
    caf::anon_send(r, reconcile_atom::value);
}

environment_removal removal_services(const request_context& ctx) {
  return {ctx.env.sys, ctx.env.services.db, ctx.env.services.deployment_manager,
          ctx.env.services.router};
}

caf::expected<std::vector<nlohmann::json>>
environments_json(request_context& ctx, const std::vector<environment>& envs, bool show_values) {
  auto served = served_environments(ctx);
  if (!served)
    return std::move(served.error());
  std::vector<nlohmann::json> out;
  for (auto& e : envs)
    out.push_back(environment_json(e, show_values, **served));
  return out;
}

void add_environment_routes(router& r) {
  r.add("POST", "/api/projects/:projectId/environments", create_environment);
  r.add("GET", "/api/projects/:projectId/environments", list_environments);
  r.add("GET", "/api/environments/:id", get_environment);
  r.add("PATCH", "/api/environments/:id", update_environment);
  r.add("DELETE", "/api/environments/:id", delete_environment);
}

} // namespace gilgal
