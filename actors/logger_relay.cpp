#include "actors/logger_relay.hpp"

#include <chrono>

#include <caf/to_string.hpp>
#include <spdlog/spdlog.h>

#include "protocol/error.hpp"

namespace gilgal {

namespace {

struct logger_relay_state {
  logger_actor target;
  static inline const char* name = "logger_relay";
};

using self_ptr = logger_relay_actor::stateful_pointer<logger_relay_state>;

/// Everything the relay takes comes from this node's own actors (the agent,
/// builders, runners). Another actor system (a peer routing through the
/// control plane) is dropped; a retarget also needs a named sender.
bool from_this_node(self_ptr self, const char* what, bool sender_required) {
  auto& sender = self->current_sender();
  if (sender ? sender->node() == self->node() : !sender_required)
    return true;
  spdlog::warn("node: the log relay dropped a '{}' message from {}", what,
               sender ? "node " + caf::to_string(sender->node()) : std::string{"no sender"});
  return false;
}

logger_relay_actor::behavior_type logger_relay(self_ptr self) {
  return {
    [self](put_atom, logger_actor target) {
      if (from_this_node(self, "put", true))
        self->state.target = std::move(target);
    },
    [self](log_atom, const std::string& id, const std::string& level, const std::string& text) {
      if (!from_this_node(self, "log", false))
        return;
      if (auto& t = self->state.target)
        self->send(t, log_atom::value, id, level, text);
    },
    [self](close_atom, const std::string& id) {
      if (!from_this_node(self, "close", false))
        return;
      if (auto& t = self->state.target)
        self->send(t, close_atom::value, id);
    },
    [self](subscribe_atom, const std::string& id, int64_t after,
           const caf::actor& who) -> caf::result<std::vector<log_line>, bool> {
      if (!from_this_node(self, "subscribe", false))
        return make_error(errc::unauthorized, "the log relay serves this node only");
      if (auto& t = self->state.target)
        return self->delegate(t, subscribe_atom::value, id, after, who);
      return make_error(errc::unavailable, "this node has not joined a control plane");
    },
    [self](unsub_atom, const std::string& id, const caf::actor& who) {
      if (!from_this_node(self, "unsub", false))
        return;
      if (auto& t = self->state.target)
        self->send(t, unsub_atom::value, id, who);
    },
    [self](flush_atom) -> caf::result<bool> {
      if (!from_this_node(self, "flush", false))
        return make_error(errc::unauthorized, "the log relay serves this node only");
      if (auto& t = self->state.target)
        return self->delegate(t, flush_atom::value);
      return true;
    },
    [](tick_atom) {},
  };
}

} // namespace

logger_relay_actor spawn_logger_relay(caf::actor_system& sys) {
  return sys.spawn(logger_relay);
}

} // namespace gilgal
