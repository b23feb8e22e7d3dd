// A node's reading of one container's stdout and stderr through the Docker
// Engine API (GET /containers/ID/logs?stdout=1&stderr=1&timestamps=1), for
// the runtime logs of an environment. Blocking: run it on a detached actor.
#pragma once

#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "nodes/abort_signal.hpp"
#include "nodes/docker_client.hpp"
#include "protocol/messages.hpp"

namespace gilgal {

/// The most lines one answer carries (a follow batch ends there too).
constexpr size_t max_log_batch_lines = 10000;

/// Reads `query` of container `container_id`. Without follow: the lines
/// Docker has (the last `tail` after `since`). With follow: the lines after
/// `since`, returned as soon as some came (the first chunk Docker sends), or
/// none after follow_ms. A container that does not run is waited for (Docker's
/// events) until it starts again, within follow_ms: then the answer has no
/// lines and the caller asks again; `ended` if it did not start in time (or
/// Docker closed the stream with lines). errc::not_found if the container
/// does not exist or is removed meanwhile.
caf::expected<container_log_batch> read_container_logs(docker_client& docker,
                                                       const std::string& container_id,
                                                       const container_log_query& query,
                                                       const std::shared_ptr<abort_signal>& abort
                                                       = nullptr);

} // namespace gilgal
