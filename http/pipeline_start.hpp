// Handing a stored pending deployment to the deployment manager, which owns it
// from then on: the edge never writes it again.
#pragma once

#include <caf/error.hpp>

#include "http/request_context.hpp"

namespace gilgal {

/// Asks the manager to take `d` (waits at most timeouts::edge_deploy).
/// errc::unavailable when the engine is not running or refuses it,
/// errc::timeout when it did not answer in time. If the manager cannot take
/// it, the record stays pending until the server's next start ends it.
caf::error start_pipeline(request_context& ctx, const deployment& d, const project& p,
                          const environment& e);

} // namespace gilgal
