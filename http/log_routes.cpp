#include "http/log_routes.hpp"

#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "http/deployment_access.hpp"
#include "protocol/error.hpp"
#include "protocol/json.hpp"

namespace gilgal {

namespace {

using nlohmann::json;

constexpr int64_t store_batch = 500;
constexpr int64_t whole_log_limit = 1000;
constexpr auto keepalive_interval = std::chrono::seconds(15);

/// Lines are valid UTF-8 since the logger cleans them; lines stored before
/// that may not be, so invalid bytes become U+FFFD here rather than throw.
std::string sse_event(const log_line& l) {
  return "id: " + std::to_string(l.seq) + "\nevent: log\ndata: "
         + to_json(l).dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

/// Where a follower resumes: Last-Event-ID, else ?after=, else 0.
caf::expected<int64_t> resume_point(const request_context& ctx) {
  std::string text;
  const char* field = "Last-Event-ID";
  if (ctx.req.has_header("Last-Event-ID")) {
    text = ctx.req.get_header_value("Last-Event-ID");
  } else if (ctx.req.has_param("after")) {
    text = ctx.req.get_param_value("after");
    field = "after";
  } else {
    return int64_t{0};
  }
  if (text.empty() || text.size() > 18
      || text.find_first_not_of("0123456789") != std::string::npos)
    return make_error(errc::invalid_argument,
                      std::string{field} + ": must be a non-negative integer");
  return std::stoll(text);
}

/// Streams one deployment's log as SSE, on an HTTP worker thread.
class log_follower {
public:
  log_follower(store& db, caf::actor_system* sys, logger_actor logger, std::string id,
               int64_t after)
    : db_(db), sys_(sys), logger_(std::move(logger)), id_(std::move(id)), last_(after) {
  }

  /// Writes everything until the deployment ends or the client leaves.
  bool run(httplib::DataSink& sink) {
    if (!drain_store(sink))
      return false;
    auto d = db_.find_deployment(id_);
    if (!d || is_terminal(d->status) || !logger_ || !sys_)
      return finish(sink, d ? to_string(d->status) : "unknown");
    caf::scoped_actor self{*sys_};
    auto me = caf::actor_cast<caf::actor>(self);
    bool closed = false;
    bool ok = true;
    self->request(logger_, std::chrono::seconds(10), subscribe_atom::value, id_, last_, me)
      .receive(
        [&](std::vector<log_line>& held, bool is_closed) {
          for (auto& l : held)
            ok = ok && write(sink, l);
          closed = is_closed;
        },
        [&](caf::error&) { closed = true; });
    // It may have ended between the status check and the subscription.
    if (!closed)
      if (auto again = db_.find_deployment(id_); again && is_terminal(again->status))
        closed = true;
    while (ok && !closed) {
      self->receive(
        [&](log_atom, const log_line& l) {
          if (l.seq > last_ + 1) // lines we missed are in the store by now or soon
            ok = drain_store(sink);
          ok = ok && write(sink, l);
        },
        [&](close_atom, const std::string&) { closed = true; },
        caf::after(keepalive_interval) >> [&] {
          ok = sink.is_writable() && sink.write(": keepalive\n\n", 13);
        });
    }
    anon_send(logger_, unsub_atom::value, id_, me);
    if (!ok)
      return false;
    // Lines written before the close may still be on their way to the store.
    self->request(logger_, std::chrono::seconds(10), flush_atom::value)
      .receive([](bool) {}, [](caf::error&) {});
    if (!drain_store(sink))
      return false;
    // The deployment actor closes the log only once its final record is
    // stored: one read gives the final status.
    auto end = db_.find_deployment(id_);
    return finish(sink, end ? to_string(end->status) : "unknown");
  }

  const std::string& id() const noexcept {
    return id_;
  }

private:
  bool write(httplib::DataSink& sink, const log_line& l) {
    if (l.seq <= last_)
      return true;
    auto text = sse_event(l);
    if (!sink.is_writable() || !sink.write(text.data(), text.size()))
      return false;
    last_ = l.seq;
    return true;
  }

  bool drain_store(httplib::DataSink& sink) {
    for (;;) {
      auto lines = db_.logs_after(id_, last_, store_batch);
      if (!lines)
        return false;
      for (auto& l : *lines)
        if (!write(sink, l))
          return false;
      if (static_cast<int64_t>(lines->size()) < store_batch)
        return true;
    }
  }

  /// Ends the stream with the final status as stored ("unknown" if unreadable).
  bool finish(httplib::DataSink& sink, const char* status) {
    auto text = "event: end\ndata: " + json{{"status", status}}.dump() + "\n\n";
    if (!sink.write(text.data(), text.size()))
      return false;
    sink.done();
    return true;
  }

  store& db_;
  caf::actor_system* sys_;
  logger_actor logger_;
  std::string id_;
  int64_t last_;
};

caf::error get_logs(request_context& ctx) {
  auto d = owned_deployment(ctx, ctx.param("id"));
  if (!d)
    return std::move(d.error());
  auto follow = ctx.req.has_param("follow") ? ctx.req.get_param_value("follow") : "";
  if (follow == "1" || follow == "true") {
    auto after = resume_point(ctx);
    if (!after)
      return std::move(after.error());
    // Each follower holds a worker thread while it streams: capped.
    auto admitted = ctx.env.followers->acquire(ctx.user_id);
    if (!admitted) {
      ctx.res.set_header("Retry-After", "10");
      return std::move(admitted.error());
    }
    std::shared_ptr<follower_slots::slot> slot = std::move(*admitted);
    auto follower = std::make_shared<log_follower>(ctx.db(), ctx.env.sys,
                                                   ctx.env.services.logger, d->id, *after);
    ctx.res.set_header("Cache-Control", "no-cache");
    ctx.res.set_header("X-Accel-Buffering", "no");
    ctx.res.set_chunked_content_provider(
      "text/event-stream",
      // The slot is released when the response (holding this provider) goes.
      [follower, slot](size_t, httplib::DataSink& sink) {
        // An exception leaving a content provider terminates the server.
        try {
          return follower->run(sink);
        } catch (const std::exception& e) {
          spdlog::error("log stream of deployment {} ended: {}", follower->id(), e.what());
        } catch (...) {
          spdlog::error("log stream of deployment {} ended by an unknown exception",
                        follower->id());
        }
        return false;
      });
    return {};
  }
  if (!follow.empty() && follow != "0" && follow != "false")
    return make_error(errc::invalid_argument, "follow: must be 1 or 0");
  // Without paging parameters the whole log, as the seed's getDeploymentLogs,
  // up to whole_log_limit lines.
  auto req = ctx.req.has_param("page") || ctx.req.has_param("limit")
               ? ctx.page()
               : caf::expected<page_request>{page_request{1, whole_log_limit}};
  if (!req)
    return std::move(req.error());
  auto result = ctx.db().list_logs(d->id, *req);
  if (!result)
    return std::move(result.error());
  ctx.reply(200, page_to_json(*result, [](const log_line& l) { return to_json(l); }));
  return {};
}

} // namespace

void add_log_routes(router& r) {
  r.add("GET", "/api/deployments/:id/logs", get_logs);
}

} // namespace gilgal
