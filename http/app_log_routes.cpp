#include "http/app_log_routes.hpp"

#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "http/follower_slots.hpp"
#include "http/ownership.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "protocol/timeouts.hpp"

namespace gilgal {

namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr int64_t default_tail = 100;
constexpr int64_t max_tail = 10000;
/// Lines of a container that a follow moves on to (the next live deployment's).
constexpr int64_t tail_of_next_container = 1000;

/// Docker's "SECONDS.NANOSECONDS" for an RFC 3339 UTC time with up to nine
/// fraction digits; empty if `text` is not one.
std::string docker_time(const std::string& text) {
  auto dot = text.find('.');
  std::string whole = text;
  std::string fraction;
  if (dot != std::string::npos) {
    auto end = dot + 1;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end])))
      ++end;
    fraction = text.substr(dot + 1, end - dot - 1);
    if (fraction.empty() || fraction.size() > 9)
      return {};
    whole = text.substr(0, dot) + text.substr(end);
  }
  std::chrono::system_clock::time_point t;
  if (text.size() > 64 || !parse_rfc3339(whole, t))
    return {};
  // parse_rfc3339 lets timegm carry a month 13 into the next year: a real
  // date reads back as written (and a year past 2262 overflows the clock).
  if (whole.size() < 19 || to_rfc3339(t).compare(0, 19, whole, 0, 19) != 0)
    return {};
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  if (secs < 0)
    return {};
  fraction.resize(9, '0');
  return std::to_string(secs) + "." + fraction;
}

/// Docker's time one nanosecond after the RFC 3339 `text` (Docker's `since`
/// includes lines stamped at that very moment); empty if it is not one.
std::string docker_time_after(const std::string& text) {
  auto t = docker_time(text);
  if (t.empty())
    return t;
  // "SECONDS.NNNNNNNNN" + 1 ns, carried through the digits.
  for (auto i = t.size(); i-- > 0;) {
    if (t[i] == '.')
      continue;
    if (t[i] != '9') {
      ++t[i];
      return t;
    }
    t[i] = '0';
  }
  return "1" + t;
}

json line_json(const container_log_line& l) {
  return {{"timestamp", l.timestamp}, {"stream", l.stream}, {"message", l.message}};
}

/// The live deployment of the environment (errc::conflict if none).
caf::expected<deployment> live_deployment(store& db, const environment& e) {
  auto live = db.list_successful_deployments(e.id);
  if (!live)
    return live.error();
  if (live->empty() || live->front().container_id.empty())
    return make_error(errc::conflict, "environment " + e.name
                                        + " has no live deployment; deploy it first");
  return live->front();
}

caf::expected<container_log_batch> ask_logs(caf::scoped_actor& self,
                                            const scheduler_actor& nodes,
                                            const std::string& container,
                                            const container_log_query& q) {
  caf::expected<container_log_batch> out{container_log_batch{}};
  auto wait = q.follow_ms > 0 ? caf::timespan{timeouts::edge_log_follow}
                              : caf::timespan{std::chrono::seconds{75}};
  self->request(nodes, wait, logs_atom::value, container, q)
    .receive([&](container_log_batch& b) { out = std::move(b); },
             [&](caf::error& err) { out = std::move(err); });
  if (!out && out.error() == caf::sec::request_timeout)
    return make_error(errc::timeout, "the node running the container did not answer in time");
  return out;
}

/// How long a follower waits for lines or an event before it writes a
/// keepalive comment (a node's follow batch is as long).
constexpr auto keepalive_interval = timeouts::log_follow_batch;

/// Streams the environment's runtime log as SSE on an HTTP worker thread,
/// until the client leaves or the environment is deleted. Nothing is polled:
/// it reads the store for the live deployment at its start and after each
/// event of the environment (environment_events_actor: a deployment went
/// live); in between it waits on the node (a follow batch, which also waits
/// for a stopped container's next start) or on its mailbox for an event.
class app_log_follower {
public:
  app_log_follower(store& db, caf::actor_system& sys, scheduler_actor nodes,
                   environment_events_actor events, environment env,
                   container_log_query first, std::string resume_after)
    : db_(db), sys_(sys), nodes_(std::move(nodes)), events_(std::move(events)),
      env_(std::move(env)), first_(std::move(first)), last_(std::move(resume_after)) {
  }

