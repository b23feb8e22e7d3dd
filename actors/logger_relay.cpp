#include "actors/logger_relay.hpp"

#include <chrono>

#include "protocol/error.hpp"

namespace gilgal {

namespace {

struct logger_relay_state {
  logger_actor target;
  static inline const char* name = "logger_relay";
};

using self_ptr = logger_relay_actor::stateful_pointer<logger_relay_state>;

logger_relay_actor::behavior_type logger_relay(self_ptr self) {
  return {
    [self](put_atom, logger_actor target) { self->state.target = std::move(target); },
    [self](log_atom, const std::string& id, const std::string& level, const std::string& text) {
      if (auto& t = self->state.target)
        self->send(t, log_atom::value, id, level, text);
    },
    [self](close_atom, const std::string& id) {
      if (auto& t = self->state.target)
        self->send(t, close_atom::value, id);
    },
    [self](subscribe_atom, const std::string& id, int64_t after,
           const caf::actor& who) -> caf::result<std::vector<log_line>, bool> {
      if (auto& t = self->state.target)
        return self->delegate(t, subscribe_atom::value, id, after, who);
      return make_error(errc::unavailable, "this node has not joined a control plane");
    },
    [self](unsub_atom, const std::string& id, const caf::actor& who) {
      if (auto& t = self->state.target)
        self->send(t, unsub_atom::value, id, who);
    },
    [self](flush_atom) -> caf::result<bool> {
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
