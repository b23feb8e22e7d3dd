#include "http/deployment_routes.hpp"

#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "http/deployment_access.hpp"
#include "http/ownership.hpp"
#include "http/pipeline_start.hpp"
#include "protocol/error.hpp"
#include "protocol/json.hpp"
#include "protocol/validation.hpp"
#include "protocol/timeouts.hpp"

namespace gilgal {

namespace {

using nlohmann::json;

caf::expected<std::string> idempotency_key(const request_context& ctx) {
  if (!ctx.req.has_header("Idempotency-Key"))
    return std::string{};
  auto key = ctx.req.get_header_value("Idempotency-Key");
  if (auto err = validate_idempotency_key("Idempotency-Key", key))
    return err;
  return key;
}

caf::error create_deployment(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("projectId"));
  if (!p)
    return std::move(p.error());
  auto body = ctx.json_body();
  if (!body)
    return std::move(body.error());
  deployment d;
  if (auto err = apply_trigger_json(*body, d))
    return err;
  auto key = idempotency_key(ctx);
  if (!key)
    return std::move(key.error());
  project owner;
  auto e = owned_environment(ctx, d.environment_id, &owner);
  if (!e || owner.id != p->id)
    return make_error(errc::not_found,
                      "environmentId: environment not found in this project: "
                        + d.environment_id);
  if (!key->empty()) {
    if (auto existing = ctx.db().find_deployment_by_key(p->id, *key)) {
      ctx.res.set_header("Idempotent-Replayed", "true");
      ctx.res.set_header("Location", "/api/deployments/" + existing->id);
      ctx.reply(201, to_json(*existing));
      return {};
    }
  }
  d.project_id = p->id;
  d.idempotency_key = *key;
  d.status = deployment_status::pending;
  auto created = ctx.db().create_deployment(d);
  if (!created && code_of(created.error()) == errc::conflict && !key->empty()) {
    // A concurrent retry with the same key won the race: answer with its deployment.
    if (auto existing = ctx.db().find_deployment_by_key(p->id, *key)) {
      ctx.res.set_header("Idempotent-Replayed", "true");
      ctx.reply(201, to_json(*existing));
      return {};
    }
  }
  if (!created)
    return std::move(created.error());
  if (auto err = start_pipeline(ctx, *created, *p, *e))
    return err;
  spdlog::info("deployment {} of project {} queued", created->id, p->id);
  ctx.res.set_header("Location", "/api/deployments/" + created->id);
  ctx.reply(201, to_json(*created));
  return {};
}

caf::error list_deployments(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("projectId"));
  if (!p)
    return std::move(p.error());
  auto req = ctx.page();
  if (!req)
    return std::move(req.error());
  auto result = ctx.db().list_deployments(p->id, *req);
  if (!result)
    return std::move(result.error());
  ctx.reply(200, page_to_json(*result, [](const deployment& d) { return to_json(d); }));
  return {};
}

caf::error get_deployment(request_context& ctx) {
  auto d = owned_deployment(ctx, ctx.param("id"));
  if (!d)
    return std::move(d.error());
  auto body = to_json(*d);
  if (d->status == deployment_status::pending)
    if (auto& manager = ctx.env.services.deployment_manager; manager && ctx.env.sys) {
      caf::scoped_actor self{*ctx.env.sys};
      self->request(manager, timeouts::actor_question, queue_atom::value, d->id)
        .receive([&](int64_t pos) { body["queuePosition"] = pos > 0 ? json(pos) : json(nullptr); },
                 [](caf::error&) {});
    }
  ctx.reply(200, body);
  return {};
}

