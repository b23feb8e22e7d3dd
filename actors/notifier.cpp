#include "actors/notifier.hpp"

#include <set>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "nodes/host_resolver.hpp"
#include "nodes/http_post.hpp"
#include "protocol/bytes.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "protocol/json.hpp"
#include "protocol/network_address.hpp"
#include "proxy/app_hosts.hpp"

namespace gilgal {

namespace {

using nlohmann::json;

/// One target of one event: the same delivery id and body on every attempt.
struct pending_delivery {
  std::string url;
  std::string delivery_id;
  std::string body;
  int attempts = 0;
};

struct delivery_state {
  static inline const char* name = "notification_delivery";
  notifier_config cfg;
  std::string event;
  deployment record;
  std::string secret;
  std::vector<pending_delivery> targets;
  size_t open = 0; // targets neither delivered nor given up
};

using delivery_ptr = caf::stateful_actor<delivery_state>*;

/// The URL the proxy serves the environment at (as GET /api/environments/:id
/// shows it), or null without a proxy or when it is gone.
json environment_url(const notifier_config& cfg, store& db, const std::string& environment_id) {
  if (cfg.proxy_listen.empty())
    return nullptr;
  auto rows = db.list_environment_routes();
  if (!rows)
    return nullptr;
  std::vector<proxy::host_claim> claims;
  for (auto& r : *rows)
    claims.push_back({r.environment_id, r.environment_name, r.project_name, r.domain, r.aliases});
  auto hosts = proxy::assign_hosts(claims, cfg.apps_domain);
  for (size_t i = 0; i < rows->size(); ++i)
    if ((*rows)[i].environment_id == environment_id && !hosts[i].empty())
      return proxy::app_url(hosts[i].front(), cfg.proxy_https, cfg.proxy_listen);
  return nullptr;
}

/// "host:port:address" entries that make libcurl connect where we checked.
caf::expected<std::vector<std::string>> pinned_addresses(const std::string& url,
                                                         bool allow_private) {
  auto target = parse_url_target(url);
  if (!target)
    return std::move(target.error());
  auto addresses = resolve_target("url", target->host, allow_private);
  if (!addresses)
    return std::move(addresses.error());
  std::vector<std::string> out;
  for (auto& a : *addresses) {
    auto text = a.v6 ? "[" + a.to_string() + "]" : a.to_string();
    out.push_back(target->host + ":" + std::to_string(target->port) + ":" + text);
  }
  return out;
}

/// One attempt at target `i`; records it; true when it was delivered.
bool attempt(delivery_ptr self, size_t i) {
  auto& st = self->state;
  auto& t = st.targets[i];
  ++t.attempts;
  notification_attempt row;
  row.project_id = st.record.project_id;
  row.deployment_id = st.record.id;
  row.delivery_id = t.delivery_id;
  row.event = st.event;
  row.url = t.url;
  row.attempt = t.attempts;
  auto pinned = pinned_addresses(t.url, st.cfg.allow_private_targets);
  if (!pinned) {
    row.error = message_of(pinned.error());
  } else {
    http_post_request req;
    req.url = t.url;
    req.body = t.body;
    req.pinned = std::move(*pinned);
    req.timeout = st.cfg.request_timeout;
    req.headers = {"Content-Type: application/json",
                   "User-Agent: Gilgal-Notifier",
                   "X-Gilgal-Event: " + st.event,
                   "X-Gilgal-Delivery: " + t.delivery_id,
                   "X-Gilgal-Signature-256: sha256=" + hmac_sha256_hex(st.secret, t.body)};
    auto status = http_post(req);
    if (!status)
      row.error = message_of(status.error());
    else
      row.status_code = *status;
    row.success = status && *status >= 200 && *status < 300;
    if (status && !row.success)
      row.error = "HTTP " + std::to_string(*status);
  }
  if (auto stored = st.cfg.db->add_notification_attempt(row); !stored)
    spdlog::warn("notification {} of deployment {}: attempt not recorded: {}", t.delivery_id,
                 st.record.id, message_of(stored.error()));
  if (!row.success)
    spdlog::info("notification {} ({}) of deployment {}: attempt {} failed: {}", t.delivery_id,
                 st.event, st.record.id, t.attempts, row.error);
  return row.success;
}

/// Attempts target `i`; schedules its retry or closes it.
void try_target(delivery_ptr self, size_t i) {
  auto& st = self->state;
  auto& t = st.targets[i];
  bool delivered = false;
  try {
    delivered = attempt(self, i);
  } catch (const std::exception& e) { // counts as a failed attempt
    spdlog::error("notification {} of deployment {}: {}", t.delivery_id, st.record.id, e.what());
  }
  if (delivered || t.attempts >= st.cfg.max_attempts) {
    if (--st.open == 0)
      self->quit();
    return;
  }
  auto delay = st.cfg.first_retry * (int64_t{1} << (t.attempts - 1));
  self->delayed_send(self, delay, retry_atom::value, static_cast<uint64_t>(i));
}

/// Loads what the payload needs; the targets subscribed to the event.
void prepare(delivery_ptr self) {
  auto& st = self->state;
  auto& db = *st.cfg.db;
  auto p = db.find_project(st.record.project_id);
  if (!p)
    return; // a deleted project notifies no one
  std::vector<notification_target> wanted;
  for (auto& n : p->notifications)
    for (auto& ev : n.events)
      if (ev == st.event)
        wanted.push_back(n);
  if (wanted.empty())
    return;
  auto secret = db.find_notification_secret(p->id);
  if (!secret) {
    spdlog::warn("project {} has notifications but no notification secret: {}", p->id,
                 message_of(secret.error()));
    return;
  }
  st.secret = std::move(*secret);
  environment e;
  if (auto found = db.find_environment(st.record.environment_id))
    e = std::move(*found);
  else
    e.id = st.record.environment_id; // deleted since: its id only
  auto url = environment_url(st.cfg, db, st.record.environment_id);
  for (auto& n : wanted) {
    pending_delivery t;
    t.url = n.url;
    t.delivery_id = new_uuid();
    t.body = notification_payload(st.event, t.delivery_id, st.record, *p, e, url)
               .dump(-1, ' ', false, json::error_handler_t::replace);
    st.targets.push_back(std::move(t));
  }
  st.open = st.targets.size();
}

caf::behavior notification_delivery(delivery_ptr self, notifier_config cfg, std::string event,
                                    deployment record) {
  self->state.cfg = std::move(cfg);
  self->state.event = std::move(event);
  self->state.record = std::move(record);
  self->send(self, start_atom::value);
  return {
    [self](start_atom) {
      try {
        prepare(self);
      } catch (const std::exception& e) {
        spdlog::error("notification of deployment {}: {}", self->state.record.id, e.what());
      }
      if (self->state.targets.empty()) {
        self->quit();
        return;
      }
      for (size_t i = 0; i < self->state.targets.size(); ++i)
        try_target(self, i);
    },
    [self](retry_atom, uint64_t i) {
      if (i < self->state.targets.size())
        try_target(self, static_cast<size_t>(i));
    },
  };
}

struct notifier_state {
  static inline const char* name = "notifier";
  notifier_config cfg;
  std::set<caf::actor_addr> deliveries; // running, linked
};

notifier_actor::behavior_type notifier(notifier_actor::stateful_pointer<notifier_state> self,
                                       notifier_config cfg) {
  self->state.cfg = std::move(cfg);
  // A delivery that ends (however) is forgotten; any other exit request
  // stops the notifier, and the links stop the deliveries still running.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (self->state.deliveries.erase(msg.source) > 0)
      return;
    self->quit(msg.reason);
  });
  return {
    [self](notify_atom, const std::string& event, const deployment& record) {
      auto worker = self->spawn<caf::detached + caf::linked>(notification_delivery,
                                                            self->state.cfg, event, record);
      self->state.deliveries.insert(worker.address());
    },
  };
}

} // namespace

json notification_payload(const std::string& event, const std::string& delivery_id,
                          const deployment& d, const project& p, const environment& e,
                          const json& url) {
  return json{{"event", event},
              {"deliveryId", delivery_id},
              {"timestamp", now_rfc3339()},
              {"deployment", to_json(d)},
              {"project",
               {{"id", p.id}, {"name", p.name}, {"repositoryUrl", p.repository_url},
                {"branch", p.branch}}},
              {"environment",
               {{"id", e.id}, {"name", e.name}, {"type", e.type},
                {"domain", e.domain.empty() ? json(nullptr) : json(e.domain)}}},
              {"url", url},
              {"durationSeconds", d.duration_seconds ? json(*d.duration_seconds) : json(nullptr)}};
}

notifier_actor spawn_notifier(caf::actor_system& sys, notifier_config cfg) {
  return sys.spawn(notifier, std::move(cfg));
}

} // namespace gilgal
