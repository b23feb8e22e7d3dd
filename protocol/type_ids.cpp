#include "protocol/type_ids.hpp"

namespace gilgal {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::gilgal>();
}

} // namespace gilgal
