// Docker's event stream (GET /events): a blocking reader that hands each
// event to a callback as it arrives, until the deadline, an abort, or an error.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "nodes/abort_signal.hpp"

namespace gilgal {

class docker_client;

struct docker_event {
  std::string type;      // "container", "image", ...
  std::string action;    // "die", "oom", "start", "restart", ...
  std::string id;        // the actor's id (container id)
  std::map<std::string, std::string> attributes; // labels, "exitCode", "name", ...
  int64_t time_nano = 0; // when Docker emitted it (Unix epoch, ns)
};

/// Parses one line of the stream; false if it is not an event.
bool parse_docker_event(const std::string& line, docker_event& out);

struct event_filter {
  std::vector<std::string> labels;  // "key=value", all must match
  std::vector<std::string> types;   // "container"
  std::vector<std::string> actions; // "die", "oom" ... (any matches)
  std::vector<std::string> containers; // ids or names (any matches); empty: all
};

/// Streams events matching `filter` that happen after `since_nano` (0: from
/// now). Returns normally (unit) when `duration` has passed; errc::cancelled
/// when `abort` fires; transport errors otherwise.
caf::expected<void> stream_docker_events(docker_client& docker, const event_filter& filter,
                                         int64_t since_nano, std::chrono::milliseconds duration,
                                         const std::shared_ptr<abort_signal>& abort,
                                         const std::function<void(const docker_event&)>& on_event);

} // namespace gilgal