  bool run(httplib::DataSink& sink) {
    caf::scoped_actor self{sys_};
    // Subscribed before the store is read: no event after the read is missed.
    // The hub monitors this actor: the subscription ends with it.
    bool subscribed = false;
    self->request(events_, timeouts::actor_question, subscribe_atom::value, env_.id,
                  caf::actor_cast<caf::actor>(self))
      .receive([&](bool ok) { subscribed = ok; }, [](caf::error&) {});
    if (!subscribed) {
      spdlog::warn("runtime log stream of environment {}: no subscription to its events",
                   env_.id);
      return false;
    }
    bool first = true;
    for (;;) {
      take_events(self); // those that came while the node was asked
      if (removed_)
        return finish(sink, "the environment was deleted");
      if (look_) {
        look_ = false;
        auto live = live_deployment(db_, env_);
        if (!live) {
          if (auto still = db_.find_environment(env_.id); !still)
            return finish(sink, "the environment was deleted");
          if (!await_event(self, sink))
            return false;
          continue;
        }
        if (live->container_id != container_) {
          bool next_container = !container_.empty();
          container_ = live->container_id;
          if (next_container) {
            // Lines of another container: every one is new to this follower.
            last_.clear();
            first_ = container_log_query{};
            first_.tail = tail_of_next_container;
            first = true;
          }
        }
      }
      container_log_query q;
      if (first) {
        q = first_;
        if (!last_.empty()) { // Last-Event-ID: after that line
          q.tail = -1;
          q.since = docker_time_after(last_);
        }
        // Where following starts while no line has come yet.
        started_ = !q.since.empty() ? q.since : docker_time(now_rfc3339());
      } else {
        q.tail = -1;
        q.since = last_.empty() ? started_ : docker_time_after(last_);
        q.follow_ms = std::chrono::duration_cast<milliseconds>(timeouts::log_follow_batch).count();
      }
      auto batch = ask_logs(self, nodes_, container_, q);
      if (!batch) {
        // The container is gone: what to read next comes as an event (a
        // deployment went live, the environment went). Its node did not
        // answer: it is asked again after one wait.
        bool gone = code_of(batch.error()) == errc::not_found;
        if (gone && !db_.find_environment(env_.id)) // deleted before the subscription
          return finish(sink, "the environment was deleted");
        do {
          if (!await_event(self, sink))
            return false;
        } while (gone && !look_ && !removed_);
        continue;
      }
      first = false;
      bool wrote = false;
      for (auto& l : batch->lines) {
        if (!last_.empty() && l.timestamp <= last_)
          continue; // the resume point itself, or a line sent before
        if (!write(sink, l))
          return false;
        wrote = true;
      }
      // No line within a batch (the node waited for lines, or for a stopped
      // container to start): the client hears the stream is alive.
      if (!wrote && !keepalive(sink))
        return false;
    }
  }

  const std::string& environment_id() const noexcept {
    return env_.id;
  }

private:
  /// Takes the events already in the mailbox, without waiting.
  void take_events(caf::scoped_actor& self) {
    for (bool more = true; more;)
      self->receive([&](live_atom, const std::string&) { look_ = true; },
                    [&](remove_atom, const std::string&) { removed_ = true; },
                    caf::after(std::chrono::seconds{0}) >> [&] { more = false; });
  }

  /// Waits for one event of the environment, or writes a keepalive comment
  /// when none came within keepalive_interval; false if the client has left.
  bool await_event(caf::scoped_actor& self, httplib::DataSink& sink) {
    bool ok = sink.is_writable();
    if (!ok)
      return false;
    self->receive([&](live_atom, const std::string&) { look_ = true; },
                  [&](remove_atom, const std::string&) { removed_ = true; },
                  caf::after(keepalive_interval) >> [&] { ok = keepalive(sink); });
    return ok;
  }

  static bool keepalive(httplib::DataSink& sink) {
    return sink.is_writable() && sink.write(": keepalive\n\n", 13);
  }

  bool write(httplib::DataSink& sink, const container_log_line& l) {
    auto body = line_json(l);
    body["containerId"] = container_;
    auto text = "id: " + l.timestamp + "\nevent: log\ndata: "
                + body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
    if (!sink.is_writable() || !sink.write(text.data(), text.size()))
      return false;
    if (!l.timestamp.empty())
      last_ = l.timestamp;
    return true;
  }

  bool finish(httplib::DataSink& sink, const std::string& why) {
    auto text = "event: end\ndata: " + json{{"reason", why}}.dump() + "\n\n";
    if (!sink.write(text.data(), text.size()))
      return false;
    sink.done();
    return true;
  }

