// A stateful typed actor whose mailbox drops every message from a remote actor
// system that the gatekeeper did not admit (see admitted_nodes.hpp), before
// the message is handled: requests, responses, and the system messages too
// (an exit message with reason `kill` cannot be trapped, so a peer could
// otherwise stop any actor it can address). Drops are logged with the actor's
// name and the sender's node, never with the content; so are messages the
// actor does not understand (CAF's default would print them).
//
//   sys.spawn<guarded_actor<scheduler_actor, scheduler_state>>(
//     admitted, [cfg](auto self) { return scheduler(self, cfg); });
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <utility>

#include <caf/actor_config.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/to_string.hpp>
#include <spdlog/spdlog.h>

#include "actors/admitted_nodes.hpp"

namespace gilgal {

template <class Handle, class State>
class guarded_actor : public caf::stateful_actor<State, typename Handle::base> {
public:
  using super = caf::stateful_actor<State, typename Handle::base>;
  using pointer = typename Handle::template stateful_pointer<State>;
  using behavior_type = typename Handle::behavior_type;
  using behavior_function = std::function<behavior_type(pointer)>;

  guarded_actor(caf::actor_config& cfg, std::shared_ptr<const admitted_nodes> admitted,
                behavior_function fun)
    : super(cfg), admitted_(std::move(admitted)), fun_(std::move(fun)) {
    // nop
  }

  behavior_type make_behavior() override {
    // CAF's default prints an unexpected message's content to the log.
    this->set_default_handler(caf::drop);
    return fun_(this);
  }

  void enqueue(caf::mailbox_element_ptr ptr, caf::execution_unit* eu) override {
    if (ptr && admitted_ && !admitted_->admits(ptr->sender, this->node())) {
      auto n = ++dropped_;
      // At most a handful of lines for a flood.
      if (n <= 10 || n % 1000 == 0)
        spdlog::warn("cluster: {} dropped a message from node {} that never joined ({} so far)",
                     State::name, caf::to_string(ptr->sender->node()), n);
      return;
    }
    super::enqueue(std::move(ptr), eu);
  }

private:
  std::shared_ptr<const admitted_nodes> admitted_;
  behavior_function fun_;
  std::atomic<size_t> dropped_{0};
};

} // namespace gilgal
