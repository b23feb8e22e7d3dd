#include "actors/local_node.hpp"

#include <caf/actor_system.hpp>

#include "nodes/container_runner.hpp"

namespace gilgal {

namespace {

/// One-shot detached worker for a blocking container operation.
using container_op_actor = caf::typed_actor<
  caf::replies_to<stop_atom, std::string>::with<bool>,
  caf::replies_to<retire_atom, std::string, std::string>::with<int64_t>>;

container_op_actor::behavior_type container_op(container_op_actor::pointer self,
                                               std::shared_ptr<const node_resources> res) {
  return {
    [self, res](stop_atom, const std::string& id) -> caf::result<bool> {
      self->quit();
      auto r = remove_container_and_port(id, res->node, *res->ports);
      if (!r)
        return r.error();
      return *r;
    },
    [self, res](retire_atom, const std::string& env,
                const std::string& keep) -> caf::result<int64_t> {
      self->quit();
      auto r = retire_containers(env, keep, res->node, *res->ports);
      if (!r)
        return r.error();
      return *r;
    },
  };
}

} // namespace

node_actor::behavior_type node(node_actor::pointer self,
                               std::shared_ptr<const node_resources> res) {
  return {
    [self, res](new_atom, build_atom) -> builder_actor {
      return self->spawn(builder, res);
    },
    [self, res](new_atom, run_atom) -> runner_actor {
      return self->spawn(runner, res);
    },
    [self, res](stop_atom, const std::string& id) -> caf::result<bool> {
      auto op = self->spawn<caf::detached>(container_op, res);
      return self->delegate(op, stop_atom::value, id);
    },
    [self, res](retire_atom, const std::string& env,
                const std::string& keep) -> caf::result<int64_t> {
      auto op = self->spawn<caf::detached>(container_op, res);
      return self->delegate(op, retire_atom::value, env, keep);
    },
  };
}

node_actor spawn_node(caf::actor_system& sys, node_settings settings, logger_actor log) {
  auto res = std::make_shared<node_resources>();
  res->ports = std::make_shared<port_allocator>(settings.cfg.bind_address,
                                                settings.cfg.port_range_begin,
                                                settings.cfg.port_range_end);
  res->node = std::move(settings);
  res->log = std::move(log);
  return sys.spawn(node, std::shared_ptr<const node_resources>(std::move(res)));
}

} // namespace gilgal
