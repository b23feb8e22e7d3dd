#include "actors/builder.hpp"

#include "nodes/image_builder.hpp"

namespace gilgal {

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
              auto result = build_image(j, res->node, *res->docker, abort, log);
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

} // namespace gilgal
