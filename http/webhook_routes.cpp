#include "http/webhook_routes.hpp"

#include <cctype>

#include <spdlog/spdlog.h>

#include "http/git_hosts.hpp"
#include "http/ownership.hpp"
#include "http/pipeline_start.hpp"
#include "http/preview_hooks.hpp"
#include "protocol/bytes.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "protocol/json.hpp"
#include "protocol/push_event.hpp"
#include "protocol/utf8.hpp"
#include "protocol/validation.hpp"

namespace gilgal {

namespace {

using nlohmann::json;

/// Bytes of randomness in a webhook secret (64 hex characters).
constexpr size_t webhook_secret_bytes = 32;

/// "http(s)://HOST" as the client reached us: the Host header when it is a
/// plain host[:port], else the listen address; https when a proxy in front
/// says so (X-Forwarded-Proto).
std::string public_base(const request_context& ctx) {
  auto host = ctx.req.get_header_value("Host");
  bool plain = !host.empty() && host.size() <= 255;
  for (unsigned char c : host)
    plain = plain && (std::isalnum(c) || c == '.' || c == '-' || c == ':' || c == '['
                      || c == ']');
  if (!plain)
    host = ctx.env.cfg.listen;
  auto proto = ctx.req.get_header_value("X-Forwarded-Proto");
  return (proto == "https" ? "https://" : "http://") + host;
}

json webhook_urls(const request_context& ctx, const std::string& project_id) {
  auto base = public_base(ctx);
  return json{{"url", base + "/hooks/github/" + project_id},
              {"githubUrl", base + "/hooks/github/" + project_id},
              {"gitlabUrl", base + "/hooks/gitlab/" + project_id},
              {"giteaUrl", base + "/hooks/gitea/" + project_id},
              {"contentType", "application/json"}};
}

caf::error create_webhook(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("id"));
  if (!p)
    return std::move(p.error());
  auto secret = random_hex(webhook_secret_bytes);
  if (auto res = ctx.db().set_webhook_secret(p->id, secret); !res)
    return std::move(res.error());
  spdlog::info("webhook secret of project {} (re)generated", p->id);
  auto body = webhook_urls(ctx, p->id);
  body["secret"] = secret;
  ctx.reply(201, body);
  return {};
}

caf::error get_webhook(request_context& ctx) {
  auto p = owned_project(ctx, ctx.param("id"));
  if (!p)
    return std::move(p.error());
  auto secret = ctx.db().find_webhook_secret(p->id);
  if (!secret && code_of(secret.error()) != errc::not_found)
    return std::move(secret.error());
  auto body = webhook_urls(ctx, p->id);
  body["configured"] = static_cast<bool>(secret);
  ctx.reply(200, body);
  return {};
}

/// Client text as it may appear in an answer or a log line.
std::string shown(const std::string& text) {
  auto out = sanitize_log_text(text.substr(0, 100));
  return text.size() > 100 ? out + "..." : out;
}

/// Every live environment of a project (pages of at most max_page_limit).
caf::expected<std::vector<environment>> all_environments(store& db,
                                                         const std::string& project_id) {
  std::vector<environment> out;
  for (page_request req{1, max_page_limit};; ++req.page) {
    auto page = db.list_environments(project_id, req);
    if (!page)
      return std::move(page.error());
    out.insert(out.end(), page->items.begin(), page->items.end());
    if (!page->has_more())
      return out;
  }
}

/// A push: the deployments of every environment that deploys its branch.
caf::error handle_push(request_context& ctx, const git_host& host, const project& p,
                       const std::string& delivery_id) {
  if (auto type = ctx.req.get_header_value("Content-Type");
      type.rfind("application/json", 0) != 0)
    return make_error(errc::invalid_argument,
                      "Content-Type: webhook payloads must be application/json");
  auto body = parse_json_object(ctx.req.body);
  if (!body)
    return std::move(body.error());
  auto ev = parse_push_event(*body);
  if (!ev)
    return std::move(ev.error());
  json answer{{"event", hook_event::push},
              {"deliveryId", delivery_id},
              {"ref", shown(ev->ref)},
              {"deployments", json::array()}};
  if (!ev->deploys()) {
    answer["message"] = ev->deletes_ref ? "the push deletes " + shown(ev->ref) + "; nothing deployed"
                                        : shown(ev->ref) + " is not a branch; nothing deployed";
    ctx.reply(200, answer);
    return {};
  }
  answer["branch"] = ev->branch;
  answer["commitSha"] = ev->commit_sha;
  auto& manager = ctx.env.services.deployment_manager;
  if (!manager || !ctx.env.sys)
    return make_error(errc::unavailable, "the deployment engine is not running");
  auto envs = all_environments(ctx.db(), p.id);
  if (!envs)
    return std::move(envs.error());
  std::vector<deployment> wanted;
  std::vector<const environment*> targets;
  for (auto& e : *envs) {
    if (!e.auto_deploy || (e.branch.empty() ? p.branch : e.branch) != ev->branch)
      continue;
    deployment d;
    d.project_id = p.id;
    d.environment_id = e.id;
    d.commit_sha = ev->commit_sha;
    d.commit_message = ev->commit_message;
    d.status = deployment_status::pending;
    d.trigger.kind = "webhook";
    d.trigger.provider = host.provider;
    d.trigger.delivery_id = delivery_id;
    wanted.push_back(std::move(d));
    targets.push_back(&e);
  }
  webhook_delivery record;
  record.project_id = p.id;
  record.provider = host.provider;
  record.delivery_id = delivery_id;
  record.event = hook_event::push;
  auto created = ctx.db().record_webhook_delivery(record, wanted);
  if (!created) {
    if (code_of(created.error()) != errc::conflict)
      return std::move(created.error());
    answer["duplicate"] = true;
    answer["message"] = "delivery " + delivery_id + " was already received; nothing deployed";
    ctx.reply(200, answer);
    return {};
  }
  for (size_t i = 0; i < created->size(); ++i) {
    auto& d = (*created)[i];
    if (auto err = start_pipeline(ctx, d, p, *targets[i]))
      spdlog::error("webhook deployment {} of project {}: {}", d.id, p.id, message_of(err));
    else
      spdlog::info("deployment {} of project {} queued by {} delivery {}", d.id, p.id,
                   host.provider, delivery_id);
    answer["deployments"].push_back(to_json(d));
  }
  if (created->empty())
    answer["message"] = "no environment deploys " + ev->branch + " automatically";
  ctx.reply(200, answer);
  return {};
}

caf::error receive_hook(request_context& ctx, const git_host& host) {
  if (ctx.req.body.size() > max_webhook_body_bytes)
    return make_error(errc::payload_too_large, "webhook body exceeds "
                                                 + std::to_string(max_webhook_body_bytes)
                                                 + " bytes");
  if (!ctx.env.services.db)
    return make_error(errc::unavailable, "the store is not available");
  auto id = ctx.param("projectId");
  auto no_hook = [&] { return make_error(errc::not_found, "no webhook here"); };
  if (!is_uuid(id))
    return no_hook();
  auto secret = ctx.db().find_webhook_secret(id);
  if (!secret)
    return code_of(secret.error()) == errc::not_found ? no_hook() : std::move(secret.error());
  if (!host.signed_with(ctx.req, *secret)) {
    spdlog::warn("{} webhook for project {}: signature missing or wrong; request refused",
                 host.provider, id);
    return make_error(errc::unauthorized,
                      host.provider == std::string{"gitlab"}
                        ? "X-Gitlab-Token does not match the project's webhook secret"
                        : "signature missing or does not match the project's webhook secret");
  }
  auto event = host.event(ctx.req);
  if (event == hook_event::ping) {
    ctx.reply(200, {{"event", "ping"}, {"message", "pong"}});
    return {};
  }
  if (event != hook_event::push && event != hook_event::pull_request) {
    ctx.reply(200, {{"event", shown(event)},
                    {"deployments", json::array()},
                    {"message", "only push and pull request events deploy; event ignored"}});
    return {};
  }
  auto delivery_id = host.delivery_id(ctx.req);
  if (delivery_id.empty()) // a redelivery carries the same body
    delivery_id = "sha256:" + sha256_hex(ctx.req.body);
  else if (auto err = validate_idempotency_key("delivery id", delivery_id))
    return err;
  auto p = ctx.db().find_project(id);
  if (!p)
    return code_of(p.error()) == errc::not_found ? no_hook() : std::move(p.error());
  if (event == hook_event::pull_request)
    return handle_pull_request(ctx, host, *p, delivery_id);
  return handle_push(ctx, host, *p, delivery_id);
}

} // namespace

void add_webhook_routes(router& r) {
  r.add("POST", "/api/projects/:id/webhook", create_webhook);
  r.add("GET", "/api/projects/:id/webhook", get_webhook);
  for (auto provider : {"github", "gitlab", "gitea"}) {
    auto host = find_git_host(provider);
    r.add("POST", std::string{"/hooks/"} + provider + "/:projectId",
          [host](request_context& ctx) { return receive_hook(ctx, *host); }, false);
  }
}

} // namespace gilgal
