#include "actors/image_janitor.hpp"

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "nodes/docker_client.hpp"
#include "nodes/image_retention.hpp"
#include "protocol/error.hpp"
#include "protocol/type_ids.hpp"

namespace gilgal {

namespace {

struct janitor_state {
  bool busy = false; // a prune is running: skip overlapping ticks
  static inline const char* name = "image_janitor";
};

caf::behavior janitor(caf::stateful_actor<janitor_state>* self,
                      std::shared_ptr<docker_client> docker,
                      std::chrono::seconds interval) {
  if (interval.count() > 0)
    self->send(self, prune_atom::value);
  self->set_down_handler([self](caf::down_msg&) { self->state.busy = false; });
  return {
    [self, docker, interval](prune_atom) {
      self->delayed_send(self, interval, prune_atom::value);
      if (self->state.busy)
        return;
      self->state.busy = true;
      auto worker = self->spawn<caf::detached>([docker](caf::event_based_actor*) {
        auto res = prune_dangling_images(*docker);
        if (!res)
          spdlog::warn("image janitor: prune failed: {}", message_of(res.error()));
        else if (!res->deleted.empty())
          spdlog::info("image janitor: pruned {} dangling image layers, {} bytes reclaimed",
                       res->deleted.size(), res->space_reclaimed);
      });
      self->monitor(worker);
    },
  };
}

} // namespace

caf::actor spawn_image_janitor(caf::actor_system& sys, std::shared_ptr<docker_client> docker,
                               std::chrono::seconds interval) {
  return sys.spawn(janitor, std::move(docker), interval);
}

} // namespace gilgal