  store& db_;
  caf::actor_system& sys_;
  scheduler_actor nodes_;
  environment_events_actor events_;
  environment env_;
  container_log_query first_; // the request's tail and since
  std::string last_;          // timestamp of the last line sent (Docker's RFC 3339 nano)
  std::string started_;       // Docker time of the follow's start (no line yet)
  std::string container_;
  bool look_ = true;     // read the store for the live deployment
  bool removed_ = false; // the environment was deleted
};

caf::expected<container_log_query> log_query_of(const request_context& ctx) {
  container_log_query q;
  q.tail = default_tail;
  if (ctx.req.has_param("tail")) {
    auto text = ctx.req.get_param_value("tail");
    if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos
        || std::stoll(text) > max_tail)
      return make_error(errc::invalid_argument, "tail: must be an integer from 0 to "
                                                  + std::to_string(max_tail));
    q.tail = std::stoll(text);
  }
  if (ctx.req.has_param("since")) {
    q.since = docker_time(ctx.req.get_param_value("since"));
    if (q.since.empty())
      return make_error(errc::invalid_argument,
                        "since: must be an RFC 3339 UTC time such as 2026-01-02T03:04:05Z");
  }
  return q;
}

caf::error get_app_logs(request_context& ctx) {
  auto e = owned_environment(ctx, ctx.param("id"));
  if (!e)
    return std::move(e.error());
  auto query = log_query_of(ctx);
  if (!query)
    return std::move(query.error());
  auto follow = ctx.req.has_param("follow") ? ctx.req.get_param_value("follow") : "";
  bool following = follow == "1" || follow == "true";
  if (!following && !follow.empty() && follow != "0" && follow != "false")
    return make_error(errc::invalid_argument, "follow: must be 1 or 0");
  std::string resume;
  if (following && ctx.req.has_header("Last-Event-ID")) {
    resume = ctx.req.get_header_value("Last-Event-ID");
    if (docker_time(resume).empty())
      return make_error(errc::invalid_argument,
                        "Last-Event-ID: must be the timestamp of a log line");
  }
  auto& nodes = ctx.env.services.scheduler;
  if (!nodes || !ctx.env.sys)
    return make_error(errc::unavailable, "the deployment engine is not running");
  // Each follower holds a worker thread while it streams: capped, with the
  // followers of deployment logs (one budget per user and in total). A
  // refusal below gives the slot back at once.
  std::shared_ptr<follower_slots::slot> slot;
  if (following) {
    auto admitted = ctx.env.followers->acquire(ctx.user_id);
    if (!admitted) {
      ctx.res.set_header("Retry-After", "10");
      return std::move(admitted.error());
    }
    slot = std::move(*admitted);
  }
  auto live = live_deployment(ctx.db(), *e);
  if (!live)
    return std::move(live.error());
  if (following) {
    auto& events = ctx.env.services.environment_events;
    if (!events)
      return make_error(errc::unavailable, "the deployment engine is not running");
    auto follower = std::make_shared<app_log_follower>(ctx.db(), *ctx.env.sys, nodes, events,
                                                       *e, *query, resume);
    ctx.res.set_header("Cache-Control", "no-cache");
    ctx.res.set_header("X-Accel-Buffering", "no");
    ctx.res.set_chunked_content_provider(
      // The slot is released when the response (holding this provider) goes.
      "text/event-stream", [follower, slot](size_t, httplib::DataSink& sink) {
        // An exception leaving a content provider terminates the server.
        try {
          return follower->run(sink);
        } catch (const std::exception& ex) {
          spdlog::error("runtime log stream of environment {} ended: {}",
                        follower->environment_id(), ex.what());
        } catch (...) {
          spdlog::error("runtime log stream of environment {} ended by an unknown exception",
                        follower->environment_id());
        }
        return false;
      });
    return {};
  }
  caf::scoped_actor self{*ctx.env.sys};
  auto batch = ask_logs(self, nodes, live->container_id, *query);
  if (!batch) {
    if (code_of(batch.error()) == errc::not_found)
      return make_error(errc::conflict, "the container of the live deployment no longer "
                                        "exists; deploy again");
    return std::move(batch.error());
  }
  json items = json::array();
  for (auto& l : batch->lines)
    items.push_back(line_json(l));
  ctx.reply(200, {{"environmentId", e->id},
                  {"deploymentId", live->id},
                  {"containerId", live->container_id},
                  {"items", std::move(items)}});
  return {};
}

} // namespace

void add_app_log_routes(router& r) {
  r.add("GET", "/api/environments/:id/logs", get_app_logs);
}

} // namespace gilgal
