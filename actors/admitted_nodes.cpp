#include "actors/admitted_nodes.hpp"

#include <caf/abstract_actor.hpp>
#include <caf/actor_control_block.hpp>

namespace gilgal {

void admitted_nodes::admit(const caf::node_id& node) {
  std::lock_guard<std::mutex> guard{mtx_};
  nodes_.insert(node);
}

bool admitted_nodes::contains(const caf::node_id& node) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return nodes_.count(node) > 0;
}

bool admitted_nodes::admits(const caf::strong_actor_ptr& sender,
                            const caf::node_id& self) const {
  if (!sender)
    return true;
  return sender->node() == self || contains(sender->node());
}

} // namespace gilgal
