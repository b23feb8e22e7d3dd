// What a route handler sees: the request, the response to fill, the edge's
// services and settings, the path parameters and the authenticated user.
// Handlers run on the HTTP worker threads (the edge's dedicated pool), so they
// may call the blocking store directly.
#pragma once

#include <functional>
#include <map>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "http/auth_cache.hpp"
#include "http/follower_slots.hpp"
#include "http/http_edge.hpp"
#include "http/served_environments.hpp"
#include "http/view_cache.hpp"
#include "protocol/model.hpp"

namespace gilgal {

/// Everything the edge's handlers share; immutable after the edge starts
/// (the objects behind the pointers synchronise themselves).
struct edge_env {
  settings cfg;
  http_services services;
  caf::actor_system* sys = nullptr;
  bool loopback_only = true; // cfg.listen is a loopback address
  std::shared_ptr<token_cache> tokens = std::make_shared<token_cache>();
  std::shared_ptr<follower_slots> followers;
  /// What the proxy serves of every environment (one view per write epoch).
  std::shared_ptr<view_cache<served_map>> served = std::make_shared<view_cache<served_map>>(1);
  /// Rendered pages of environment lists, by project and page.
  std::shared_ptr<view_cache<owned_view>> environment_pages =
    std::make_shared<view_cache<owned_view>>(64);
};

class request_context {
public:
  request_context(const httplib::Request& req, httplib::Response& res, const edge_env& env)
    : req(req), res(res), env(env) {
  }

  const httplib::Request& req;
  httplib::Response& res;
  const edge_env& env;
  std::map<std::string, std::string> params; // ":id" in the pattern -> params["id"]
  std::string user_id;                       // empty on unauthenticated routes

  /// The path parameter `name` (empty if the pattern has none of that name).
  const std::string& param(const std::string& name) const;

  /// The store; callers have been routed only when it is present.
  store& db() const {
    return *env.services.db;
  }

  /// The body as a JSON object (errc::invalid_argument naming "body" otherwise).
  caf::expected<nlohmann::json> json_body() const;

  /// ?page=&limit= (errc::invalid_argument naming the parameter).
  caf::expected<page_request> page() const;

  /// Sets status and a JSON body.
  void reply(int status, const nlohmann::json& body);

  /// Sets status and a body that is already JSON text.
  void reply_text(int status, std::string json_text);

  /// Sets status with an empty body (204).
  void reply_empty(int status);
};

/// A route handler: fills ctx.res and returns no error, or returns the error
/// that the edge turns into the JSON error response (http/http_status.hpp).
using route_handler = std::function<caf::error(request_context& ctx)>;

} // namespace gilgal
