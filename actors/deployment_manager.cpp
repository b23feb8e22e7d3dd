#include "actors/deployment_manager.hpp"

#include <optional>

#include <spdlog/spdlog.h>

#include "actors/container_sweep.hpp"
#include "actors/deployment_actor.hpp"
#include "actors/metrics.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

using self_ptr = deployment_manager_actor::stateful_pointer<deployment_manager_state>;

/// Spawns the pipeline of a deployment; replies (through rp) once the
/// scheduler holds its build request, so a GET right after the POST sees its
/// queue position.
void launch(self_ptr self, deployment record, project source, environment target,
            std::optional<caf::typed_response_promise<bool>> rp) {
  auto& st = self->state;
  deployment_context ctx;
  ctx.record = std::move(record);
  ctx.source = std::move(source);
  ctx.target = std::move(target);
  ctx.cluster = st.cfg.cluster;
  ctx.log = st.cfg.log;
  ctx.db = st.cfg.db;
  ctx.build_timeout = st.cfg.build_timeout;
  ctx.run_timeout = st.cfg.run_timeout;
  ctx.image_retention = st.cfg.image_retention;
  auto id = ctx.record.id;
  auto env = ctx.record.environment_id;
  st.busy[env] = id;
  auto worker = self->spawn(deployment_pipeline, std::move(ctx));
  self->monitor(worker);
  st.running.emplace(id, running_deployment{worker, env});
  self->request(worker, std::chrono::seconds(60), start_atom::value)
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

/// Ends a deployment that has no actor (queued, or left by a crash).
void end_without_actor(self_ptr self, deployment d, const char* status,
                       const std::string& reason, const char* level) {
  auto& st = self->state;
  d.status = status;
  d.error_message = reason;
  self->send(st.cfg.log, log_atom::value, d.id, std::string{level},
             status == status::cancelled ? std::string{"Deployment cancelled"}
                                         : "Deployment " + reason);
  self->send(st.cfg.log, close_atom::value, d.id);
  self->request(st.cfg.db, caf::infinite, put_atom::value, d)
    .then([](bool) {},
          [id = d.id](const caf::error& err) {
            spdlog::error("could not record the end of deployment {}: {}", id,
                          message_of(err));
          });
}

/// The deployment `id` of environment `env` has ended: the next one waiting
/// for that environment starts.
void environment_done(self_ptr self, const std::string& env, const std::string& id) {
  auto& st = self->state;
  auto b = st.busy.find(env);
  if (b == st.busy.end() || b->second != id)
    return;
  st.busy.erase(b);
  auto w = st.waiting.find(env);
  if (w == st.waiting.end())
    return;
  if (!w->second.empty() && !st.stopping) {
    auto next = std::move(w->second.front());
    w->second.pop_front();
    launch(self, std::move(next.record), std::move(next.source), std::move(next.target),
           std::nullopt);
  }
  if (w->second.empty())
    st.waiting.erase(w);
}

void quit_when_idle(self_ptr self) {
  if (self->state.stopping && self->state.running.empty())
    self->quit(self->state.stopping);
}

/// Removes containers of no live deployment (after the unfinished ones ended).
void sweep_containers(self_ptr self) {
  sweep_node_containers(self, self->state.cfg.cluster, self->state.cfg.db);
}

} // namespace

deployment_manager_actor::behavior_type
deployment_manager(deployment_manager_actor::stateful_pointer<deployment_manager_state> self,
                   deployment_manager_config cfg) {
  self->state.cfg = std::move(cfg);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    for (auto i = st.running.begin(); i != st.running.end(); ++i) {
      if (i->second.actor.address() == msg.source) {
        auto id = i->first;
        auto env = i->second.environment_id;
        st.running.erase(i);
        environment_done(self, env, id);
        break;
      }
    }
    quit_when_idle(self);
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    if (!msg.reason || st.stopping)
      return;
    st.stopping = msg.reason;
    auto interrupted = make_error(errc::unavailable, "interrupted by server shutdown");
    for (auto& [env, queue] : st.waiting)
      for (auto& w : queue)
        end_without_actor(self, w.record, status::failed, "interrupted by server shutdown",
                          "error");
    st.waiting.clear();
    for (auto& [id, r] : st.running)
      self->send_exit(r.actor, interrupted);
    quit_when_idle(self);
  });
  return {
    [self](deploy_atom, const deployment& d, const project& p,
           const environment& e) -> caf::result<bool> {
      auto& st = self->state;
      if (st.stopping)
        return make_error(errc::unavailable, "the server is shutting down");
      if (st.running.count(d.id) > 0)
        return false;
      if (auto b = st.busy.find(d.environment_id); b != st.busy.end()) {
        auto& queue = st.waiting[d.environment_id];
        for (auto& w : queue)
          if (w.record.id == d.id)
            return false;
        queue.push_back(waiting_deployment{d, p, e});
        self->send(st.cfg.log, log_atom::value, d.id, std::string{"info"},
                   "Queued at position " + std::to_string(queue.size())
                     + ": waiting for deployment " + b->second.substr(0, 8)
                     + " of this environment to finish");
        return true;
      }
      auto rp = self->make_response_promise<bool>();
      launch(self, d, p, e, rp);
      return rp;
    },
    [self](cancel_atom, const std::string& id) -> caf::result<bool> {
      auto& st = self->state;
      if (auto i = st.running.find(id); i != st.running.end()) {
        self->send_exit(i->second.actor, caf::exit_reason::user_shutdown);
        return true;
      }
      for (auto& [env, queue] : st.waiting)
        for (auto i = queue.begin(); i != queue.end(); ++i)
          if (i->record.id == id) {
            auto record = i->record;
            queue.erase(i);
            end_without_actor(self, record, status::cancelled, "cancelled by user", "warning");
            return true;
          }
      return false;
    },
    [self](queue_atom, const std::string& id) -> caf::result<int64_t> {
      // Waiting for its environment, or (started) for a build slot.
      for (auto& [env, queue] : self->state.waiting)
        for (size_t i = 0; i < queue.size(); ++i)
          if (queue[i].record.id == id)
            return static_cast<int64_t>(i + 1);
      return self->delegate(self->state.cfg.cluster, queue_atom::value, id);
    },
    [self](recover_atom) -> caf::result<int64_t> {
      auto rp = self->make_response_promise<int64_t>();
      self->request(self->state.cfg.db, std::chrono::seconds(60), recover_atom::value)
        .then(
          [self, rp](const std::vector<deployment>& unfinished) mutable {
            // The logger continues each log after its last stored line.
            for (auto& d : unfinished)
              if (self->state.running.count(d.id) == 0)
                end_without_actor(self, d, status::failed, "interrupted by restart", "error");
            if (!unfinished.empty())
              spdlog::warn("{} deployment(s) were interrupted by a restart and marked failed",
                           unfinished.size());
            sweep_containers(self);
            rp.deliver(static_cast<int64_t>(unfinished.size()));
          },
          [rp](const caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
    [self](count_atom) -> int64_t {
      return static_cast<int64_t>(self->state.running.size());
    },
  };
}

} // namespace gilgal
