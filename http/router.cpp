#include "http/router.hpp"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "http/auth.hpp"
#include "http/http_status.hpp"

namespace gilgal {

namespace {

/// "/a/b/c" -> {"a", "b", "c"}; empty segments are kept, so "/a//b" and "/a/"
/// never match a pattern without them.
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  if (path.empty() || path.front() != '/')
    return out;
  size_t start = 1;
  while (true) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) {
      out.push_back(path.substr(start));
      return out;
    }
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

bool match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
           std::map<std::string, std::string>* params) {
  if (pattern.size() != path.size())
    return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    auto& p = pattern[i];
    if (!p.empty() && p.front() == ':') {
      if (path[i].empty())
        return false;
      if (params != nullptr)
        (*params)[p.substr(1)] = path[i];
    } else if (p != path[i]) {
      return false;
    }
  }
  return true;
}

} // namespace

router& router::add(std::string method, std::string pattern, route_handler handler,
                    bool authenticated) {
  auto segments = split_path(pattern);
  entries_.push_back(entry{route_info{std::move(method), std::move(pattern), authenticated},
                           std::move(segments), std::move(handler)});
  return *this;
}

std::vector<route_info> router::routes() const {
  std::vector<route_info> out;
  for (auto& e : entries_)
    out.push_back(e.info);
  return out;
}

void router::dispatch(const httplib::Request& req, httplib::Response& res,
                      const edge_env& env) const {
  try {
    auto path = split_path(req.path);
    auto method = req.method == "HEAD" ? std::string{"GET"} : req.method;
    const entry* found = nullptr;
    std::set<std::string> allowed;
    for (auto& e : entries_) {
      if (!match(e.segments, path, nullptr))
        continue;
      allowed.insert(e.info.method);
      if (e.info.method == method && found == nullptr)
        found = &e;
    }
    if (found == nullptr) {
      if (allowed.empty()) {
        write_error(res, errc::not_found, "no route for " + req.path);
        return;
      }
      if (allowed.count("GET") > 0)
        allowed.insert("HEAD");
      std::string allow;
      for (auto& m : allowed)
        allow += (allow.empty() ? "" : ", ") + m;
      res.set_header("Allow", allow);
      write_error(res, errc::method_not_allowed,
                  "method " + req.method + " not allowed here; allowed: " + allow);
      return;
    }
    request_context ctx{req, res, env};
    match(found->segments, path, &ctx.params);
    if (found->info.authenticated) {
      if (!env.services.db) {
        write_error(res, errc::unavailable, "the store is not available");
        return;
      }
      auto user = authenticate(ctx.db(), *env.tokens, req.get_header_value("Authorization"));
      if (!user) {
        if (code_of(user.error()) == errc::unauthorized)
          res.set_header("WWW-Authenticate", "Bearer");
        write_error(res, user.error());
        return;
      }
      ctx.user_id = std::move(*user);
    }
    if (auto err = found->handler(ctx))
      write_error(res, err);
  } catch (const std::exception& e) {
    res.headers.clear();
    write_error(res, errc::internal, std::string{"unhandled exception: "} + e.what());
  } catch (...) {
    res.headers.clear();
    write_error(res, errc::internal, "unhandled exception of unknown type");
  }
}

} // namespace gilgal
