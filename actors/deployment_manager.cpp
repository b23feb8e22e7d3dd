#include "actors/deployment_manager.hpp"

#include "actors/deployment_actor.hpp"

namespace gilgal {

deployment_manager_actor::behavior_type
deployment_manager(deployment_manager_actor::stateful_pointer<deployment_manager_state> self,
                   deployment_manager_config cfg) {
  self->state.cfg = std::move(cfg);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& running = self->state.running;
    for (auto i = running.begin(); i != running.end(); ++i) {
      if (i->second.address() == msg.source) {
        running.erase(i);
        return;
      }
    }
  });
  return {
    [self](deploy_atom, const deployment& d, const project& p,
           const environment& e) -> caf::result<bool> {
      auto& st = self->state;
      if (st.running.count(d.id) > 0)
        return false;
      deployment_context ctx;
      ctx.record = d;
      ctx.source = p;
      ctx.target = e;
      ctx.node = st.cfg.node;
      ctx.log = st.cfg.log;
      ctx.db = st.cfg.db;
      ctx.build_timeout = st.cfg.build_timeout;
      ctx.run_timeout = st.cfg.run_timeout;
      auto worker = self->spawn(deployment_pipeline, std::move(ctx));
      self->monitor(worker);
      st.running.emplace(d.id, worker);
      self->send(worker, start_atom::value);
      return true;
    },
    [self](cancel_atom, const std::string& id) -> caf::result<bool> {
      auto i = self->state.running.find(id);
      if (i == self->state.running.end())
        return false;
      self->send_exit(i->second, caf::exit_reason::user_shutdown);
      return true;
    },
    [self](count_atom) -> int64_t {
      return static_cast<int64_t>(self->state.running.size());
    },
  };
}

} // namespace gilgal
