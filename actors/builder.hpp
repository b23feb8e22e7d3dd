// A node's builder: spawned for ONE build job, an event-based actor that
// stays responsive while a detached worker builds the image. When it
// terminates abnormally (its deployment was cancelled and the link carried
// user_shutdown here), it fires the job's abort signal, so the worker closes
// the Docker build stream.
#pragma once

#include <memory>

#include "actors/node_resources.hpp"
#include "protocol/interfaces.hpp"

namespace gilgal {

builder_actor::behavior_type builder(builder_actor::pointer self,
                                     std::shared_ptr<const node_resources> res);

} // namespace gilgal
