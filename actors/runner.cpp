#include "actors/runner.hpp"

#include "nodes/container_runner.hpp"
#include "protocol/error.hpp"

namespace gilgal {

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
              auto result = run_container(j, res->node, *res->docker, *res->ports, abort, log);
              // Cancelled after the container became healthy: remove it too.
              if (result && abort->triggered()) {
                remove_container_and_port(result->container_id, *res->docker, *res->ports);
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
