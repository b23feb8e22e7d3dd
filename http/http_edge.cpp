#include "http/http_edge.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include <caf/all.hpp>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include "http/api_routes.hpp"
#include "http/http_edge_server.hpp"
#include "http/http_status.hpp"
#include "http/request_context.hpp"
#include "http/worker_pool.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

/// Worker threads of the server beyond those the log followers (SSE) may hold:
/// the pool in which handlers (and their store calls) run.
constexpr size_t spare_worker_threads = 64;

/// Start of the request being handled on this worker thread (for the log).
thread_local std::optional<std::chrono::steady_clock::time_point> request_start;

/// The path as it may appear in a log line: bounded, control characters replaced.
std::string loggable(const std::string& path) {
  std::string out;
  for (unsigned char c : path.substr(0, 200))
    out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  return path.size() > 200 ? out + "..." : out;
}

std::string default_message(int status, size_t max_body) {
  switch (status) {
    case 400: return "malformed HTTP request";
    case 404: return "not found";
    case 413: return "request body exceeds " + std::to_string(max_body) + " bytes";
    case 414: return "request URI too long";
    case 431: return "request headers too large";
    default: return "HTTP error " + std::to_string(status);
  }
}

/// Owns the running server: stops it and joins its thread when destroyed.
struct running_server {
  std::shared_ptr<edge_server> server;
  std::thread thread;
  std::mutex mtx;
  /// Idempotent: stops the server and joins its listening thread.
  void stop() {
    std::lock_guard<std::mutex> guard{mtx};
    if (server) {
      server->stop();
      server->close_connections();
    }
    if (thread.joinable())
      thread.join();
  }
  ~running_server() {
    stop();
  }
};

struct http_edge_state {
  static inline const char* name = "http_edge";
  std::shared_ptr<running_server> running;
  int port = 0;
};

caf::behavior http_edge(caf::stateful_actor<http_edge_state>* self,
                        std::shared_ptr<running_server> running, int port) {
  self->state.port = port;
  self->state.running = running;
  // Runs when the actor exits for any reason: stop serving, join the thread.
  self->attach_functor([running] { running->stop(); });
  return {
    // The bound port (useful when listening on port 0).
    [self](caf::get_atom) { return self->state.port; },
  };
}

void configure(httplib::Server& server, std::shared_ptr<const edge_env> env) {
  auto routes = std::make_shared<const router>(make_api_router());
  auto workers = spare_worker_threads + static_cast<size_t>(env->cfg.max_followers);
  server.new_task_queue = [workers] { return new worker_pool(workers); };
  server.set_payload_max_length(env->cfg.max_body_bytes);
  server.set_tcp_nodelay(true); // small JSON answers must not wait for Nagle
  server.set_keep_alive_max_count(100);
  auto handle = [env, routes](const httplib::Request& req, httplib::Response& res) {
    routes->dispatch(req, res, *env);
  };
  // Every method goes to our router, which answers 404 / 405 itself.
  server.Get(".*", handle);
  server.Post(".*", handle);
  server.Put(".*", handle);
  server.Patch(".*", handle);
  server.Delete(".*", handle);
  server.Options(".*", handle);
  server.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    request_start = std::chrono::steady_clock::now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Errors httplib produces itself (413, 400, 414, ...) get our JSON body.
  auto max_body = env->cfg.max_body_bytes;
  server.set_error_handler(httplib::Server::HandlerWithResponse(
    [max_body](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty())
      return httplib::Server::HandlerResponse::Unhandled; // already ours
    auto status = res.status;
    write_error(res, errc_of_http_status(status), default_message(status, max_body));
    res.status = status;
    return httplib::Server::HandlerResponse::Handled;
  }));
  server.set_exception_handler(
    [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown exception";
      try {
        if (ep)
          std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      write_error(res, errc::internal, "exception outside the router: " + what);
    });
  // One line per request; never headers (tokens) nor bodies (variable values).
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    double ms = 0;
    if (request_start) {
      ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now()
                                                     - *request_start)
             .count();
      request_start.reset();
    }
    spdlog::info("{} {} {} {:.1f}ms", loggable(req.method), loggable(req.path), res.status,
                 ms);
  });
}

} // namespace

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1")
    return true;
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

