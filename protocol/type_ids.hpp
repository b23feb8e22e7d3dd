// Every atom and message type of Gilgal, in the type-ID block `gilgal`; the
// actor handle types follow in the block `gilgal_handles` (protocol/
// interfaces.hpp, which needs these types first). Call
// gilgal::add_message_types(cfg) on every actor_system_config (control plane,
// nodes, tests): it registers both.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/type_id.hpp>

#include "protocol/cluster.hpp"
#include "protocol/messages.hpp"
#include "protocol/model.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(gilgal, caf::first_custom_type_id)

CAF_ADD_TYPE_ID(gilgal, (gilgal::project))
CAF_ADD_TYPE_ID(gilgal, (gilgal::environment))
CAF_ADD_TYPE_ID(gilgal, (gilgal::environment_settings))
CAF_ADD_TYPE_ID(gilgal, (gilgal::deployment))
CAF_ADD_TYPE_ID(gilgal, (gilgal::log_line))
CAF_ADD_TYPE_ID(gilgal, (std::vector<gilgal::log_line>))
CAF_ADD_TYPE_ID(gilgal, (std::vector<gilgal::deployment>))
CAF_ADD_TYPE_ID(gilgal, (gilgal::build_job))
CAF_ADD_TYPE_ID(gilgal, (gilgal::build_result))
CAF_ADD_TYPE_ID(gilgal, (gilgal::run_job))
CAF_ADD_TYPE_ID(gilgal, (gilgal::run_result))
CAF_ADD_TYPE_ID(gilgal, (std::map<std::string, std::string>))
CAF_ADD_TYPE_ID(gilgal, (gilgal::node_info))
CAF_ADD_TYPE_ID(gilgal, (gilgal::node_registration))
CAF_ADD_TYPE_ID(gilgal, (gilgal::node_status))
CAF_ADD_TYPE_ID(gilgal, (std::vector<gilgal::node_status>))

CAF_ADD_ATOM(gilgal, gilgal, log_atom, "log")
CAF_ADD_ATOM(gilgal, gilgal, open_atom, "open")
CAF_ADD_ATOM(gilgal, gilgal, close_atom, "close")
CAF_ADD_ATOM(gilgal, gilgal, subscribe_atom, "subscribe")
CAF_ADD_ATOM(gilgal, gilgal, unsub_atom, "unsub")
CAF_ADD_ATOM(gilgal, gilgal, flush_atom, "flush")
CAF_ADD_ATOM(gilgal, gilgal, tick_atom, "tick")
CAF_ADD_ATOM(gilgal, gilgal, build_atom, "build")
CAF_ADD_ATOM(gilgal, gilgal, run_atom, "run")
CAF_ADD_ATOM(gilgal, gilgal, stop_atom, "stop")
CAF_ADD_ATOM(gilgal, gilgal, new_atom, "new")
CAF_ADD_ATOM(gilgal, gilgal, deploy_atom, "deploy")
CAF_ADD_ATOM(gilgal, gilgal, cancel_atom, "cancel")
CAF_ADD_ATOM(gilgal, gilgal, wait_atom, "wait")
CAF_ADD_ATOM(gilgal, gilgal, start_atom, "start")
CAF_ADD_ATOM(gilgal, gilgal, put_atom, "put")
CAF_ADD_ATOM(gilgal, gilgal, live_atom, "live")
CAF_ADD_ATOM(gilgal, gilgal, count_atom, "count")
CAF_ADD_ATOM(gilgal, gilgal, retire_atom, "retire")
CAF_ADD_ATOM(gilgal, gilgal, queue_atom, "queue")
CAF_ADD_ATOM(gilgal, gilgal, recover_atom, "recover")
CAF_ADD_ATOM(gilgal, gilgal, list_atom, "list")
CAF_ADD_ATOM(gilgal, gilgal, keep_atom, "keep")
CAF_ADD_TYPE_ID(gilgal, (gilgal::container_health))
CAF_ADD_ATOM(gilgal, gilgal, health_atom, "health")
CAF_ADD_ATOM(gilgal, gilgal, retain_atom, "retain")
CAF_ADD_ATOM(gilgal, gilgal, prune_atom, "prune")
// Build farm.
CAF_ADD_ATOM(gilgal, gilgal, hello_atom, "hello")
CAF_ADD_ATOM(gilgal, gilgal, join_atom, "join")
CAF_ADD_ATOM(gilgal, gilgal, heartbeat_atom, "heartbeat")
CAF_ADD_ATOM(gilgal, gilgal, place_atom, "place")
CAF_ADD_ATOM(gilgal, gilgal, release_atom, "release")
CAF_ADD_ATOM(gilgal, gilgal, lost_atom, "lost")
CAF_ADD_ATOM(gilgal, gilgal, node_atom, "node")
// The proxy (router).
CAF_ADD_ATOM(gilgal, gilgal, route_atom, "route")
CAF_ADD_ATOM(gilgal, gilgal, reconcile_atom, "reconcile")
CAF_ADD_ATOM(gilgal, gilgal, drain_atom, "drain")
// Private repositories.
CAF_ADD_TYPE_ID(gilgal, (gilgal::repository_access))
CAF_ADD_ATOM(gilgal, gilgal, access_atom, "access")
CAF_ADD_ATOM(gilgal, gilgal, hosts_atom, "hosts")
// Running apps: runtime logs and lifecycle.
CAF_ADD_TYPE_ID(gilgal, (gilgal::container_log_query))
CAF_ADD_TYPE_ID(gilgal, (gilgal::container_log_line))
CAF_ADD_TYPE_ID(gilgal, (std::vector<gilgal::container_log_line>))
CAF_ADD_TYPE_ID(gilgal, (gilgal::container_log_batch))
CAF_ADD_TYPE_ID(gilgal, (gilgal::container_command))
CAF_ADD_TYPE_ID(gilgal, (gilgal::environment_state))
CAF_ADD_ATOM(gilgal, gilgal, logs_atom, "logs")
CAF_ADD_ATOM(gilgal, gilgal, control_atom, "control")
CAF_ADD_ATOM(gilgal, gilgal, remove_atom, "remove")

// Notifications out.
CAF_ADD_ATOM(gilgal, gilgal, notify_atom, "notify")
CAF_ADD_ATOM(gilgal, gilgal, retry_atom, "retry")

// A reused image's commit message, from an earlier deployment.
CAF_ADD_ATOM(gilgal, gilgal, commit_atom, "commit")

// A deployment starts its container only after its predecessor is down.
CAF_ADD_ATOM(gilgal, gilgal, after_atom, "after")

CAF_END_TYPE_ID_BLOCK(gilgal)

namespace gilgal {

/// Announces Gilgal's message types to CAF (needed for remote nodes and for
/// printing messages).
void add_message_types(caf::actor_system_config& cfg);

} // namespace gilgal
