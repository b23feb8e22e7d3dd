#include "actors/local_cluster.hpp"

#include <chrono>

#include <caf/scoped_actor.hpp>

namespace gilgal {

caf::error join_local_node(caf::actor_system& sys, const scheduler_actor& scheduler,
                           const node_actor& node, node_info info) {
  caf::error result;
  caf::scoped_actor self{sys};
  self->request(scheduler, std::chrono::seconds(10), join_atom::value, std::move(info), node)
    .receive([](bool) {}, [&](caf::error& err) { result = std::move(err); });
  return result;
}

} // namespace gilgal
