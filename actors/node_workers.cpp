#include "actors/node_workers.hpp"

#include <caf/send.hpp>

#include "nodes/container_runner.hpp"
#include "nodes/image_builder.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

/// A log function for worker threads: sends to the logger (thread-safe) as
/// `sender` (the logger refuses lines without a sender).
log_function log_to(const logger_actor& logger, const std::string& deployment_id,
                    caf::actor sender) {
  return [logger, deployment_id, sender](const std::string& level, const std::string& message) {
    caf::send_as(sender, logger, log_atom::value, deployment_id, level, message);
  };
}

/// Makes `self` fire `abort` when it terminates abnormally, and quit normally
/// once `worker` is done.
template <class Self, class Worker>
void supervise(Self* self, const Worker& worker, std::shared_ptr<abort_signal> abort) {
  self->attach_functor([abort](const caf::error& reason) {
    if (reason)
      abort->trigger();
  });
  self->monitor(worker);
  self->set_down_handler([self](caf::down_msg&) { self->quit(); });
}

} // namespace

builder_actor::behavior_type builder(builder_actor::pointer self,
                                     std::shared_ptr<const node_resources> res) {
  return {
    [self, res](build_atom, const build_job& job) -> caf::result<build_result> {
      auto abort = abort_signal::make();
      auto log = log_to(res->log, job.deployment_id, caf::actor_cast<caf::actor>(self));
      // The worker handles exactly one request and then quits.
      builder_actor worker = self->spawn<caf::detached>(
        [res, abort, log](builder_actor::pointer worker_self) -> builder_actor::behavior_type {
          return {
            [worker_self, res, abort, log](build_atom,
                                           const build_job& j) -> caf::result<build_result> {
              auto result = build_image(j, res->node, abort, log);
              worker_self->quit();
              if (!result)
                return result.error();
              return std::move(*result);
            },
          };
        });
      supervise(self, worker, abort);
      return self->delegate(worker, build_atom::value, job);
    },
  };
}

runner_actor::behavior_type runner(runner_actor::pointer self,
                                   std::shared_ptr<const node_resources> res) {
  return {
    [self, res](run_atom, const run_job& job) -> caf::result<run_result> {
      auto abort = abort_signal::make();
      auto log = log_to(res->log, job.deployment_id, caf::actor_cast<caf::actor>(self));
      runner_actor worker = self->spawn<caf::detached>(
        [res, abort, log](runner_actor::pointer worker_self) -> runner_actor::behavior_type {
          return {
            [worker_self, res, abort, log](run_atom, const run_job& j) -> caf::result<run_result> {
              auto result = run_container(j, res->node, *res->ports, abort, log);
              // Cancelled after the container became healthy: remove it too.
              if (result && abort->triggered()) {
                remove_container_and_port(result->container_id, res->node, *res->ports);
                worker_self->quit();
                return make_error(errc::cancelled, "cancelled");
              }
              worker_self->quit();
              if (!result)
                return result.error();
              return std::move(*result);
            },
          };
        });
      supervise(self, worker, abort);
      return self->delegate(worker, run_atom::value, job);
    },
  };
}

} // namespace gilgal
