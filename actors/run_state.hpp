// An environment's run state, as the API shows it, from its live
// container's state as Docker reports it. Containers run under Docker's
// `unless-stopped` policy: a crash is restarted by Docker ("restarting"),
// so a container that is not running was stopped through the API.
#pragma once

#include "protocol/messages.hpp"

namespace gilgal {

/// running | stopped | restarting | failed (with its reason).
environment_state run_state_of(const container_health& h);

} // namespace gilgal
