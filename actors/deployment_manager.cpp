#include "actors/deployment_manager.hpp"

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
            caf::typed_response_promise<bool> rp) {
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
  auto worker = self->spawn(deployment_pipeline, std::move(ctx));
  self->monitor(worker);
  st.running.emplace(id, worker);
  self->request(worker, std::chrono::seconds(60), start_atom::value)
    .then([rp](int64_t) mutable { rp.deliver(true); },
          [rp](const caf::error&) mutable { rp.deliver(true); });
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
    auto& running = self->state.running;
    for (auto i = running.begin(); i != running.end(); ++i) {
      if (i->second.address() == msg.source) {
        running.erase(i);
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
    for (auto& [id, worker] : st.running)
      self->send_exit(worker, interrupted);
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
      auto rp = self->make_response_promise<bool>();
      launch(self, d, p, e, rp);
      return rp;
    },
    [self](cancel_atom, const std::string& id) -> caf::result<bool> {
      auto& st = self->state;
      if (auto i = st.running.find(id); i != st.running.end()) {
        self->send_exit(i->second, caf::exit_reason::user_shutdown);
        return true;
      }
      return false;
    },
    [self](queue_atom, const std::string& id) -> caf::result<int64_t> {
      return self->delegate(self->state.cfg.cluster, queue_atom::value, id);
    },
    [self](recover_atom) -> caf::result<int64_t> {
      auto rp = self->make_response_promise<int64_t>();
      self->request(self->state.cfg.db, std::chrono::seconds(60), recover_atom::value)
        .then(
          [self, rp](const std::vector<deployment>& unfinished) mutable {
            for (auto& d : unfinished) {
              if (self->state.running.count(d.id) > 0)
                continue;
              // Continue the log after its last stored line, then end it.
              self->request(self->state.cfg.db, std::chrono::seconds(60), open_atom::value, d.id)
                .then(
                  [self, d](int64_t last_seq) {
                    self->send(self->state.cfg.log, open_atom::value, d.id, last_seq);
                    end_without_actor(self, d, status::failed, "interrupted by restart",
                                      "error");
                  },
                  [self, d](const caf::error&) {
                    end_without_actor(self, d, status::failed, "interrupted by restart",
                                      "error");
                  });
            }
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
