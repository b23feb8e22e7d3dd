// Routing of the HTTP API: a table of (method, pattern, handler). Patterns are
// '/'-separated literals and ":name" parameters ("/api/projects/:id").
// Adding a route is one line: r.add("GET", "/api/things/:id", get_thing).
//
// Dispatch order: no route matches the path -> 404; the path matches but not
// the method -> 405 with an Allow header; an authenticated route without a
// valid bearer token -> 401; then the handler. Every exception is caught here
// and answered 500 with a generic message.
#pragma once

#include <string>
#include <vector>

#include "http/request_context.hpp"

namespace gilgal {

/// One row of the route table (what docs/openapi.yaml must describe).
struct route_info {
  std::string method;  // "GET", "POST", "PATCH", "DELETE", ...
  std::string pattern; // "/api/projects/:id"
  bool authenticated;
};

class router {
public:
  /// Adds a route. `authenticated` routes require a bearer token.
  router& add(std::string method, std::string pattern, route_handler handler,
              bool authenticated = true);

  /// The route table in registration order.
  std::vector<route_info> routes() const;

  /// Routes one request (see above). Never throws.
  void dispatch(const httplib::Request& req, httplib::Response& res,
                const edge_env& env) const;

private:
  struct entry {
    route_info info;
    std::vector<std::string> segments;
    route_handler handler;
  };
  std::vector<entry> entries_;
};

} // namespace gilgal
