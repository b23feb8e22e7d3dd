#include "actors/node_resources.hpp"

#include <caf/send.hpp>

namespace gilgal {

log_function log_to(const logger_actor& logger, const std::string& deployment_id,
                    caf::actor sender) {
  return [logger, deployment_id, sender](const std::string& level, const std::string& message) {
    caf::send_as(sender, logger, log_atom::value, deployment_id, level, message);
  };
}

} // namespace gilgal
