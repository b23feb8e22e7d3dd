// A node's runner: spawned for ONE run job, an event-based actor that stays
// responsive while a detached worker starts the container and waits for its
// health check. When it terminates abnormally (its deployment was cancelled),
// it fires the job's abort signal, so the worker removes the container it
// created.
#pragma once

#include <memory>

#include "actors/node_resources.hpp"
#include "protocol/interfaces.hpp"

namespace gilgal {

runner_actor::behavior_type runner(runner_actor::pointer self,
                                   std::shared_ptr<const node_resources> res);

} // namespace gilgal
