// The pipeline's gateway to storage (see deployment_store_actor in
// protocol/interfaces.hpp). Spawned detached: its store calls block only itself.
#pragma once

#include <memory>

#include "protocol/interfaces.hpp"
#include "storage/store.hpp"

namespace gilgal {

deployment_store_actor::behavior_type deployment_store(deployment_store_actor::pointer self,
                                                       std::shared_ptr<store> db);

deployment_store_actor spawn_deployment_store(caf::actor_system& sys,
                                              std::shared_ptr<store> db);

} // namespace gilgal
