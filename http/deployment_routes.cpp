#include "http/deployment_routes.hpp"

#include <thread>

#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "http/deployment_access.hpp"
#include "http/ownership.hpp"
#include "protocol/error.hpp"
#include "protocol/json.hpp"

namespace gilgal {

namespace {

using nlohmann::json;

constexpr auto actor_timeout = std::chrono::seconds(10);
constexpr size_t max_commit_message = 1000;
constexpr size_t max_idempotency_key = 255;

caf::error bad(const std::string& field, const std::string& what) {
  return make_error(errc::invalid_argument, field + ": " + what);
}

bool is_hex(const std::string& s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
      return false;
  return true;
}

/// Reads {environmentId, commitSha?, commitMessage?}; unknown fields are errors.
caf::error read_trigger(const json& body, deployment& d) {
  for (auto& item : body.items())
    if (item.key() != "environmentId" && item.key() != "commitSha"
        && item.key() != "commitMessage")
      return bad(item.key(), "unknown field");
  auto env = body.find("environmentId");
  if (env == body.end())
    return bad("environmentId", "is required");
  if (!env->is_string())
    return bad("environmentId", "must be a string");
  d.environment_id = env->get<std::string>();
  if (auto sha = body.find("commitSha"); sha != body.end() && !sha->is_null()) {
    if (!sha->is_string())
      return bad("commitSha", "must be a string");
    auto s = sha->get<std::string>();
    if (s.size() < 7 || s.size() > 40 || !is_hex(s))
      return bad("commitSha", "must be 7 to 40 hexadecimal characters");
    for (auto& c : s)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    d.commit_sha = s;
  }
  if (auto msg = body.find("commitMessage"); msg != body.end() && !msg->is_null()) {
    if (!msg->is_string())
      return bad("commitMessage", "must be a string");
    auto s = msg->get<std::string>();
    if (s.size() > max_commit_message)
      return bad("commitMessage", "must be at most 1000 bytes");
    for (unsigned char c : s)
      if (c < 0x20 && c != '\t')
        return bad("commitMessage", "must not contain control characters");
    d.commit_message = s;
  }
  return {};
}

caf::expected<std::string> idempotency_key(const request_context& ctx) {
  if (!ctx.req.has_header("Idempotency-Key"))
    return std::string{};
  auto key = ctx.req.get_header_value("Idempotency-Key");
  if (key.empty() || key.size() > max_idempotency_key)
    return bad("Idempotency-Key", "must be 1 to 255 characters");
  for (unsigned char c : key)
    if (c < 0x21 || c > 0x7e)
      return bad("Idempotency-Key", "must be printable ASCII without spaces");
  return key;
}

/// Hands a stored pending deployment to the manager. If that fails, the
/// deployment is ended as failed, so that it never stays pending.
caf::error start_pipeline(request_context& ctx, deployment& d, const project& p,
                          const environment& e) {
  auto& manager = ctx.env.services.deployment_manager;
  caf::error failure;
  if (!manager || !ctx.env.sys) {
    failure = make_error(errc::unavailable, "the deployment engine is not running");
  } else {
    caf::scoped_actor self{*ctx.env.sys};
    self->request(manager, actor_timeout, deploy_atom::value, d, p, e)
      .receive([](bool) {}, [&](caf::error& err) { failure = std::move(err); });
  }
  if (!failure)
    return {};
  d.status = status::failed;
  d.error_message = "could not start the pipeline: " + message_of(failure);
  ctx.db().update_deployment(d);
  return make_error(errc::unavailable, d.error_message);
}

caf::error create_deployment(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("projectId"));
  if (!p)
    return std::move(p.error());
  auto body = ctx.json_body();
  if (!body)
    return std::move(body.error());
  deployment d;
  if (auto err = read_trigger(*body, d))
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
  d.status = status::pending;
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
  if (d->status == status::pending)
    if (auto& manager = ctx.env.services.deployment_manager; manager && ctx.env.sys) {
      caf::scoped_actor self{*ctx.env.sys};
      self->request(manager, actor_timeout, queue_atom::value, d->id)
        .receive([&](int64_t pos) { body["queuePosition"] = pos > 0 ? json(pos) : json(nullptr); },
                 [](caf::error&) {});
    }
  ctx.reply(200, body);
  return {};
}

/// Waits (bounded) until the deployment reaches a terminal status.
caf::expected<deployment> await_end(request_context& ctx, const std::string& id,
                                    std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto d = ctx.db().find_deployment(id);
    if (!d || is_terminal(d->status))
      return d;
    if (std::chrono::steady_clock::now() > deadline)
      return make_error(errc::timeout, "deployment " + id + " did not finish in time; follow "
                                         "GET /api/deployments/" + id);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

/// Cancels a pending or building deployment: its actor exits with
/// user_shutdown, which stops its builder and runner through their links.
caf::error cancel_deployment(request_context& ctx) {
  auto d = owned_deployment(ctx, ctx.param("id"));
  if (!d)
    return std::move(d.error());
  if (is_terminal(d->status))
    return make_error(errc::conflict, "deployment already finished with status " + d->status
                                        + "; only pending or building deployments can be "
                                          "cancelled");
  bool running = false;
  if (auto& manager = ctx.env.services.deployment_manager; manager && ctx.env.sys) {
    caf::scoped_actor self{*ctx.env.sys};
    self->request(manager, actor_timeout, cancel_atom::value, d->id)
      .receive([&](bool r) { running = r; }, [](caf::error&) {});
  }
  if (running) {
    // The deployment actor records "cancelled" as it exits; wait for it (bounded).
    if (auto now = await_end(ctx, d->id, std::chrono::seconds(5)); now)
      d = now;
  }
  if (!is_terminal(d->status)) {
    // No actor owns it (e.g. it never started): end it here.
    d->status = status::cancelled;
    d->error_message = "cancelled by user";
    if (auto res = ctx.db().update_deployment(*d); !res)
      return std::move(res.error());
  }
  if (d->status != status::cancelled)
    return make_error(errc::conflict, "deployment finished with status " + d->status
                                        + " before it could be cancelled");
  ctx.reply(200, {{"message", "Deployment cancelled"}, {"id", d->id}, {"status", d->status}});
  return {};
}

/// The seed's rollback: the newest successful deployment of the same
/// environment created before :id is brought back from its retained image as a
/// new deployment of kind "rollback"; once it is healthy, the current
/// container is stopped. Answers when the rollback has finished.
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
  d.kind = "rollback";
  d.rollback_of = target->id;
  d.image_name = target->image_name;
  d.run_node = target->run_node; // the image is retained where the target ran
  d.commit_sha = target->commit_sha;
  d.commit_message = "Rollback to " + target->id.substr(0, 8)
                     + (target->commit_message.empty() ? "" : ": " + target->commit_message);
  d.status = status::pending;
  auto created = ctx.db().create_deployment(d);
  if (!created)
    return std::move(created.error());
  if (auto err = start_pipeline(ctx, *created, p, *e))
    return err;
  auto limit = std::chrono::seconds(ctx.env.cfg.health_check_timeout_seconds + 120);
  auto end = await_end(ctx, created->id, limit);
  if (!end)
    return std::move(end.error());
  if (end->status != status::success)
    return make_error(errc::run_failed, "rollback " + end->id + " " + end->status + ": "
                                          + end->error_message);
  ctx.reply(200, {{"id", target->id},
                  {"status", end->status},
                  {"message", "Rolled back to previous deployment"},
                  {"rollbackDeploymentId", end->id},
                  {"deployment", to_json(*end)}});
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
