#include "protocol/type_ids.hpp"

#include "protocol/interfaces.hpp"

namespace gilgal {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::gilgal>();
  cfg.add_message_types<caf::id_block::gilgal_handles>();
}

} // namespace gilgal
