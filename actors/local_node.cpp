#include "actors/local_node.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "actors/container_watcher.hpp"
#include "actors/image_janitor.hpp"

#include "nodes/container_control.hpp"
#include "nodes/container_health.hpp"
#include "nodes/container_logs.hpp"
#include "nodes/container_runner.hpp"
#include "nodes/docker_client.hpp"
#include "nodes/image_retention.hpp"

namespace gilgal {

namespace {

/// One-shot detached worker for a blocking container operation.
using container_op_actor = caf::typed_actor<
  caf::replies_to<stop_atom, std::string>::with<bool>,
  caf::replies_to<retire_atom, std::string, std::string>::with<int64_t>,
  caf::replies_to<list_atom>::with<std::map<std::string, std::string>>,
  caf::replies_to<health_atom, std::string>::with<container_health>,
  caf::replies_to<retain_atom, std::string, std::set<std::string>>::with<int64_t>,
  caf::replies_to<logs_atom, std::string, container_log_query>::with<container_log_batch>,
  caf::replies_to<control_atom, container_command>::with<container_health>>;

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
    [self, res](list_atom) -> caf::result<std::map<std::string, std::string>> {
      self->quit();
      auto r = list_managed_containers(res->node);
      if (!r)
        return r.error();
      return std::move(*r);
    },
    [self, res](health_atom, const std::string& id) -> caf::result<container_health> {
      self->quit();
      docker_client docker{res->node.cfg.docker_host};
      auto r = container_health_of(docker, id);
      if (!r)
        return r.error();
      return std::move(*r);
    },
    [self, res](retain_atom, const std::string& project_id,
                const std::set<std::string>& keep) -> caf::result<int64_t> {
      self->quit();
      docker_client docker{res->node.cfg.docker_host};
      auto r = remove_unretained_images(docker, project_id, keep);
      if (!r)
        return r.error();
      return *r;
    },
    [self, res](logs_atom, const std::string& id,
                const container_log_query& query) -> caf::result<container_log_batch> {
      self->quit();
      auto r = read_container_logs(res->node.cfg.docker_host, id, query);
      if (!r)
        return r.error();
      return std::move(*r);
    },
    [self, res](control_atom, const container_command& cmd) -> caf::result<container_health> {
      self->quit();
      auto r = control_container(res->node, cmd);
      if (!r)
        return r.error();
      return std::move(*r);
    },
  };
}

} // namespace

node_actor::behavior_type node(node_actor::pointer self,
                               std::shared_ptr<const node_resources> res) {
  if (res->node.housekeeping) {
    auto watcher = spawn_container_watcher(self->system(),
                                           {res->node.cfg.docker_host, res->log});
    auto janitor = spawn_image_janitor(
      self->system(), res->node.cfg.docker_host,
      std::chrono::seconds{res->node.cfg.image_prune_interval_seconds});
    // They end with the node, whatever its exit reason.
    self->attach_functor([watcher, janitor](const caf::error&) {
      caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(janitor, caf::exit_reason::user_shutdown);
    });
  }
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
    [self, res](list_atom) -> caf::result<std::map<std::string, std::string>> {
      auto op = self->spawn<caf::detached>(container_op, res);
      return self->delegate(op, list_atom::value);
    },
    [self, res](health_atom, const std::string& id) -> caf::result<container_health> {
      auto op = self->spawn<caf::detached>(container_op, res);
      return self->delegate(op, health_atom::value, id);
    },
    [self, res](retain_atom, const std::string& project_id,
                const std::set<std::string>& keep) -> caf::result<int64_t> {
      auto op = self->spawn<caf::detached>(container_op, res);
      return self->delegate(op, retain_atom::value, project_id, keep);
    },
    [self, res](logs_atom, const std::string& id,
                const container_log_query& query) -> caf::result<container_log_batch> {
      auto op = self->spawn<caf::detached>(container_op, res);
      return self->delegate(op, logs_atom::value, id, query);
    },
    [self, res](control_atom, const container_command& cmd) -> caf::result<container_health> {
      auto op = self->spawn<caf::detached>(container_op, res);
      return self->delegate(op, control_atom::value, cmd);
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
