#include "actors/container_sweep.hpp"

#include <algorithm>
#include <chrono>

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "protocol/error.hpp"

namespace gilgal {

namespace {

constexpr auto sweep_timeout = std::chrono::seconds{60};

// A function-based actor without a behaviour lives while it awaits
// responses and terminates after the last one (or when the node or the
// store goes down, or the actor that spawned it terminates).
void sweeper(caf::event_based_actor* self, sweep_target node, deployment_store_actor db,
             std::string node_name) {
  // " on node NAME" for the log lines, or nothing.
  auto name = node_name.empty() ? std::string{} : " on node " + node_name;
  // A target that stops may never answer (a promise it held dies with it):
  // give up at once instead of waiting for the timeouts.
  self->monitor(node);
  self->monitor(db);
  self->set_down_handler([self](caf::down_msg&) { self->quit(); });
  self->request(node, sweep_timeout, list_atom::value)
    .then(
      [self, node, db, name](const std::map<std::string, std::string>& containers) {
        if (containers.empty())
          return;
        self->request(db, sweep_timeout, keep_atom::value, containers)
          .then(
            [self, node, name, containers](const std::vector<std::string>& keep) {
              for (auto& [container, deployment_id] : containers) {
                if (std::find(keep.begin(), keep.end(), container) != keep.end()) {
                  spdlog::info("re-adopted container {} of deployment {}{}",
                               container.substr(0, 12), deployment_id, name);
                  continue;
                }
                spdlog::info("removing orphan container {} (deployment {}){}",
                             container.substr(0, 12), deployment_id, name);
                self->request(node, sweep_timeout, stop_atom::value, container)
                  .then([](bool) {},
                        [name](const caf::error& err) {
                          spdlog::warn("container sweep{}: {}", name,
                                       message_of(err));
                        });
              }
            },
            [name](const caf::error& err) {
              spdlog::warn("container sweep{} skipped: {}", name, message_of(err));
            });
      },
      [name](const caf::error& err) {
        spdlog::warn("container sweep{} skipped (Docker): {}", name, message_of(err));
      });
}

} // namespace

void sweep_node_containers(caf::local_actor* self, sweep_target node, deployment_store_actor db,
                           std::string node_name) {
  if (!node || !db)
    return;
  // Linked: the sweep ends with the actor that started it (e.g. at shutdown).
  self->spawn<caf::linked>(sweeper, std::move(node), std::move(db), std::move(node_name));
}

} // namespace gilgal
