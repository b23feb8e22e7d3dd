#include "http/served_environments.hpp"

#include "http/request_context.hpp"
#include "proxy/app_hosts.hpp"

namespace gilgal {

caf::expected<std::shared_ptr<const served_map>> served_environments(request_context& ctx) {
  auto epoch = ctx.db().write_epoch(); // before the reads (see view_cache)
  if (auto kept = ctx.env.served->find({}, epoch))
    return kept;
  auto rows = ctx.db().list_environment_routes();
  if (!rows)
    return std::move(rows.error());
  auto& cfg = ctx.env.cfg;
  std::vector<proxy::host_claim> claims;
  claims.reserve(rows->size());
  for (auto& r : *rows)
    claims.push_back({r.environment_id, r.environment_name, r.project_name, r.domain, r.aliases});
  auto hosts = proxy::assign_hosts(claims, cfg.apps_domain);
  bool https = cfg.proxy_tls != "off";
  auto out = std::make_shared<served_map>();
  for (size_t i = 0; i < rows->size(); ++i) {
    served_environment s;
    s.hosts = std::move(hosts[i]);
    if (!cfg.proxy_listen.empty() && !s.hosts.empty())
      s.url = proxy::app_url(s.hosts.front(), https,
                             https ? cfg.proxy_https_listen : cfg.proxy_listen);
    s.live_deployment_id = std::move((*rows)[i].live_deployment_id);
    out->emplace(std::move((*rows)[i].environment_id), std::move(s));
  }
  std::shared_ptr<const served_map> view = std::move(out);
  ctx.env.served->put({}, epoch, view);
  return view;
}

} // namespace gilgal
