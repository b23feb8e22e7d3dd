// Which remote actor systems may talk to the control plane's actors. CAF 0.17's
// BASP lets any connected peer send to an actor whose ID it guesses once that
// actor was serialized to some node (scheduler, logger, deployment actors), so
// those actors look at every message's sender: local senders are trusted, a
// remote sender only when its node ID belongs to a node the gatekeeper
// admitted (proof of the cluster secret). The gatekeeper writes; the mailbox
// guards of other actors read, from any thread.
//
// An ID stays admitted for the life of the process (a node ID names one
// process run): messages that a lost node's proxies deliver after its loss
// (down and exit messages) must still get through.
#pragma once

#include <mutex>
#include <unordered_set>

#include <caf/actor_addr.hpp>
#include <caf/node_id.hpp>

namespace gilgal {

class admitted_nodes {
public:
  /// The gatekeeper admits a node once it proved the cluster secret.
  void admit(const caf::node_id& node);

  bool contains(const caf::node_id& node) const;

  /// True for a sender of this actor system (`self`) or of an admitted node.
  /// A message without a sender passes too: CAF cannot tell a remote
  /// anonymous message from a local one, so handlers that act on node-side
  /// messages must also require a sender (see from_local_or_admitted).
  bool admits(const caf::strong_actor_ptr& sender, const caf::node_id& self) const;

private:
  mutable std::mutex mtx_;
  std::unordered_set<caf::node_id> nodes_;
};

} // namespace gilgal
