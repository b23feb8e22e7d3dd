#include "actors/router.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <spdlog/spdlog.h>

#include "protocol/error.hpp"
#include "proxy/app_hosts.hpp"

namespace gilgal {

namespace {

using self_ptr = router_actor::stateful_pointer<router_state>;
using clock_type = std::chrono::steady_clock;

/// "host:port" of a container on `node`: the node's advertised address, or
/// the control plane's own for nodes that advertise none (the local node).
std::string upstream_of(const router_config& cfg, const std::string& node, int64_t port) {
  auto host = cfg.nodes ? cfg.nodes->address_of(node) : std::string{};
  if (host.empty())
    host = cfg.local_address;
  if (host.find(':') != std::string::npos)
    host = "[" + host + "]"; // IPv6
  return host + ":" + std::to_string(port);
}

void tell(self_ptr self, const std::string& deployment_id, const char* level, std::string text) {
  if (self->state.cfg.log && !deployment_id.empty())
    self->send(self->state.cfg.log, log_atom::value, deployment_id, std::string{level},
               std::move(text));
}

std::string short_id(const std::string& container_id) {
  return container_id.size() > 12 ? container_id.substr(0, 12) + "…" : container_id;
}

std::string seconds_text(clock_type::duration d) {
  auto tenths = std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

/// The upstreams of an environment's replaced containers still draining.
std::vector<std::string> draining_of(const router_state& st, const std::string& environment_id) {
  std::vector<std::string> out;
  for (auto& d : st.draining)
    if (d.environment_id == environment_id)
      out.push_back(d.upstream);
  return out;
}

/// The routes as they should be: the store's environments and live
/// deployments, where a deployment switched in since is newer.
caf::expected<std::vector<proxy::proxy_route>> desired_routes(self_ptr self) {
  auto& st = self->state;
  if (st.cfg.nodes)
    st.nodes_seen = st.cfg.nodes->version();
  auto rows = st.cfg.db->list_environment_routes();
  if (!rows)
    return std::move(rows.error());
  std::vector<proxy::host_claim> claims;
  std::map<std::string, live_container> live;
  std::map<std::string, live_container> switched;
  std::set<std::string> stopped;
  for (auto& r : *rows) {
    claims.push_back({r.environment_id, r.environment_name, r.project_name, r.domain, r.aliases});
    // The store remembers a stop (the live deployment's container stopped
    // through the API): it outlasts a restart of the server. A deployment
    // switched in since is newer than the stopped one.
    auto sw = st.switched.find(r.environment_id);
    if (r.stopped
        && (sw == st.switched.end() || sw->second.deployment_id == r.live_deployment_id))
      st.stopped.insert(r.environment_id);
    if (st.stopped.count(r.environment_id) > 0) {
      stopped.insert(r.environment_id);
      continue; // the 503 page
    }
    live_container chosen;
    if (!r.live_deployment_id.empty() && r.port > 0)
      chosen = {r.live_deployment_id, r.live_created_at, r.container_id,
                upstream_of(st.cfg, r.run_node, r.port), r.run_node};
    if (auto sw = st.switched.find(r.environment_id); sw != st.switched.end()) {
      // Switched in and not yet stored as the newest success: still live.
      if (sw->second.deployment_id != chosen.deployment_id
          && (chosen.deployment_id.empty() || sw->second.created_at > chosen.created_at)) {
        chosen = sw->second;
        switched.emplace(r.environment_id, sw->second);
      }
    }
    if (!chosen.deployment_id.empty())
      live.emplace(r.environment_id, chosen);
  }
  st.stopped = std::move(stopped); // deleted environments are forgotten
  auto hosts = proxy::assign_hosts(claims, st.cfg.apps_domain);
  std::vector<proxy::proxy_route> routes;
  st.hosts.clear();
  for (size_t i = 0; i < claims.size(); ++i) {
    auto& env = claims[i].environment_id;
    proxy::proxy_route r{env, hosts[i], {}, {}};
    if (auto l = live.find(env); l != live.end()) {
      r.upstream = l->second.upstream;
      if (auto c = st.counted.find(env); c != st.counted.end())
        r.counted = c->second;
    }
    st.hosts[env] = hosts[i];
    routes.push_back(std::move(r));
  }
  // Deleted and stopped environments count nothing.
  for (auto i = st.counted.begin(); i != st.counted.end();)
    i = live.count(i->first) > 0 ? std::next(i) : st.counted.erase(i);
  st.live = std::move(live);
  st.switched = std::move(switched);
  return routes;
}

/// Writes the configuration a Caddy started now begins with: the current
/// routes, so that a restarted Caddy serves them at once.
void prepare_start_config(self_ptr self) {
  auto& st = self->state;
  auto routes = desired_routes(self);
  st.supervisor->write_config(
    proxy::caddy_config(st.cfg.proxy, routes ? *routes : std::vector<proxy::proxy_route>{}));
}

/// Makes sure Caddy answers when Gilgal runs it (starting it if needed).
bool ensure_caddy(self_ptr self) {
  auto& st = self->state;
  if (st.admin->answers())
    return true;
  if (!st.supervisor)
    return false;
  prepare_start_config(self);
  std::string message;
  bool up = st.supervisor->wait_until_up(st.cfg.start_timeout, message);
  if (!message.empty())
    spdlog::info("proxy: {}", message);
  return up;
}

/// Derives the configuration and loads it when Caddy runs another one.
caf::expected<int64_t> reconcile(self_ptr self) {
  auto& st = self->state;
  if (!st.cfg.enabled)
    return int64_t{0};
  auto routes = desired_routes(self);
  if (!routes)
    return std::move(routes.error());
  auto desired = proxy::caddy_config(st.cfg.proxy, *routes);
  auto current = st.admin->config();
  if (!current)
    return std::move(current.error());
  if (*current != desired) {
    // A load anyway: retired upstreams need no counting any more.
    for (auto& r : *routes) {
      r.counted = draining_of(st, r.environment_id);
      if (r.counted.empty())
        st.counted.erase(r.environment_id);
      else
        st.counted[r.environment_id] = r.counted;
    }
    desired = proxy::caddy_config(st.cfg.proxy, *routes);
  }
  if (st.supervisor)
    st.supervisor->write_config(desired); // what a restarted Caddy starts with
  if (*current != desired) {
    if (auto loaded = st.admin->load(desired); !loaded)
      return std::move(loaded.error());
    spdlog::info("proxy: applied the routes of {} environment(s)", routes->size());
  }
  st.next_reconcile = clock_type::now() + st.cfg.reconcile_interval;
  return static_cast<int64_t>(routes->size());
}

void schedule_drain(self_ptr self) {
  auto& st = self->state;
  if (st.drain_scheduled || st.draining.empty())
    return;
  st.drain_scheduled = true;
  self->delayed_send(self, st.cfg.drain_poll, drain_atom::value);
}

/// Stops and removes a drained container, then drops it from the route.
void retire(self_ptr self, draining_container d, bool idle, int64_t in_flight) {
  auto& st = self->state;
  auto took = clock_type::now() - d.since;
  self->request(st.cfg.scheduler, std::chrono::seconds{60}, stop_atom::value, d.container_id)
    .then(
      [self, d, idle, in_flight, took](bool) {
        if (idle)
          tell(self, d.deployment_id, "info",
               "Previous container drained and stopped after " + seconds_text(took));
        else
          tell(self, d.deployment_id, "warning",
               "Previous container stopped after the drain timeout of " + seconds_text(took)
                 + " with " + std::to_string(in_flight) + " request(s) still in flight");
      },
      [self, d](const caf::error& err) {
        tell(self, d.deployment_id, "warning",
             "Could not stop the previous container: " + message_of(err));
      });
  // Its upstream stays counted in Caddy until the route changes anyway:
  // removing it now would cost a reload of Caddy's configuration.
}

void drain_tick(self_ptr self) {
  auto& st = self->state;
  st.drain_scheduled = false;
  if (st.draining.empty())
    return;
  auto in_flight = st.admin->upstream_requests();
  auto now = clock_type::now();
  std::vector<draining_container> done;
  std::vector<int64_t> counts;
  for (auto i = st.draining.begin(); i != st.draining.end();) {
    int64_t n = -1; // unknown
    if (in_flight) {
      auto c = in_flight->find(i->upstream);
      n = c == in_flight->end() ? 0 : c->second;
    }
    if (n == 0 || now - i->since >= st.cfg.drain_timeout) {
      done.push_back(*i);
      counts.push_back(n);
      i = st.draining.erase(i);
    } else {
      ++i;
    }
  }
  for (size_t k = 0; k < done.size(); ++k)
    retire(self, done[k], counts[k] == 0, counts[k]);
  schedule_drain(self);
}

/// Without a proxy nothing routes to containers: the previous ones go at once.
caf::result<bool> retire_without_proxy(self_ptr self, const deployment& d) {
  auto rp = self->make_response_promise<bool>();
  self->request(self->state.cfg.scheduler, std::chrono::seconds{60}, retire_atom::value,
                d.environment_id, d.container_id)
    .then(
      [self, rp, id = d.id](int64_t removed) mutable {
        if (removed > 0)
          tell(self, id, "info", "Stopping the environment's previous container");
        rp.deliver(false);
      },
      [self, rp, id = d.id](const caf::error& err) mutable {
        tell(self, id, "warning", "Could not stop the previous container: " + message_of(err));
        rp.deliver(false);
      });
  return rp;
}

caf::result<bool> switch_route(self_ptr self, const deployment& d) {
  auto& st = self->state;
  if (!st.cfg.enabled)
    return retire_without_proxy(self, d);
  auto& env = d.environment_id;
  // A stopped environment comes back with this deployment (the previous
  // route shows the 503 page: the whole configuration is loaded below).
  bool was_stopped = st.stopped.erase(env) > 0;
  live_container next{d.id, d.created_at, d.container_id, upstream_of(st.cfg, d.run_node, d.port),
                      d.run_node};
  live_container previous;
  if (auto i = st.live.find(env); i != st.live.end())
    previous = i->second;
  bool replaces = !previous.container_id.empty() && previous.container_id != next.container_id;
  auto started = clock_type::now();
  caf::expected<void> switched = caf::unit;
  if (!previous.upstream.empty() && st.hosts.count(env) > 0) {
    // The route proxies already: one PATCH moves it (Caddy goes on counting
    // the requests of the previous container, and of those still draining).
    proxy::proxy_route moved{env, st.hosts[env], next.upstream, draining_of(st, env)};
    if (replaces)
      moved.counted.insert(moved.counted.begin(), previous.upstream);
    switched = st.admin->switch_route(moved);
    if (!switched && code_of(switched.error()) == errc::unavailable && ensure_caddy(self))
      switched = st.admin->switch_route(moved);
    if (switched) {
      if (moved.counted.empty())
        st.counted.erase(env);
      else
        st.counted[env] = moved.counted;
    }
  } else {
    switched = make_error(errc::not_found, "no route to move");
  }
  if (switched) {
    st.live[env] = next;
    st.switched[env] = next;
  } else {
    // A new route, or one showing the 503 page, or Caddy lost it: the whole
    // configuration, in one load.
    auto before = st.switched;
    st.switched[env] = next;
    if (replaces)
      st.draining.push_back({d.id, env, previous.container_id, previous.upstream, started});
    auto n = reconcile(self);
    if (!n && code_of(n.error()) == errc::unavailable && ensure_caddy(self))
      n = reconcile(self);
    if (replaces)
      st.draining.pop_back();
    if (!n) {
      st.switched = std::move(before);
      st.live[env] = previous;
      if (was_stopped)
        st.stopped.insert(env);
      return std::move(n.error());
    }
  }
  auto took = clock_type::now() - started;
  auto& hosts = st.hosts[env];
  tell(self, d.id, "info",
       "Routing " + (hosts.empty() ? std::string{"(no host)"} : hosts.front()) + " → container "
         + short_id(d.container_id) + " (node " + d.run_node + ", port "
         + std::to_string(d.port) + ")");
  spdlog::info("proxy: {} → {} in {} ms", hosts.empty() ? env : hosts.front(), next.upstream,
               std::chrono::duration_cast<std::chrono::milliseconds>(took).count());
  if (replaces) {
    st.draining.push_back({d.id, env, previous.container_id, previous.upstream, started});
    schedule_drain(self);
  }
  return true;
}

/// Shows the environment's 503 page: no upstream, nothing draining.
caf::result<bool> stop_route(self_ptr self, const std::string& env) {
  auto& st = self->state;
  if (!st.cfg.enabled)
    return false;
  st.stopped.insert(env);
  st.switched.erase(env);
  st.live.erase(env);
  st.draining.erase(std::remove_if(st.draining.begin(), st.draining.end(),
                                   [&](const draining_container& d) {
                                     return d.environment_id == env;
                                   }),
                    st.draining.end());
  auto n = reconcile(self);
  if (!n && code_of(n.error()) == errc::unavailable && ensure_caddy(self))
    n = reconcile(self);
  if (!n) {
    st.next_reconcile = clock_type::now(); // stays stopped: the next tick applies it
    return std::move(n.error());
  }
  spdlog::info("proxy: environment {} stopped: its hosts show the 503 page", env);
  return true;
}

void tick(self_ptr self) {
  auto& st = self->state;
  if (st.caddy_log)
    for (auto& e : st.caddy_log->read_new()) {
      if (e.level == "error" || e.level == "fatal" || e.level == "panic")
        spdlog::error("caddy: {}", e.text);
      else if (e.level == "warn")
        spdlog::warn("caddy: {}", e.text);
      else if (e.level == "debug")
        spdlog::debug("caddy: {}", e.text);
      else
        spdlog::info("caddy: {}", e.text);
    }
  bool up = false;
  if (st.supervisor) {
    if (!st.caddy_up)
      prepare_start_config(self);
    std::string message;
    auto state = st.supervisor->check(message);
    if (!message.empty()) {
      if (state == proxy::caddy_supervisor::state::failed)
        spdlog::error("proxy: cannot start Caddy: {}", message);
      else
        spdlog::info("proxy: {}", message);
    }
    up = state == proxy::caddy_supervisor::state::up;
  } else {
    up = st.admin->answers();
  }
  if (up && !st.caddy_up)
    st.next_reconcile = clock_type::now(); // Caddy (re)started: its routes may be old
  if (st.cfg.nodes && st.cfg.nodes->version() != st.nodes_seen)
    st.next_reconcile = clock_type::now(); // a node (re)joined with another address
  if (!up && st.caddy_up)
    spdlog::warn("proxy: Caddy does not answer on {}", st.admin->address());
  st.caddy_up = up;
  if (up && clock_type::now() >= st.next_reconcile) {
    if (auto n = reconcile(self); !n) {
      spdlog::warn("proxy: could not apply the routes: {}", message_of(n.error()));
      st.next_reconcile = clock_type::now() + std::chrono::seconds{2};
    }
  }
  self->delayed_send(self, st.cfg.check_interval, tick_atom::value);
}

} // namespace

router_actor::behavior_type router(router_actor::stateful_pointer<router_state> self,
                                   router_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  if (st.cfg.enabled) {
    st.admin = std::make_unique<proxy::caddy_admin>(st.cfg.proxy.admin_listen);
    if (st.cfg.supervise)
      st.supervisor = std::make_unique<proxy::caddy_supervisor>(st.cfg.launch,
                                                                st.cfg.proxy.admin_listen);
    if (!st.cfg.caddy_log.empty())
      st.caddy_log = std::make_unique<proxy::caddy_log_follower>(st.cfg.caddy_log);
    self->send(self, tick_atom::value);
  }
  return {
    [self](route_atom, const deployment& d) -> caf::result<bool> {
      return switch_route(self, d);
    },
    [self](stop_atom, const std::string& environment_id) -> caf::result<bool> {
      return stop_route(self, environment_id);
    },
    [self](reconcile_atom) -> caf::result<int64_t> {
      auto& st = self->state;
      if (!st.cfg.enabled)
        return int64_t{0};
      if (!st.caddy_up)
        st.caddy_up = ensure_caddy(self);
      auto n = reconcile(self);
      if (!n)
        return std::move(n.error());
      return *n;
    },
    [self](tick_atom) { tick(self); },
    [self](drain_atom) { drain_tick(self); },
  };
}

router_actor spawn_router(caf::actor_system& sys, router_config cfg) {
  return sys.spawn<caf::detached>(router, std::move(cfg));
}

} // namespace gilgal
