// The environment events hub: tells the followers of an environment's
// runtime log (HTTP worker threads, each a scoped actor) that what they read
// has changed, so they wait on their mailbox instead of reading the store in
// a loop. The deployment manager tells it when a deployment of an
// environment went live and when an environment was removed; it forwards
// each event to that environment's subscribers. It keeps no history: a
// subscriber reads the store once its subscription is answered.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "protocol/interfaces.hpp"

namespace gilgal {

struct environment_events_state {
  /// environment id -> its subscribers (monitored: dropped when they go).
  std::unordered_map<std::string, std::vector<caf::actor>> subscribers;
  static inline const char* name = "environment_events";
};

environment_events_actor::behavior_type
environment_events(environment_events_actor::stateful_pointer<environment_events_state> self);

} // namespace gilgal
