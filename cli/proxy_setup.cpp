#include "cli/proxy_setup.hpp"

#include <filesystem>
#include <fstream>

#include "protocol/error.hpp"

namespace gilgal::cli {

namespace {

// sun_path holds 108 bytes with the terminating NUL.
constexpr size_t max_socket_path = 107;

/// Where the edge is reachable from Caddy on this machine.
std::string local_upstream(const std::string& listen) {
  auto colon = listen.rfind(':');
  auto host = listen.substr(0, colon);
  if (host.empty() || host == "0.0.0.0" || host == "*")
    host = "127.0.0.1";
  return host + listen.substr(colon);
}

} // namespace

caf::expected<router_config> router_settings(const settings& s, std::shared_ptr<store> db,
                                             scheduler_actor scheduler, logger_actor log) {
  router_config cfg;
  cfg.db = std::move(db);
  cfg.scheduler = std::move(scheduler);
  cfg.log = std::move(log);
  cfg.enabled = !s.proxy_listen.empty();
  cfg.drain_timeout = std::chrono::seconds{s.drain_timeout_seconds};
  cfg.local_address = s.bind_address == "0.0.0.0" ? "127.0.0.1" : s.bind_address;
  cfg.apps_domain = s.apps_domain;
  if (!cfg.enabled)
    return cfg;
  auto tls = proxy::parse_tls_mode(s.proxy_tls);
  if (!tls)
    return std::move(tls.error());
  auto& p = cfg.proxy;
  p.http_listen = s.proxy_listen;
  p.https_listen = s.proxy_https_listen;
  p.tls = *tls;
  p.acme_email = s.acme_email;
  p.api_domain = s.api_domain;
  p.api_upstream = local_upstream(s.listen);
  p.api_max_body_bytes = s.max_body_bytes;
  if (!s.proxy_admin.empty()) {
    // The operator's Caddy: its logging and storage stay as they are.
    p.admin_listen = s.proxy_admin;
    return cfg;
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  auto dir = fs::absolute(fs::path{s.data_dir} / "caddy", ec).lexically_normal().string();
  if (ec || (fs::create_directories(dir, ec), ec))
    return make_error(errc::internal, "cannot create " + dir + " for Caddy");
  auto socket = dir + "/admin.sock";
  if (socket.size() > max_socket_path)
    return make_error(errc::invalid_argument,
                      "data_dir: " + socket + " is too long a path for Caddy's admin socket ("
                        + std::to_string(max_socket_path) + " bytes at most); use a shorter "
                        "--data-dir or --proxy-admin");
  p.admin_listen = "unix/" + socket;
  p.storage_dir = dir + "/storage";
  p.log_file = dir + "/caddy.log";
  cfg.supervise = true;
  cfg.caddy_log = p.log_file;
  cfg.launch.config_file = dir + "/config.json";
  cfg.launch.pid_file = dir + "/caddy.pid";
  cfg.launch.output_file = p.log_file;
  cfg.launch.env = {{"HOME", dir}, {"XDG_DATA_HOME", dir + "/data"},
                    {"XDG_CONFIG_HOME", dir + "/config"}};
  return cfg;
}

std::string listener_migration_warning() {
  std::ifstream in{"/proc/sys/net/ipv4/tcp_migrate_req"};
  std::string value;
  if (in >> value && value != "0")
    return {};
  return "net.ipv4.tcp_migrate_req is not 1 (as root: sysctl -w net.ipv4.tcp_migrate_req=1, "
         "or scripts/services/proxy-host ensure): a client connecting at the instant of a "
         "route switch may see its connection reset";
}

std::string proxy_address(const settings& s) {
  std::string out = "http://" + s.proxy_listen;
  if (s.proxy_tls != "off")
    out += " and https://" + s.proxy_https_listen;
  return out;
}

} // namespace gilgal::cli
