#include "http/project_routes.hpp"

#include <caf/send.hpp>

#include "config/deploy_key.hpp"
#include "http/environment_routes.hpp"
#include "http/notification_routes.hpp"
#include "http/ownership.hpp"
#include "protocol/error.hpp"
#include "protocol/json.hpp"
#include "protocol/validation.hpp"

namespace gilgal {

namespace {

/// previews.baseEnvironmentId must name a live environment of the project
/// that is not itself a preview.
caf::error check_preview_base(request_context& ctx, const project& p) {
  auto& id = p.previews.base_environment_id;
  if (id.empty())
    return {};
  auto wrong = [&] {
    return make_error(errc::invalid_argument,
                      "previews.baseEnvironmentId: no environment of this project has that id");
  };
  if (p.id.empty())
    return wrong(); // a project being created has no environments yet
  auto e = ctx.db().find_environment(id);
  if (!e)
    return code_of(e.error()) == errc::not_found ? wrong() : std::move(e.error());
  if (e->project_id != p.id)
    return wrong();
  if (e->preview.pull_request > 0)
    return make_error(errc::invalid_argument,
                      "previews.baseEnvironmentId: a preview cannot be the base of previews");
  return {};
}

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
  if (auto err = check_notification_targets(ctx, p))
    return err;
  if (auto err = check_preview_base(ctx, p))
    return err;
  auto created = ctx.db().create_project(p);
  if (!created)
    return std::move(created.error());
  auto answer = to_json(*created);
  if (auto err = ensure_notification_secret(ctx, *created, answer))
    return err;
  ctx.res.set_header("Location", "/api/projects/" + created->id);
  ctx.reply(201, answer);
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
  auto base_before = p->previews.base_environment_id;
  if (auto err = apply_project_json(*body, *p, false, ctx.env.cfg.allow_local_sources))
    return err;
  if (body->contains("repositoryUrl"))
    if (auto err = validate_repository_target("repositoryUrl", p->repository_url,
                                              ctx.env.cfg.allow_private_targets))
      return err;
  if (body->contains("notifications"))
    if (auto err = check_notification_targets(ctx, *p))
      return err;
  if (p->previews.base_environment_id != base_before)
    if (auto err = check_preview_base(ctx, *p))
      return err;
  auto updated = ctx.db().update_project(*p);
  if (!updated)
    return std::move(updated.error());
  if (auto& r = ctx.env.services.router) // a new name: new generated hosts
    caf::anon_send(r, reconcile_atom::value);
  auto answer = to_json(*updated);
  if (auto err = ensure_notification_secret(ctx, *updated, answer))
    return err;
  ctx.reply(200, answer);
  return {};
}

caf::error delete_project(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("id"));
  if (!p)
    return std::move(p.error());
  // Every environment's deployments end and its containers go first.
  for (int64_t page_no = 1;; ++page_no) {
    auto envs = ctx.db().list_environments_masked(p->id, page_request{page_no, 100});
    if (!envs)
      return std::move(envs.error());
    for (auto& e : envs->items)
      if (auto err = end_environment_runtime(removal_services(ctx), e.id))
        return err;
    if (!envs->has_more())
      break;
  }
  if (auto res = ctx.db().delete_project(p->id); !res)
    return std::move(res.error());
  // Its environments are gone: so are their routes, and project renames
  // change generated hosts.
  if (auto& r = ctx.env.services.router)
    caf::anon_send(r, reconcile_atom::value);
  ctx.reply_empty(204);
  return {};
}

// -- deploy keys and known hosts (private repositories over ssh) ---------------

nlohmann::json deploy_key_json(const project& p) {
  return {{"projectId", p.id},
          {"publicKey", p.deploy_public_key},
          {"fingerprint", ssh_fingerprint(p.deploy_public_key)}};
}

/// A new key pair for the project (the private half sealed at rest); 201
/// with its public half.
caf::error make_deploy_key(request_context& ctx, const project& p) {
  auto pair = generate_deploy_key("gilgal-" + p.id.substr(0, 8));
  if (!pair)
    return std::move(pair.error());
  auto updated = ctx.db().set_deploy_key(p.id, pair->private_key, pair->public_key);
  if (!updated)
    return std::move(updated.error());
  ctx.reply(201, deploy_key_json(*updated));
  return {};
}

/// POST: the project's deploy key, made when it has none (201), else the
/// one it has (200): the private half never leaves the server.
caf::error create_deploy_key(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("id"));
  if (!p)
    return std::move(p.error());
  if (!p->deploy_public_key.empty()) {
    ctx.reply(200, deploy_key_json(*p));
    return {};
  }
  return make_deploy_key(ctx, *p);
}

/// POST .../rotate: a new key pair replaces the old one, which stops working
/// for Gilgal at once (remove it from the git host too).
caf::error rotate_deploy_key(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("id"));
  if (!p)
    return std::move(p.error());
  return make_deploy_key(ctx, *p);
}

caf::error get_deploy_key(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("id"));
  if (!p)
    return std::move(p.error());
  if (p->deploy_public_key.empty())
    return make_error(errc::not_found, "this project has no deploy key");
  ctx.reply(200, deploy_key_json(*p));
  return {};
}

caf::error delete_deploy_key(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("id"));
  if (!p)
    return std::move(p.error());
  if (p->deploy_public_key.empty())
    return make_error(errc::not_found, "this project has no deploy key");
  if (auto res = ctx.db().set_deploy_key(p->id, "", ""); !res)
    return std::move(res.error());
  ctx.reply_empty(204);
  return {};
}

/// The ssh host keys Gilgal recorded on first use; DELETE forgets them (the
/// git host really changed its key).
caf::error get_known_hosts(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("id"));
  if (!p)
    return std::move(p.error());
  auto access = ctx.db().find_repository_access(p->id);
  if (!access)
    return std::move(access.error());
  auto hosts = nlohmann::json::array();
  size_t begin = 0;
  const auto& text = access->known_hosts;
  while (begin < text.size()) {
    auto end = text.find('\n', begin);
    auto line = text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    begin = end == std::string::npos ? text.size() : end + 1;
    auto space = line.find(' ');
    if (line.empty() || line[0] == '#' || space == std::string::npos)
      continue;
    auto key = line.substr(space + 1);
    hosts.push_back({{"host", line.substr(0, space)},
                     {"keyType", key.substr(0, key.find(' '))},
                     {"fingerprint", ssh_fingerprint(key)}});
  }
  ctx.reply(200, {{"projectId", p->id}, {"knownHosts", std::move(hosts)}});
  return {};
}

caf::error delete_known_hosts(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("id"));
  if (!p)
    return std::move(p.error());
  if (auto res = ctx.db().reset_known_hosts(p->id); !res)
    return std::move(res.error());
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
  r.add("POST", "/api/projects/:id/deploy-key", create_deploy_key);
  r.add("POST", "/api/projects/:id/deploy-key/rotate", rotate_deploy_key);
  r.add("GET", "/api/projects/:id/deploy-key", get_deploy_key);
  r.add("DELETE", "/api/projects/:id/deploy-key", delete_deploy_key);
  r.add("GET", "/api/projects/:id/known-hosts", get_known_hosts);
  r.add("DELETE", "/api/projects/:id/known-hosts", delete_known_hosts);
}

} // namespace gilgal
