#include "http/preview_hooks.hpp"

#include <spdlog/spdlog.h>

#include "http/environment_routes.hpp"
#include "http/pipeline_start.hpp"
#include "protocol/error.hpp"
#include "protocol/json.hpp"
#include "protocol/model.hpp"

namespace gilgal {

namespace {

using nlohmann::json;

std::string preview_name(int64_t number) {
  return "pr-" + std::to_string(number);
}

/// The environment as the answer shows it (variable values masked: the
/// answer lands in the git host's delivery log).
caf::expected<json> preview_json(request_context& ctx, const environment& e) {
  auto views = environments_json(ctx, {e}, false);
  if (!views)
    return std::move(views.error());
  return views->front();
}

caf::error deploy_preview(request_context& ctx, const git_host& host, const project& p,
                          const pull_request_event& ev, const std::string& delivery_id,
                          json& answer) {
  auto name = preview_name(ev.number);
  if (!p.previews.enabled) {
    answer["message"] = "previews are off for this project (PATCH /api/projects/" + p.id
                        + " {\"previews\":{\"enabled\":true}}); nothing deployed";
    ctx.reply(200, answer);
    return {};
  }
  if (ev.from_fork) {
    answer["message"] = "pull request " + std::to_string(ev.number)
                        + " comes from a fork: its code gets no preview (it would run with "
                          "the base environment's variables); nothing deployed";
    ctx.reply(200, answer);
    return {};
  }
  if (!ctx.env.services.deployment_manager || !ctx.env.sys)
    return make_error(errc::unavailable, "the deployment engine is not running");
  preview_request req;
  req.project_id = p.id;
  req.name = name;
  if (!p.previews.domain.empty())
    req.domain = name + "." + p.previews.domain;
  req.source.pull_request = ev.number;
  req.source.provider = host.provider;
  req.source.branch = ev.head_branch;
  req.base_environment_id = p.previews.base_environment_id;
  req.max_previews = p.previews.max_previews;
  req.wanted.commit_sha = ev.head_sha;
  req.wanted.status = deployment_status::pending;
  req.wanted.trigger.kind = "webhook";
  req.wanted.trigger.provider = host.provider;
  req.wanted.trigger.delivery_id = delivery_id;
  webhook_delivery record;
  record.project_id = p.id;
  record.provider = host.provider;
  record.delivery_id = delivery_id;
  record.event = hook_event::pull_request;
  auto opened = ctx.db().open_preview(record, req);
  if (!opened)
    return std::move(opened.error());
  switch (opened->outcome) {
    case preview_opening::duplicate:
      answer["duplicate"] = true;
      answer["message"] = "delivery " + delivery_id + " was already received; nothing deployed";
      ctx.reply(200, answer);
      return {};
    case preview_opening::over_limit:
      spdlog::info("pull request {} of project {}: no preview, {} of {} are open",
                   ev.number, p.id, opened->open_previews, p.previews.max_previews);
      return make_error(errc::conflict,
                        "pull request " + std::to_string(ev.number) + " gets no preview: "
                          + std::to_string(opened->open_previews) + " previews are open and "
                          + "previews.maxPreviews is " + std::to_string(p.previews.max_previews)
                          + "; close one (or raise maxPreviews) and redeliver this event");
    case preview_opening::up_to_date: {
      auto env = preview_json(ctx, opened->env);
      if (!env)
        return std::move(env.error());
      answer["environment"] = std::move(*env);
      answer["message"] = name + " already runs (or is deploying) commit " + ev.head_sha
                          + "; nothing deployed";
      ctx.reply(200, answer);
      return {};
    }
    case preview_opening::deployed:
      break;
  }
  auto& d = opened->dep;
  auto& e = opened->env;
  if (opened->created) {
    routes_changed(ctx); // its hosts answer Gilgal's 503 page until it is live
    spdlog::info("preview {} ({}) of project {} created for {} pull request {}", name, e.id, p.id,
                 host.provider, ev.number);
  }
  // Git falls back to the pull request's branch when the commit alone cannot be fetched.
  auto source = p;
  if (!e.preview.branch.empty())
    source.branch = e.preview.branch;
  if (auto err = start_pipeline(ctx, d, source, e))
    spdlog::error("preview deployment {} of project {}: {}", d.id, p.id, message_of(err));
  else
    spdlog::info("deployment {} of preview {} of project {} queued by {} delivery {}", d.id, name,
                 p.id, host.provider, delivery_id);
  auto env = preview_json(ctx, e);
  if (!env)
    return std::move(env.error());
  answer["created"] = opened->created;
  answer["environment"] = std::move(*env);
  answer["deployments"].push_back(to_json(d));
  ctx.reply(200, answer);
  return {};
}

caf::error close_preview(request_context& ctx, const git_host& host, const project& p,
                         const pull_request_event& ev, const std::string& delivery_id,
                         json& answer) {
  auto name = preview_name(ev.number);
  auto preview = ctx.db().find_preview(p.id, ev.number);
  if (!preview && code_of(preview.error()) != errc::not_found)
    return std::move(preview.error());
  if (preview) {
    if (auto err = remove_environment(removal_services(ctx), preview->id);
        err && code_of(err) != errc::not_found)
      return err;
    spdlog::info("preview {} ({}) of project {} removed: {} pull request {} {}", name,
                 preview->id, p.id, host.provider, ev.number, ev.action);
    answer["removed"] = {{"environmentId", preview->id}, {"name", name}};
  } else {
    answer["removed"] = nullptr;
    answer["message"] = "pull request " + std::to_string(ev.number) + " has no preview";
  }
  // For the record (a close is idempotent: a redelivery finds nothing to remove).
  webhook_delivery record;
  record.project_id = p.id;
  record.provider = host.provider;
  record.delivery_id = delivery_id;
  record.event = hook_event::pull_request;
  if (auto res = ctx.db().record_webhook_delivery(record, {}); !res) {
    if (code_of(res.error()) != errc::conflict)
      return std::move(res.error());
    answer["duplicate"] = true;
  }
  ctx.reply(200, answer);
  return {};
}

} // namespace

caf::error handle_pull_request(request_context& ctx, const git_host& host, const project& p,
                               const std::string& delivery_id) {
  if (auto type = ctx.req.get_header_value("Content-Type");
      type.rfind("application/json", 0) != 0)
    return make_error(errc::invalid_argument,
                      "Content-Type: webhook payloads must be application/json");
  auto body = parse_json_object(ctx.req.body);
  if (!body)
    return std::move(body.error());
  auto ev = host.pull_request(*body);
  if (!ev)
    return std::move(ev.error());
  json answer{{"event", hook_event::pull_request},
              {"deliveryId", delivery_id},
              {"action", ev->action},
              {"pullRequest", ev->number},
              {"deployments", json::array()}};
  switch (ev->kind) {
    case pull_request_event::deploy:
      answer["commitSha"] = ev->head_sha;
      return deploy_preview(ctx, host, p, *ev, delivery_id, answer);
    case pull_request_event::close:
      return close_preview(ctx, host, p, *ev, delivery_id, answer);
    case pull_request_event::ignored:
      break;
  }
  answer["message"] = "action '" + ev->action + "' changes no preview; event ignored";
  ctx.reply(200, answer);
  return {};
}

} // namespace gilgal
