#include "http/node_routes.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include <caf/scoped_actor.hpp>

#include "protocol/cluster.hpp"
#include "protocol/error.hpp"
#include "protocol/json.hpp"

namespace gilgal {

namespace {

// The scheduler answers from memory; a slow answer means it is overloaded.
constexpr auto scheduler_timeout = std::chrono::seconds(10);

caf::error list_nodes(request_context& ctx) {
  auto& scheduler = ctx.env.services.scheduler;
  if (!scheduler || !ctx.env.sys)
    return make_error(errc::unavailable, "the scheduler is not running");
  caf::expected<std::vector<node_status>> nodes{std::vector<node_status>{}};
  {
    caf::scoped_actor self{*ctx.env.sys};
    self->request(scheduler, scheduler_timeout, list_atom::value, node_atom::value)
      .receive([&](std::vector<node_status>& xs) { nodes = std::move(xs); },
               [&](caf::error& err) { nodes = std::move(err); });
  }
  if (!nodes) {
    if (nodes.error() == caf::sec::request_timeout)
      return make_error(errc::timeout, "the scheduler did not answer within 10s");
    if (nodes.error().category() != error_category)
      return make_error(errc::unavailable, "the scheduler is not running");
    return std::move(nodes.error());
  }
  std::sort(nodes->begin(), nodes->end(),
            [](const node_status& a, const node_status& b) { return a.name < b.name; });
  auto items = nlohmann::json::array();
  for (auto& n : *nodes)
    items.push_back(to_json(n));
  ctx.reply(200, {{"nodes", std::move(items)}});
  return {};
}

} // namespace

void add_node_routes(router& r) {
  r.add("GET", "/api/nodes", list_nodes);
}

} // namespace gilgal
