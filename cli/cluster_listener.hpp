// The control plane's side of the build farm: `gilgal serve --cluster-listen
// HOST:PORT` publishes the gatekeeper (actors/gatekeeper.hpp) there, the only
// actor a peer can reach. Over TLS (caf_openssl) when certificates are set.
#pragma once

#include <cstdint>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/admitted_nodes.hpp"
#include "config/settings.hpp"
#include "protocol/interfaces.hpp"

namespace gilgal::cli {

/// Spawns the gatekeeper and publishes it on s.cluster_listen; returns the
/// bound port (the given one, or the one chosen for port 0). The actor system
/// must have been configured with configure_cluster(). The gatekeeper records
/// the nodes it admits in `admitted` (shared with the scheduler's and the
/// logger's mailbox guards). Errors (errc::invalid_argument): no or too short
/// cluster secret, bad address, a non-loopback address without mutual TLS
/// (see check_cluster_tls), TLS configured but OpenSSL not loaded;
/// (errc::unavailable) the port cannot be bound. The gatekeeper stops when
/// `scheduler` or `logger` terminates.
caf::expected<uint16_t> open_cluster_listener(caf::actor_system& sys, const settings& s,
                                              scheduler_actor scheduler, logger_actor logger,
                                              deployment_store_actor db,
                                              std::shared_ptr<admitted_nodes> admitted);

} // namespace gilgal::cli
