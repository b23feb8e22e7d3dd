#include "actors/deployment_store.hpp"

#include <caf/actor_system.hpp>

namespace gilgal {

deployment_store_actor::behavior_type deployment_store(deployment_store_actor::pointer,
                                                       std::shared_ptr<store> db) {
  return {
    [db](put_atom, const deployment& d) -> caf::result<bool> {
      if (auto res = db->update_deployment(d); !res)
        return res.error();
      return true;
    },
    [db](live_atom, const std::string& environment_id)
      -> caf::result<std::vector<deployment>> {
      auto res = db->list_successful_deployments(environment_id);
      if (!res)
        return res.error();
      return std::move(*res);
    },
  };
}

deployment_store_actor spawn_deployment_store(caf::actor_system& sys,
                                              std::shared_ptr<store> db) {
  return sys.spawn<caf::detached>(deployment_store, std::move(db));
}

} // namespace gilgal