caf::expected<caf::actor> spawn_http_edge(caf::actor_system& sys, const settings& cfg,
                                          http_services services) {
  auto colon = cfg.listen.rfind(':');
  if (colon == std::string::npos)
    return make_error(errc::invalid_argument, "listen: expected HOST:PORT, got " + cfg.listen);
  auto host = cfg.listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(cfg.listen.substr(colon + 1), &used);
    if (used != cfg.listen.size() - colon - 1 || port < 0 || port > 65535)
      throw std::out_of_range("port");
  } catch (const std::exception&) {
    return make_error(errc::invalid_argument, "listen: bad port in " + cfg.listen);
  }
  auto env = std::make_shared<edge_env>();
  env->cfg = cfg;
  env->services = std::move(services);
  env->sys = &sys;
  env->loopback_only = is_loopback_host(host);
  env->followers = std::make_shared<follower_slots>(cfg.max_followers_per_user,
                                                    cfg.max_followers);
  if (!env->loopback_only && cfg.metrics_token.empty())
    spdlog::warn("the API listens on {}, not a loopback address: GET /metrics answers 401 "
                 "until a metrics token is set (--metrics-token or GILGAL_METRICS_TOKEN)",
                 host);
  edge_limits limits;
  limits.max_body_bytes = cfg.max_body_bytes;
  auto server = std::make_shared<edge_server>(limits);
  configure(*server, env);
  // SO_REUSEADDR only: SO_REUSEPORT (httplib's default) would let a second
  // server bind the same port silently.
  auto listening = std::make_shared<int>(-1);
  server->set_socket_options([listening](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    *listening = sock;
  });
  if (port == 0) {
    port = server->bind_to_any_port(host);
    if (port < 0)
      return make_error(errc::unavailable, "cannot listen on " + cfg.listen);
  } else if (!server->bind_to_port(host, port)) {
    return make_error(errc::unavailable, "cannot listen on " + cfg.listen);
  }
  // cpp-httplib 0.11 listens with a backlog of 5: in a burst of clients (say,
  // hundreds of log followers reconnecting after a restart) the kernel drops
  // SYNs and each dropped client retries after 1, 3, 7… s. Listening again
  // on the bound socket raises the backlog to the system's maximum.
  if (*listening >= 0 && ::listen(*listening, SOMAXCONN) != 0)
    spdlog::warn("HTTP edge: could not raise the listen backlog: {}", std::strerror(errno));
  // stop() is a no-op until the server runs, so the edge starts only once it
  // does: an early exit of the edge cannot leave the thread serving.
  // cpp-httplib asks for its task queue right after it is marked running.
  auto running_now = std::make_shared<std::promise<void>>();
  auto started = running_now->get_future();
  server->new_task_queue = [make_queue = server->new_task_queue, running_now] {
    running_now->set_value();
    return make_queue();
  };
  auto running = std::make_shared<running_server>();
  running->server = server;
  running->thread = std::thread([server, running_now] {
    server->listen_after_bind();
    try { // it never ran (say the socket broke): stop waiting for it
      running_now->set_value();
    } catch (const std::future_error&) {
    }
  });
  if (started.wait_for(std::chrono::seconds{10}) != std::future_status::ready
      || !server->is_running()) {
    running.reset(); // stops and joins
    return make_error(errc::unavailable, "HTTP server did not start on " + cfg.listen);
  }
  spdlog::info("HTTP edge listening on {}:{}", host, port);
  return sys.spawn(http_edge, std::move(running), port);
}

} // namespace gilgal
