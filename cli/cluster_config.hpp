// Actor system configuration shared by the control plane (`gilgal serve
// --cluster-listen`) and build nodes (`gilgal node`): CAF's middleman, its
// heartbeat and connection timeout, and OpenSSL with certificates when TLS is
// configured.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>

#include "config/settings.hpp"

namespace gilgal::cli {

/// Middleman heartbeat: every connection carries traffic at least this often.
constexpr auto cluster_heartbeat_interval = std::chrono::seconds{1};
/// A connection without any traffic for this long is closed (its remote
/// actors go down, which the scheduler and the node agent see).
constexpr auto cluster_connection_timeout = std::chrono::seconds{5};

/// Loads caf::io::middleman (and caf::openssl::manager when s.tls_enabled(),
/// with s's certificate, key and CA: peers must then present a certificate
/// signed by that CA) and sets the middleman heartbeat and connection
/// timeout. Call before the actor_system is constructed, after the rest of
/// the configuration. errc::invalid_argument if a TLS file cannot be read.
caf::expected<void> configure_cluster(caf::actor_system_config& cfg, const settings& s);

/// True for a host that only this machine can reach: "localhost" or an
/// address in 127.0.0.0/8 or ::1. An empty host (every interface) is not.
bool is_loopback_host(const std::string& host);

/// `--cluster-listen` on an address other machines can reach requires mutual
/// TLS (certificate, key and the cluster CA that every peer's certificate must
/// be signed by): errc::invalid_argument naming the missing settings. On
/// loopback without TLS it logs a warning and succeeds (tests, one machine).
caf::expected<void> check_cluster_tls(const settings& s);

/// Splits "HOST:PORT" (validated by config/settings.cpp's validate()).
/// errc::invalid_argument if it is not of that form.
caf::expected<std::pair<std::string, uint16_t>> split_host_port(const std::string& text);

} // namespace gilgal::cli