/// Cancels a pending or building deployment through its actor, which stops
/// its build or container and answers with its final record once stored.
/// Refused (409) once the deployment is going live or has ended.
caf::error cancel_deployment(request_context& ctx) {
  auto d = owned_deployment(ctx, ctx.param("id"));
  if (!d)
    return std::move(d.error());
  auto finished = [](const deployment& x) {
    return make_error(errc::conflict, std::string{"deployment already finished with status "}
                                        + to_string(x.status)
                                        + "; only pending or building deployments can be "
                                          "cancelled");
  };
  if (is_terminal(d->status))
    return finished(*d);
  auto& manager = ctx.env.services.deployment_manager;
  if (!manager || !ctx.env.sys)
    return make_error(errc::unavailable, "the deployment engine is not running");
  caf::error failure;
  caf::scoped_actor self{*ctx.env.sys};
  self->request(manager, timeouts::edge_cancel, cancel_atom::value, d->id)
    .receive([&](deployment& end) { *d = std::move(end); },
             [&](caf::error& err) { failure = std::move(err); });
  if (failure) {
    if (failure == caf::sec::request_timeout)
      return make_error(errc::timeout, "the cancel of deployment " + d->id
                                         + " is still in progress; follow GET "
                                           "/api/deployments/" + d->id);
    if (code_of(failure) == errc::conflict)
      return failure;
    // Not in progress here: it has ended (its actor stored the final record
    // before it quit), or no actor ever took it.
    auto now = ctx.db().find_deployment(d->id);
    if (!now)
      return std::move(now.error());
    if (!is_terminal(now->status))
      return make_error(errc::unavailable, "deployment " + d->id
                                             + " is not in progress on this server");
    d = std::move(now);
  }
  if (d->status != deployment_status::cancelled)
    return finished(*d);
  ctx.reply(200, {{"message", "Deployment cancelled"},
                  {"id", d->id},
                  {"status", to_string(d->status)}});
  return {};
}

/// The seed's rollback: the newest successful deployment of the same
/// environment created before :id is brought back from its retained image as a
/// new deployment of kind rollback; once it is healthy, the current
/// container is stopped. Answers 202 at once (Location: the rollback
/// deployment); its outcome is followed like any deployment's.
caf::error rollback_deployment(request_context& ctx) {
  auto current = owned_deployment(ctx, ctx.param("id"));
  if (!current)
    return std::move(current.error());
  project p;
  auto e = owned_environment(ctx, current->environment_id, &p);
  if (!e)
    return make_error(errc::conflict, "the deployment's environment no longer exists");
  auto successes = ctx.db().list_successful_deployments(current->environment_id);
  if (!successes)
    return std::move(successes.error());
  const deployment* target = nullptr;
  for (auto& d : *successes)
    if (d.id != current->id && d.created_at < current->created_at && !d.image_name.empty()) {
      target = &d;
      break;
    }
  if (!target)
    return make_error(errc::conflict, "no earlier successful deployment of this environment "
                                      "to roll back to");
  deployment d;
  d.project_id = current->project_id;
  d.environment_id = current->environment_id;
  d.kind = deployment_kind::rollback;
  d.rollback_of = target->id;
  d.image_name = target->image_name;
  d.run_node = target->run_node; // the image is retained where the target ran
  d.commit_sha = target->commit_sha;
  d.commit_message = "Rollback to " + target->id.substr(0, 8)
                     + (target->commit_message.empty() ? "" : ": " + target->commit_message);
  d.status = deployment_status::pending;
  auto created = ctx.db().create_deployment(d);
  if (!created)
    return std::move(created.error());
  if (auto err = start_pipeline(ctx, *created, p, *e))
    return err;
  ctx.res.set_header("Location", "/api/deployments/" + created->id);
  ctx.reply(202, {{"id", target->id},
                  {"status", to_string(created->status)},
                  {"message", "Rolling back to previous deployment"},
                  {"rollbackDeploymentId", created->id},
                  {"deployment", to_json(*created)}});
  return {};
}

} // namespace

void add_deployment_routes(router& r) {
  r.add("POST", "/api/projects/:projectId/deployments", create_deployment);
  r.add("GET", "/api/projects/:projectId/deployments", list_deployments);
  r.add("GET", "/api/deployments/:id", get_deployment);
  r.add("DELETE", "/api/deployments/:id", cancel_deployment);
  r.add("POST", "/api/deployments/:id/rollback", rollback_deployment);
}

} // namespace gilgal
