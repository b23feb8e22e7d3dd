#include "actors/node_gate.hpp"

#include <caf/to_string.hpp>
#include <spdlog/spdlog.h>

#include "actors/guarded_actor.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

using self_ptr = node_actor::stateful_pointer<node_gate_state>;

/// The control plane always asks (a request has a sender); a message without
/// one may come from any peer.
bool named(self_ptr self, const char* what) {
  if (self->current_sender())
    return true;
  spdlog::warn("node: dropped a '{}' message without a sender", what);
  return false;
}

caf::error refused(const char* what) {
  return make_error(errc::unauthorized, std::string{what} + " needs a sender");
}

} // namespace

node_actor::behavior_type node_gate(self_ptr self, node_actor node) {
  self->state.node = node;
  self->link_to(node);
  return {
    [self](new_atom, build_atom) -> caf::result<builder_actor> {
      if (!named(self, "new build"))
        return refused("new build");
      return self->delegate(self->state.node, new_atom::value, build_atom::value);
    },
    [self](new_atom, run_atom) -> caf::result<runner_actor> {
      if (!named(self, "new run"))
        return refused("new run");
      return self->delegate(self->state.node, new_atom::value, run_atom::value);
    },
    [self](stop_atom, const std::string& id) -> caf::result<bool> {
      if (!named(self, "stop"))
        return refused("stop");
      return self->delegate(self->state.node, stop_atom::value, id);
    },
    [self](retire_atom, const std::string& env,
           const std::string& keep) -> caf::result<int64_t> {
      if (!named(self, "retire"))
        return refused("retire");
      return self->delegate(self->state.node, retire_atom::value, env, keep);
    },
    [self](list_atom) -> caf::result<std::map<std::string, std::string>> {
      if (!named(self, "list"))
        return refused("list");
      return self->delegate(self->state.node, list_atom::value);
    },
    [self](health_atom, const std::string& id) -> caf::result<container_health> {
      if (!named(self, "health"))
        return refused("health");
      return self->delegate(self->state.node, health_atom::value, id);
    },
    [self](retain_atom, const std::string& project,
           const std::set<std::string>& keep) -> caf::result<int64_t> {
      if (!named(self, "retain"))
        return refused("retain");
      return self->delegate(self->state.node, retain_atom::value, project, keep);
    },
    [self](logs_atom, const std::string& id,
           const container_log_query& query) -> caf::result<container_log_batch> {
      if (!named(self, "logs"))
        return refused("logs");
      return self->delegate(self->state.node, logs_atom::value, id, query);
    },
    [self](control_atom, const container_command& cmd) -> caf::result<container_health> {
      if (!named(self, "control"))
        return refused("control");
      return self->delegate(self->state.node, control_atom::value, cmd);
    },
  };
}

node_actor spawn_node_gate(caf::actor_system& sys, node_actor node,
                           std::shared_ptr<const admitted_nodes> trusted) {
  return sys.spawn<guarded_actor<node_actor, node_gate_state>>(
    std::move(trusted), [node](self_ptr self) { return node_gate(self, node); });
}

} // namespace gilgal
