#include "cli/actor_runtime.hpp"

#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "protocol/type_ids.hpp"

namespace gilgal::cli {

void configure_actor_system(caf::actor_system_config& cfg) {
  add_message_types(cfg);
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("scheduler.max-threads", 2);
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
}

void stop_actor(caf::actor_system& sys, const caf::actor& whom, const char* name,
                std::chrono::seconds limit) {
  if (!whom)
    return;
  caf::scoped_actor self{sys};
  self->monitor(whom);
  self->send_exit(whom, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {},
                caf::after(limit) >> [name, limit] {
                  spdlog::warn("{} did not stop within {}s", name, limit.count());
                });
}

} // namespace gilgal::cli
