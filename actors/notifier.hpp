// The notifier: delivers signed notifications of deployment events to the
// URLs a project names (project.notifications), retrying failures with
// exponential backoff, and records every attempt (the delivery history).
//
// The deployment manager tells it an event with the deployment's record (the
// started one, or the final one its actor stored): one writer per deployment
// stays true, and nothing polls. For each event the notifier spawns a
// detached delivery worker, so store calls, DNS and HTTP never block an
// event-based actor. A worker reads the project's current notification
// settings and secret, POSTs to every target that subscribed to the event,
// and retries a target that failed (no answer, or a status outside 2xx) after
// first_retry, then 2x, 4x, ... up to max_attempts attempts.
//
// Request: POST, Content-Type application/json, X-Gilgal-Event: EVENT,
// X-Gilgal-Delivery: ID (the same for every attempt of one delivery),
// X-Gilgal-Signature-256: sha256=<hex HMAC-SHA256 of the body keyed by the
// project's notification secret>. Targets on loopback, link-local or private
// addresses are refused (recorded as a failed attempt) unless private
// targets are allowed; the checked address is the one connected to.
#pragma once

#include <chrono>
#include <memory>

#include <caf/actor_system.hpp>
#include <nlohmann/json.hpp>

#include "protocol/interfaces.hpp"
#include "storage/store.hpp"

namespace gilgal {

struct notifier_config {
  std::shared_ptr<store> db;
  bool allow_private_targets = false;
  std::chrono::milliseconds first_retry{1000};
  int max_attempts = 5;
  std::chrono::milliseconds request_timeout{10000};
  // Where the proxy serves apps, for the payload's "url" (settings'
  // apps_domain; proxy_https_listen with TLS, else proxy_listen; "": no proxy).
  std::string apps_domain = "localhost";
  bool proxy_https = false;
  std::string proxy_listen;
};

notifier_actor spawn_notifier(caf::actor_system& sys, notifier_config cfg);

/// The notification JSON of `event` for a deployment: {"event", "deliveryId",
/// "timestamp", "deployment", "project", "environment", "url" (where the
/// environment is served, or null), "durationSeconds"}.
nlohmann::json notification_payload(const std::string& event, const std::string& delivery_id,
                                    const deployment& d, const project& p,
                                    const environment& e, const nlohmann::json& url);

} // namespace gilgal
