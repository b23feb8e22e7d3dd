// Helpers of the HTTP API tests (header-only: only *_test.cpp files are
// compiled on their own). Every call goes over real HTTP to a real
// `gilgal serve` started by tests/fixtures/gilgal_server.hpp.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/fixtures/gilgal_server.hpp"

namespace gilgal::test {

struct api_response {
  int status = 0; // 0: no response at all (connection error)
  nlohmann::json body; // parsed body; null if empty or not JSON
  std::string raw;
  httplib::Headers headers;

  std::string header(const std::string& name) const {
    auto i = headers.find(name);
    return i == headers.end() ? std::string{} : i->second;
  }

  /// The error message of an error body (empty if none).
  std::string error_message() const {
    if (body.is_object() && body.contains("error") && body["error"].is_object()
        && body["error"].contains("message") && body["error"]["message"].is_string())
      return body["error"]["message"].get<std::string>();
    return {};
  }

  std::string error_code() const {
    if (body.is_object() && body.contains("error") && body["error"].is_object()
        && body["error"].contains("code") && body["error"]["code"].is_string())
      return body["error"]["code"].get<std::string>();
    return {};
  }

  /// True if the body is {"error":{"code","message"}} and the message starts
  /// with "field:" (the field named).
  bool names_field(const std::string& field) const {
    return error_message().rfind(field + ":", 0) == 0;
  }

  /// For failure notes.
  std::string describe() const {
    return std::to_string(status) + " " + raw.substr(0, 300);
  }
};

/// Sends one request. `token` empty: no Authorization header; `raw_auth`
/// given: that exact Authorization value.
inline api_response call(httplib::Client& cli, const std::string& method,
                         const std::string& path, const std::string& token,
                         const std::optional<std::string>& body = std::nullopt,
                         const std::optional<std::string>& raw_auth = std::nullopt) {
  httplib::Request req;
  req.method = method;
  req.path = path;
  if (raw_auth)
    req.headers.emplace("Authorization", *raw_auth);
  else if (!token.empty())
    req.headers.emplace("Authorization", "Bearer " + token);
  if (body) {
    req.body = *body;
    req.headers.emplace("Content-Type", "application/json");
  }
  api_response out;
  auto res = cli.send(req);
  if (!res)
    return out;
  out.status = res->status;
  out.raw = res->body;
  out.headers = res->headers;
  if (!res->body.empty())
    out.body = nlohmann::json::parse(res->body, nullptr, false);
  if (out.body.is_discarded())
    out.body = nullptr;
  return out;
}

inline api_response call(httplib::Client& cli, const std::string& method,
                         const std::string& path, const std::string& token,
                         const nlohmann::json& body) {
  return call(cli, method, path, token, std::optional<std::string>{body.dump()});
}

inline nlohmann::json project_body(const std::string& name) {
  return {{"name", name}, {"repositoryUrl", "https://git.example.com/org/" + name + ".git"}};
}

/// A domain no other environment of this test process has (domains are
/// unique across all environments): app-1.example.com, app-2.example.com ...
inline std::string unique_domain() {
  static int n = 0;
  return "app-" + std::to_string(++n) + ".example.com";
}

inline nlohmann::json environment_body(const std::string& name) {
  return {{"name", name},
          {"type", "production"},
          {"domain", unique_domain()},
          {"environmentVariables", {{"NODE_ENV", "production"}, {"API_KEY", "s3cr3t-value"}}}};
}

/// Creates a project and returns its id (throws on failure).
inline std::string make_project(httplib::Client& cli, const std::string& token,
                                const std::string& name) {
  auto r = call(cli, "POST", "/api/projects", token, project_body(name));
  if (r.status != 201)
    throw std::runtime_error("cannot create project: " + r.describe());
  return r.body["id"].get<std::string>();
}

/// Creates an environment of `project_id` and returns its id (throws on failure).
inline std::string make_environment(httplib::Client& cli, const std::string& token,
                                    const std::string& project_id, const std::string& name) {
  auto r = call(cli, "POST", "/api/projects/" + project_id + "/environments", token,
                environment_body(name));
  if (r.status != 201)
    throw std::runtime_error("cannot create environment: " + r.describe());
  return r.body["id"].get<std::string>();
}

} // namespace gilgal::test

/// CAF_CHECK with a note printed when it fails.
#define CHECK_WHY(cond, what)                                                  \
  do {                                                                         \
    if (cond) {                                                                \
      CAF_CHECK(true);                                                         \
    } else {                                                                   \
      CAF_ERROR(std::string{#cond} + " failed for: " + std::string{what});     \
    }                                                                          \
  } while (false)
