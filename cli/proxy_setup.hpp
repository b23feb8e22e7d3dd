// How `gilgal serve` sets up the proxy from its settings: where Gilgal's own
// Caddy keeps its files (DATA_DIR/caddy: admin.sock, caddy.pid, caddy.log,
// config.json, storage/), or which operator's Caddy it drives.
#pragma once

#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "actors/router.hpp"
#include "config/settings.hpp"

namespace gilgal::cli {

/// The router's configuration. `enabled` is false without --proxy-listen.
/// errc::invalid_argument when the data dir is too long a path for Caddy's
/// admin socket; errc::internal when DATA_DIR/caddy cannot be made.
caf::expected<router_config> router_settings(const settings& s, std::shared_ptr<store> db,
                                             scheduler_actor scheduler, logger_actor log);

/// A warning when this machine resets connections at Caddy's configuration
/// changes: Caddy 2.6 binds a new listening socket (SO_REUSEPORT) at each one,
/// and connections waiting in the old socket's queue move to the new one only
/// with net.ipv4.tcp_migrate_req = 1 (Linux 5.14+). Empty when it is set.
std::string listener_migration_warning();

/// "http://127.0.0.1:8000" (and the HTTPS address when TLS is on), for logs.
std::string proxy_address(const settings& s);

} // namespace gilgal::cli
