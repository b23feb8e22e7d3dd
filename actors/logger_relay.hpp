// The logger of a `gilgal node` process: its builders and runners write to
// this local relay, which forwards to the control plane's logger it was last
// given (the gatekeeper hands it out at every join). Lines written while no
// control plane is known are dropped (nothing runs on a node that has not
// joined). Forwarding through one actor keeps each deployment's lines in order.
// It takes messages only from actors of its own process: a peer that routes
// through the control plane can neither read nor redirect the lines.
#pragma once

#include <caf/actor_system.hpp>

#include "protocol/interfaces.hpp"

namespace gilgal {

/// logger_actor plus "forward to this logger from now on".
using logger_relay_actor = logger_actor::extend<caf::reacts_to<put_atom, logger_actor>>;

logger_relay_actor spawn_logger_relay(caf::actor_system& sys);

} // namespace gilgal
