#include "actors/deployment_manager.hpp"

#include <cstring>
#include <optional>

#include <spdlog/spdlog.h>

#include "actors/container_sweep.hpp"
#include "actors/deployment_actor.hpp"
#include "actors/run_state.hpp"
#include "protocol/error.hpp"
#include "protocol/timeouts.hpp"

namespace gilgal {

namespace {

using self_ptr = deployment_manager_actor::stateful_pointer<deployment_manager_state>;

/// Tells the notifier (when one runs) of a deployment event.
void notify(self_ptr self, const char* event, const deployment& record) {
  if (auto& n = self->state.cfg.notifier)
    self->send(n, notify_atom::value, std::string{event}, record);
}

/// The notification of a deployment that ended with `status`.
const char* ended_event(deployment_status status) {
  switch (status) {
    case deployment_status::success: return notification_event::succeeded;
    case deployment_status::cancelled: return notification_event::cancelled;
    default: return notification_event::failed;
  }
}

void environment_done(self_ptr self, const std::string& env, const std::string& id);

/// Spawns and monitors the actor of a deployment (not started yet) and asks
/// it for its final record, which answers the waits on it.
deployment_actor spawn_deployment(self_ptr self, deployment record, project source,
                                  environment target) {
  auto& st = self->state;
  deployment_context ctx;
  ctx.record = std::move(record);
  ctx.source = std::move(source);
  ctx.target = std::move(target);
  ctx.scheduler = st.cfg.scheduler;
  ctx.log = st.cfg.log;
  ctx.db = st.cfg.db;
  ctx.router = st.cfg.router;
  ctx.build_timeout = st.cfg.build_timeout;
  ctx.run_timeout = st.cfg.run_timeout;
  ctx.image_retention = st.cfg.image_retention;
  auto id = ctx.record.id;
  auto env = ctx.record.environment_id;
  auto record_copy = ctx.record;
  auto actor = self->spawn(deployment_pipeline, std::move(ctx));
  self->monitor(actor);
  st.deployments.emplace(id, managed_deployment{actor, env, false, {}, {}, record_copy});
  self->request(actor, caf::infinite, wait_atom::value)
    .then(
      [self, id](const deployment& final_record) {
        auto i = self->state.deployments.find(id);
        if (i == self->state.deployments.end())
          return;
        notify(self, ended_event(final_record.status), final_record);
        if (final_record.status == deployment_status::success)
          if (auto& events = self->state.cfg.events)
            self->send(events, live_atom::value, final_record.environment_id);
        i->second.reported = true;
        i->second.final_record = final_record;
        for (auto& w : i->second.waiters)
          w.deliver(final_record);
        i->second.waiters.clear();
        // A success stays up while it stops the container it replaced: the
        // environment's next deployment may start meanwhile (it runs no
        // container before this actor is down).
        if (final_record.status == deployment_status::success) {
          auto env = i->second.environment_id;
          self->state.retiring[env] = caf::actor_cast<caf::actor>(i->second.actor);
          environment_done(self, env, id);
        }
      },
      [](const caf::error&) {}); // it died first: the down handler answers
  return actor;
}

/// Starts a deployment's pipeline; replies (through rp) once the scheduler
/// holds its build request, so a GET right after the POST sees its queue
/// position.
void start(self_ptr self, const std::string& id,
           std::optional<caf::typed_response_promise<bool>> rp) {
  auto& st = self->state;
  auto i = st.deployments.find(id);
  if (i == st.deployments.end())
    return;
  st.busy[i->second.environment_id] = id;
  notify(self, notification_event::started, i->second.record);
  if (auto r = st.retiring.find(i->second.environment_id);
      r != st.retiring.end() && r->second != caf::actor_cast<caf::actor>(i->second.actor))
    self->send(i->second.actor, after_atom::value, r->second); // arrives before the start
  self->request(i->second.actor, timeouts::pipeline_start, start_atom::value)
    .then(
      [rp](int64_t) mutable {
        if (rp)
          rp->deliver(true);
      },
      [rp](const caf::error&) mutable {
        if (rp)
          rp->deliver(true);
      });
}

void control_live_container(self_ptr self, const environment& e, const std::string& action,
                            caf::typed_response_promise<environment_state> rp);

constexpr const char* action_marker = "action:";

/// The deployment `id` of environment `env` has ended: a held action runs,
/// else the next deployment waiting for that environment starts.
void environment_done(self_ptr self, const std::string& env, const std::string& id) {
  auto& st = self->state;
  if (auto w = st.waiting.find(env); w != st.waiting.end()) {
    auto& queue = w->second;
    for (auto q = queue.begin(); q != queue.end(); ++q)
      if (*q == id) {
        queue.erase(q);
        break;
      }
  }
  auto b = st.busy.find(env);
  if (b == st.busy.end() || b->second != id)
    return;
  st.busy.erase(b);
  if (auto h = st.held.find(env); h != st.held.end()) {
    auto next = std::move(h->second);
    st.held.erase(h);
    st.busy[env] = std::string{action_marker} + next.action;
    control_live_container(self, next.target, next.action, next.promise);
    return;
  }
  auto w = st.waiting.find(env);
  if (w == st.waiting.end())
    return;
  if (!w->second.empty() && !st.stopping && st.closed.count(env) == 0) {
    auto next = w->second.front();
    w->second.pop_front();
    start(self, next, std::nullopt);
  }
  if (w->second.empty())
    st.waiting.erase(w);
}

/// `busy` holds action_marker + the action's name while a lifecycle action runs.
bool is_action(const std::string& busy_id) {
  return busy_id.rfind(action_marker, 0) == 0;
}

/// Nothing of environment `env` is in progress or queued.
bool environment_idle(const deployment_manager_state& st, const std::string& env) {
  if (st.busy.count(env) > 0)
    return false;
  for (auto& [id, d] : st.deployments)
    if (d.environment_id == env)
      return false;
  return true;
}

/// For a deleted environment with nothing left in progress: stops and
/// removes its containers on every node, then answers the removal requests.
void remove_when_idle(self_ptr self, const std::string& env) {
  auto& st = self->state;
  auto r = st.removals.find(env);
  if (r == st.removals.end() || !environment_idle(st, env))
    return;
  auto promises = std::move(r->second);
  st.removals.erase(r);
  // Followers of its runtime log end once its containers are gone.
  auto removed_event = [self, env] {
    if (auto& events = self->state.cfg.events)
      self->send(events, remove_atom::value, env);
  };
  auto retire_all = [self, env, promises, removed_event]() mutable {
    self->request(self->state.cfg.scheduler, timeouts::environment_removal, retire_atom::value,
                  env, std::string{})
      .then(
        [env, promises, removed_event](int64_t removed) mutable {
          spdlog::info("environment {} deleted: {} container(s) removed", env, removed);
          removed_event();
          for (auto& p : promises)
            p.deliver(removed);
        },
        [env, promises, removed_event](const caf::error& err) mutable {
          spdlog::warn("environment {} deleted, but its containers could not all be removed: {}",
                       env, message_of(err));
          removed_event();
          for (auto& p : promises)
            p.deliver(err);
        });
  };
  // The route shows the 503 page before its containers go (the caller has the
  // router drop it once the environment is deleted from the store).
  if (!st.cfg.router) {
    retire_all();
    return;
  }
  self->request(st.cfg.router, timeouts::route_switch, stop_atom::value, env)
    .then([retire_all](bool) mutable { retire_all(); },
          [env, retire_all](const caf::error& err) mutable {
            spdlog::warn("environment {}: its route was not taken down: {}", env,
                         message_of(err));
            retire_all();
          });
}

/// Stores the run state of environment `env`: `deployment_id` names the live
/// deployment whose container is stopped through the API ('' running again).
/// The router seeds its stop flag from it, so a stop outlasts a restart of
/// the server. Calls `next` also when the write failed (logged).
template <class F>
void store_stopped(self_ptr self, const std::string& env, const std::string& deployment_id,
                   F next) {
  self->request(self->state.cfg.db, timeouts::record_write, stop_atom::value, env, deployment_id)
    .then([next](bool) mutable { next(); },
          [env, next](const caf::error& err) mutable {
            spdlog::warn("environment {}: its run state was not stored: {}", env,
                         message_of(err));
            next();
          });
}

/// Before a stop: records it, and the router shows the environment's 503 page
/// (no request meets a dying container). Then calls `next` (also when a step
/// failed: the stop goes on, the failure is logged).
template <class F>
void take_route_down(self_ptr self, const std::string& env, const std::string& deployment_id,
                     F next) {
  store_stopped(self, env, deployment_id, [self, env, next]() mutable {
    auto& router = self->state.cfg.router;
    if (!router) {
      next();
      return;
    }
    self->request(router, timeouts::route_switch, stop_atom::value, env)
      .then([next](bool) mutable { next(); },
            [env, next](const caf::error& err) mutable {
              spdlog::warn("environment {}: its route was not taken down: {}", env,
                           message_of(err));
              next();
            });
  });
}

/// After a start or restart that answers: clears the stop and routes the live
/// deployment `d` again, then calls `next` (also when a step failed: logged).
template <class F>
void bring_route_back(self_ptr self, const deployment& d, F next) {
  store_stopped(self, d.environment_id, std::string{}, [self, d, next]() mutable {
    auto& router = self->state.cfg.router;
    if (!router) {
      next();
      return;
    }
    self->request(router, timeouts::route_switch, route_atom::value, d)
      .then([next](bool) mutable { next(); },
            [env = d.environment_id, next](const caf::error& err) mutable {
              spdlog::warn("environment {}: its route did not come back: {}", env,
                           message_of(err));
              next();
            });
  });
}

/// Carries out a lifecycle action on the live container of environment `e`
/// (which the caller marked busy) and delivers its state to `rp`.
void control_live_container(self_ptr self, const environment& e, const std::string& action,
                            caf::typed_response_promise<environment_state> rp) {
  auto& st = self->state;
  auto marker = std::string{action_marker} + action;
  auto done = [self, env = e.id, marker, rp](caf::expected<environment_state> result) mutable {
    if (result)
      rp.deliver(std::move(*result));
    else
      rp.deliver(std::move(result.error()));
    environment_done(self, env, marker);
    remove_when_idle(self, env);
  };
  self->request(st.cfg.db, timeouts::record_write, live_atom::value, e.id)
    .then(
      [self, e, action, done](const std::vector<deployment>& live) mutable {
        if (live.empty() || live.front().container_id.empty()) {
          done(make_error(errc::conflict, "environment " + e.name
                                            + " has no live deployment; deploy it first"));
          return;
        }
        auto d = live.front();
        container_command cmd;
        cmd.container_id = d.container_id;
        cmd.action = action;
        cmd.health_path = e.settings.health_check_path;
        cmd.health_timeout_seconds = e.settings.health_check_timeout_seconds;
        auto health = std::chrono::seconds{cmd.health_timeout_seconds > 0
                                             ? cmd.health_timeout_seconds
                                             : 300};
        auto run = [self, d, cmd, health, done]() mutable {
          self->request(self->state.cfg.scheduler,
                        health + timeouts::container_control + timeouts::actor_question,
                        control_atom::value, cmd)
            .then(
              [self, d, done](const container_health& h) mutable {
                auto state = run_state_of(h);
                state.deployment_id = d.id;
                if (state.state != "running") {
                  done(std::move(state));
                  return;
                }
                // Running and answering: the route comes back.
                bring_route_back(self, d, [done, state]() mutable { done(std::move(state)); });
              },
            [d, done](const caf::error& err) mutable {
              environment_state state;
              state.deployment_id = d.id;
              state.container_id = d.container_id;
              state.state = "failed";
              if (code_of(err) == errc::not_found)
                state.reason = "the container of the live deployment no longer exists; "
                               "deploy again";
              else if (code_of(err) == errc::run_failed)
                state.reason = message_of(err);
              else {
                done(err);
                return;
              }
              done(std::move(state));
            });
        };
        // A stop takes the route down first, so no request meets a dying container.
        if (action == "stop")
          take_route_down(self, e.id, d.id, run);
        else
          run();
      },
      [done](const caf::error& err) mutable { done(err); });
}

void quit_when_idle(self_ptr self) {
  if (self->state.stopping && self->state.deployments.empty())
    self->quit(self->state.stopping);
}

/// Removes containers of no live deployment (after the unfinished ones ended).
void sweep_containers(self_ptr self) {
  sweep_node_containers(self, self->state.cfg.scheduler, self->state.cfg.db);
}

} // namespace

deployment_manager_actor::behavior_type
deployment_manager(deployment_manager_actor::stateful_pointer<deployment_manager_state> self,
                   deployment_manager_config cfg) {
  self->state.cfg = std::move(cfg);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    for (auto i = st.deployments.begin(); i != st.deployments.end(); ++i) {
      if (i->second.actor.address() != msg.source)
        continue;
      auto id = i->first;
      auto env = i->second.environment_id;
      if (auto r = st.retiring.find(env); r != st.retiring.end() && r->second.address() == msg.source)
        st.retiring.erase(r);
      for (auto& w : i->second.waiters)
        w.deliver(make_error(errc::internal, "deployment " + id
                                               + " ended without reporting its final record"));
      st.deployments.erase(i);
      environment_done(self, env, id);
      remove_when_idle(self, env);
      break;
    }
    quit_when_idle(self);
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    if (!msg.reason || st.stopping)
      return;
    st.stopping = msg.reason;
    st.waiting.clear(); // queued actors end below, never started
    auto interrupted = make_error(errc::unavailable, "interrupted by server shutdown");
    for (auto& [id, d] : st.deployments)
      self->send_exit(d.actor, interrupted);
    quit_when_idle(self);
  });
  return {
    [self](deploy_atom, const deployment& d, const project& p,
           const environment& e) -> caf::result<bool> {
      auto& st = self->state;
      if (st.deployments.count(d.id) > 0)
        return false;
      if (st.closed.count(d.environment_id) > 0)
        return make_error(errc::not_found, "environment " + d.environment_id
                                             + " is being deleted");
      auto actor = spawn_deployment(self, d, p, e);
      if (st.stopping) {
        self->send_exit(actor, make_error(errc::unavailable, "the server is shutting down"));
        return make_error(errc::unavailable, "the server is shutting down");
      }
      if (auto b = st.busy.find(d.environment_id); b != st.busy.end()) {
        auto& queue = st.waiting[d.environment_id];
        queue.push_back(d.id);
        auto holder = is_action(b->second)
                        ? "the environment's " + b->second.substr(std::strlen(action_marker))
                        : "deployment " + b->second.substr(0, 8) + " of this environment";
        self->send(st.cfg.log, log_atom::value, d.id, std::string{"info"},
                   "Queued at position " + std::to_string(queue.size()) + ": waiting for "
                     + holder + " to finish");
        return true;
      }
      auto rp = self->make_response_promise<bool>();
      start(self, d.id, rp);
      return rp;
    },
    [self](cancel_atom, const std::string& id) -> caf::result<deployment> {
      auto i = self->state.deployments.find(id);
      if (i == self->state.deployments.end())
        return make_error(errc::not_found, "deployment " + id + " is not in progress");
      return self->delegate(i->second.actor, cancel_atom::value);
    },
    [self](wait_atom, const std::string& id) -> caf::result<deployment> {
      auto i = self->state.deployments.find(id);
      if (i == self->state.deployments.end())
        return make_error(errc::not_found, "deployment " + id + " is not in progress");
      if (i->second.reported)
        return i->second.final_record;
      auto rp = self->make_response_promise<deployment>();
      i->second.waiters.push_back(rp);
      return rp;
    },
    [self](queue_atom, const std::string& id) -> caf::result<int64_t> {
      // Waiting for its environment, or (started) for a build slot.
      for (auto& [env, queue] : self->state.waiting)
        for (size_t i = 0; i < queue.size(); ++i)
          if (queue[i] == id)
            return static_cast<int64_t>(i + 1);
      return self->delegate(self->state.cfg.scheduler, queue_atom::value, id);
    },
    [self](recover_atom) -> caf::result<int64_t> {
      auto rp = self->make_response_promise<int64_t>();
      self->request(self->state.cfg.db, timeouts::record_write, recover_atom::value)
        .then(
          [self, rp](const std::vector<deployment>& unfinished) mutable {
            // Each ends through an actor of its own, interrupted at once (its
            // log continues after its last stored line).
            int64_t ended = 0;
            for (auto& d : unfinished) {
              if (self->state.deployments.count(d.id) > 0)
                continue;
              auto actor = spawn_deployment(self, d, project{}, environment{});
              self->send_exit(actor, make_error(errc::unavailable, "interrupted by restart"));
              ++ended;
            }
            if (ended > 0)
              spdlog::warn("{} deployment(s) were interrupted by a restart and marked failed",
                           ended);
            sweep_containers(self);
            rp.deliver(ended);
          },
          [rp](const caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
    [self](count_atom) -> int64_t {
      return static_cast<int64_t>(self->state.deployments.size());
    },
    [self](control_atom, const environment& e,
           const std::string& action) -> caf::result<environment_state> {
      auto& st = self->state;
      if (action != "stop" && action != "start" && action != "restart")
        return make_error(errc::invalid_argument, "action: must be stop, start or restart");
      if (st.closed.count(e.id) > 0)
        return make_error(errc::not_found, "environment not found");
      if (st.stopping)
        return make_error(errc::unavailable, "the server is shutting down");
      if (auto b = st.busy.find(e.id); b != st.busy.end()) {
        if (is_action(b->second))
          return make_error(errc::conflict,
                            "a " + b->second.substr(std::strlen(action_marker))
                              + " of this environment is in progress");
        auto d = st.deployments.find(b->second);
        // Ended, its actor retiring the previous container: the action comes next.
        if (d != st.deployments.end() && d->second.reported && st.held.count(e.id) == 0) {
          auto rp = self->make_response_promise<environment_state>();
          st.held.emplace(e.id, held_action{e, action, rp});
          return rp;
        }
        return make_error(errc::conflict, "deployment " + b->second
                                            + " of this environment is in progress; wait for "
                                              "it to end or cancel it");
      }
      st.busy[e.id] = std::string{action_marker} + action;
      auto rp = self->make_response_promise<environment_state>();
      control_live_container(self, e, action, rp);
      return rp;
    },
    [self](remove_atom, const std::string& env) -> caf::result<int64_t> {
      auto& st = self->state;
      st.closed.insert(env);
      if (auto h = st.held.find(env); h != st.held.end()) {
        h->second.promise.deliver(make_error(errc::not_found, "environment not found"));
        st.held.erase(h);
      }
      // Queued ones end cancelled without starting; a running one is
      // cancelled (one going live ends first, then its container goes too).
      for (auto& [id, d] : st.deployments)
        if (d.environment_id == env)
          self->send_exit(d.actor, caf::exit_reason::user_shutdown);
      auto rp = self->make_response_promise<int64_t>();
      st.removals[env].push_back(rp);
      remove_when_idle(self, env);
      return rp;
    },
  };
}

} // namespace gilgal
