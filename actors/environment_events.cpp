#include "actors/environment_events.hpp"

#include <algorithm>

#include <caf/send.hpp>

namespace gilgal {

namespace {

using self_ptr = environment_events_actor::stateful_pointer<environment_events_state>;

/// Drops `who` from the subscribers of `env` (of every environment if empty).
void drop(self_ptr self, const std::string& env, const caf::actor_addr& who) {
  auto& subs = self->state.subscribers;
  for (auto i = subs.begin(); i != subs.end();) {
    if (!env.empty() && i->first != env) {
      ++i;
      continue;
    }
    auto& list = i->second;
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const caf::actor& a) { return a.address() == who; }),
               list.end());
    i = list.empty() ? subs.erase(i) : std::next(i);
  }
}

template <class Atom>
void tell(self_ptr self, Atom what, const std::string& env) {
  auto i = self->state.subscribers.find(env);
  if (i == self->state.subscribers.end())
    return;
  for (auto& a : i->second)
    caf::anon_send(a, what, env); // subscribers are untyped (scoped actors)
}

} // namespace

environment_events_actor::behavior_type
environment_events(environment_events_actor::stateful_pointer<environment_events_state> self) {
  self->set_down_handler([self](caf::down_msg& msg) { drop(self, {}, msg.source); });
  return {
    [self](subscribe_atom, const std::string& env, const caf::actor& who) {
      if (!who)
        return false;
      auto& list = self->state.subscribers[env];
      if (std::find(list.begin(), list.end(), who) == list.end()) {
        list.push_back(who);
        self->monitor(who);
      }
      return true;
    },
    [self](unsub_atom, const std::string& env, const caf::actor& who) {
      drop(self, env, who.address());
    },
    [self](live_atom, const std::string& env) { tell(self, live_atom::value, env); },
    [self](remove_atom, const std::string& env) { tell(self, remove_atom::value, env); },
  };
}

} // namespace gilgal
