#include "cli/cluster_listener.hpp"

#include <caf/io/middleman.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/send.hpp>

#include "actors/gatekeeper.hpp"
#include "cli/cluster_config.hpp"
#include "config/cluster_secret.hpp"
#include "protocol/error.hpp"

namespace gilgal::cli {

caf::expected<uint16_t> open_cluster_listener(caf::actor_system& sys, const settings& s,
                                              scheduler_actor scheduler, logger_actor logger,
                                              deployment_store_actor db,
                                              std::shared_ptr<admitted_nodes> admitted) {
  auto address = split_host_port(s.cluster_listen);
  if (!address)
    return make_error(errc::invalid_argument, "cluster_listen: " + message_of(address.error()));
  if (auto ok = check_cluster_tls(s); !ok)
    return ok.error();
  auto secret = load_cluster_secret(s);
  if (!secret)
    return secret.error();
  if (!sys.has_middleman())
    return make_error(errc::internal, "the cluster listener needs the middleman loaded");
  if (s.tls_enabled() && !sys.has_openssl_manager())
    return make_error(errc::internal, "cluster TLS needs the OpenSSL manager loaded");
  gatekeeper_config cfg;
  cfg.secret = std::move(*secret);
  cfg.scheduler = std::move(scheduler);
  cfg.log = std::move(logger);
  cfg.db = std::move(db);
  cfg.admitted = std::move(admitted);
  cfg.max_capacity = s.max_node_capacity;
  auto gk = spawn_gatekeeper(sys, std::move(cfg));
  auto& [host, port] = *address;
  auto bound = s.tls_enabled() ? caf::openssl::publish(gk, port, host.c_str(), true)
                               : sys.middleman().publish(gk, port, host.c_str(), true);
  if (!bound) {
    caf::anon_send_exit(gk, caf::exit_reason::user_shutdown);
    return make_error(errc::unavailable, "cannot listen for nodes on " + s.cluster_listen + ": "
                                           + sys.render(bound.error()));
  }
  return *bound;
}

} // namespace gilgal::cli
