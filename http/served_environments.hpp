// What the proxy makes of every environment (its hosts, its URL and its live
// deployment), as the API's environment JSON shows it ("url",
// "liveDeploymentId") and as the domain checks need it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace gilgal {

class request_context;

/// What the proxy makes of one environment.
struct served_environment {
  std::vector<std::string> hosts;
  std::string url;                // empty without a proxy
  std::string live_deployment_id; // empty when none is live
};

/// Environment id -> what the proxy makes of it.
using served_map = std::map<std::string, served_environment>;

/// Every live environment's hosts, URL and live deployment (the store's newest
/// success; the router serves the same). Derived from the store's routes once
/// per write epoch and shared (ctx.env.served), so it is current right after
/// any write.
caf::expected<std::shared_ptr<const served_map>> served_environments(request_context& ctx);

} // namespace gilgal
