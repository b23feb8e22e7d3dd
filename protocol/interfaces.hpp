// The whole conversation between Gilgal's actors, one typed interface each.
// A node (in-process or remote) is reached ONLY through node_actor and the
// builder/runner handles it hands out.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "protocol/messages.hpp"
#include "protocol/model.hpp"
#include "protocol/type_ids.hpp"

namespace gilgal {

/// Builds one image. Spawned per job by a node; the deployment actor links to
/// it, so the deployment's exit (cancel) aborts the build and removes what it
/// left behind. It streams build output to the logger it was given.
using builder_actor = caf::typed_actor<
  // Fetch, detect, generate the Dockerfile, build. Errors: build_failed,
  // unavailable (git remote or Docker unreachable), cancelled, timeout.
  caf::replies_to<build_atom, build_job>::with<build_result>>;

/// Runs one container until it is healthy. Spawned per job like the builder;
/// its exit before success removes the container it created.
using runner_actor = caf::typed_actor<
  // Allocate a port, create and start the container, wait for HTTP health.
  caf::replies_to<run_atom, run_job>::with<run_result>>;

/// A node: a Docker daemon with a builder and runner factory.
using node_actor = caf::typed_actor<
  // A fresh builder for one job.
  caf::replies_to<new_atom, build_atom>::with<builder_actor>,
  // A fresh runner for one job.
  caf::replies_to<new_atom, run_atom>::with<runner_actor>,
  // Stop and remove a container (true if one was removed, false if none existed).
  caf::replies_to<stop_atom, std::string>::with<bool>,
  // Stop and remove every container of an environment except the one named
  // (the environment's new live container). Replies how many there are once
  // they are listed, and stops them after: a container the environment's next
  // deployment creates after the reply is never among them. With none named
  // (the environment goes), replies how many were removed once they are gone.
  caf::replies_to<retire_atom, std::string, std::string>::with<int64_t>,
  // Every container Gilgal manages on this node: container id -> deployment id.
  caf::replies_to<list_atom>::with<std::map<std::string, std::string>>,
  // State, restart count, exit code, OOM flag and one CPU/memory sample of a
  // container. errc::not_found if it does not exist.
  caf::replies_to<health_atom, std::string>::with<container_health>,
  // Image retention for a project: removes the images labelled
  // gilgal.project=PROJECT whose name (repository, without tag) is not in
  // the keep set and that no container (running or not) uses. Never touches
  // an image without that label. Replies how many images were removed.
  caf::replies_to<retain_atom, std::string, std::set<std::string>>::with<int64_t>,
  // The container's stdout and stderr (see container_log_query); a follow
  // answers with the first lines that come, or empty after follow_ms. A
  // follow of a container that does not run waits (within follow_ms) for its
  // next start (nodes/container_logs.hpp), so a follower never polls.
  // errc::not_found if the container does not exist.
  caf::replies_to<logs_atom, std::string, container_log_query>::with<container_log_batch>,
  // Stops, starts or restarts a container (never removes it); replies its
  // state afterwards. errc::not_found if it does not exist.
  caf::replies_to<control_atom, container_command>::with<container_health>>;

/// Single writer of deployment logs: batches lines into storage and fans them
/// out to live subscribers in seq order.
using logger_actor = caf::typed_actor<
  // Appends a line (deployment id, level, message); seq and timestamp assigned
  // here. A deployment the logger does not hold continues after the last seq
  // stored for it.
  caf::reacts_to<log_atom, std::string, std::string, std::string>,
  // The deployment's log is complete: subscribers get close_atom after the last line.
  caf::reacts_to<close_atom, std::string>,
  // Subscribes an actor to lines with seq > after. Replies with the lines it
  // still holds after that seq and whether the log is already closed. The
  // subscriber then receives (log_atom, log_line) and finally (close_atom, id).
  caf::replies_to<subscribe_atom, std::string, int64_t, caf::actor>::with<
    std::vector<log_line>, bool>,
  caf::reacts_to<unsub_atom, std::string, caf::actor>,
  // Writes everything pending; replies once it is stored.
  caf::replies_to<flush_atom>::with<bool>,
  // Internal batching timer.
  caf::reacts_to<tick_atom>>;

/// The pipeline's gateway to storage: a detached actor, so its blocking store
/// calls never stall the scheduler.
using deployment_store_actor = caf::typed_actor<
  // Writes a deployment record (all mutable fields); replies when stored.
  caf::replies_to<put_atom, deployment>::with<bool>,
  // Successful deployments of an environment, newest first.
  caf::replies_to<live_atom, std::string>::with<std::vector<deployment>>,
  // Deployments left pending or building (by a crash), oldest first.
  caf::replies_to<recover_atom>::with<std::vector<deployment>>,
  // Of the given containers (container id -> deployment id), those to keep:
  // the container of each environment's newest successful deployment.
  caf::replies_to<keep_atom, std::map<std::string, std::string>>::with<
    std::vector<std::string>>,
  // The images to retain for a project: those of the last K successful
  // deployments of each of its environments.
  caf::replies_to<retain_atom, std::string, int64_t>::with<std::set<std::string>>,
  // The credentials of a project's private repository (secret: they go into
  // the build job only).
  caf::replies_to<access_atom, std::string>::with<repository_access>,
  // The commit message of the newest of the project's last 100 deployments
  // at the commit (project id, full sha) that has one; "" if none has. A
  // reused image comes without its commit's message (nothing is fetched).
  caf::replies_to<commit_atom, std::string, std::string>::with<std::string>,
  // Stores a project's ssh known_hosts (project, expected, replacement) if
  // they still are `expected`; replies whether they were replaced.
  caf::replies_to<hosts_atom, std::string, std::string, std::string>::with<bool>,
  // The environment's live deployment (named) has its container stopped
  // through the API; an empty name: running again (store::set_stopped_deployment).
  caf::replies_to<stop_atom, std::string, std::string>::with<bool>>;

/// The pipeline of ONE deployment, and the only writer of its record once the
/// route has created it. It writes its final record, closes its log only
/// after that write is acknowledged, then answers its waiters and quits.
using deployment_actor = caf::typed_actor<
  // Starts the pipeline. Replies once the scheduler holds its build request:
  // the 1-based queue position while it waits for a build slot, else 0.
  caf::replies_to<start_atom>::with<int64_t>,
  // The named node went down while this deployment built or ran on it.
  caf::reacts_to<lost_atom, std::string>,
  // Replies the final record once it is stored (at once if it already is).
  caf::replies_to<wait_atom>::with<deployment>,
  // Cancels: replies the final record (status cancelled) once it is stored
  // and nothing of the deployment runs any more. errc::conflict once the
  // deployment is going live ("already going live") or has ended otherwise.
  caf::replies_to<cancel_atom>::with<deployment>,
  // From the manager, before start: the actor of the environment's previous
  // deployment, which succeeded and still retires the container it replaced.
  // This one may build meanwhile but starts no container before that actor
  // is down (a retirement never meets a newer container).
  caf::reacts_to<after_atom, caf::actor>,
  // Internal: the grace given to a runner stopping on cancel has passed.
  caf::reacts_to<tick_atom>>;

/// Where a job goes: the node's name (recorded as buildNode / runNode) and handle.
struct placement {
  std::string node_name;
  node_actor node;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, placement& x) {
  return f(caf::meta::type_name("placement"), x.node_name, x.node);
}

/// The scheduler: registry of nodes (capacity, labels, load, heartbeats). It
/// places builds on the least loaded node with a free slot whose labels
/// include the required ones, queues them in order while no node has one,
/// and tells a deployment actor (lost_atom) when a node it was placed on goes
/// down: the node actor's down message (connection lost) or no heartbeat for
/// the configured timeout. Its housekeeping handlers are the node_actor ones,
/// fanned out over every node that is up.
using scheduler_actor = caf::typed_actor<
  // A node joins, or joins again under the same name (the old entry is
  // replaced: its placements are reported lost). The scheduler monitors it.
  caf::replies_to<join_atom, node_info, node_actor>::with<bool>,
  // A joined node is alive (by name).
  caf::reacts_to<heartbeat_atom, std::string>,
  // A build slot for a deployment on an up node whose labels include the
  // given ones. Replies once placed (FIFO queue while no node has a free
  // slot). The sender is the deployment actor told of node loss.
  caf::replies_to<place_atom, build_atom, std::string, std::map<std::string, std::string>>::with<
    placement>,
  // A node to run a deployment's container: the node named (if not empty;
  // errc::unavailable if it is not up), else the up node with the fewest
  // builds and runs in progress whose labels include the given ones
  // (errc::unavailable if none). Takes no build slot.
  caf::replies_to<place_atom, run_atom, std::string, std::string,
                  std::map<std::string, std::string>>::with<placement>,
  // The deployment is done with its node(s): frees its build slot, forgets its
  // placements, drops it from the queue. Unknown ids are ignored.
  caf::reacts_to<release_atom, std::string>,
  // 1-based position of a deployment waiting for a build slot, 0 if it is not waiting.
  caf::replies_to<queue_atom, std::string>::with<int64_t>,
  // Every node known, up or down, by name.
  caf::replies_to<list_atom, node_atom>::with<std::vector<node_status>>,
  // node_actor housekeeping over all up nodes:
  // stop: true if any node removed the container.
  caf::replies_to<stop_atom, std::string>::with<bool>,
  // retire: the sum over nodes.
  caf::replies_to<retire_atom, std::string, std::string>::with<int64_t>,
  // list: the union over nodes.
  caf::replies_to<list_atom>::with<std::map<std::string, std::string>>,
  // health: from the node that has the container; errc::not_found if none has.
  caf::replies_to<health_atom, std::string>::with<container_health>,
  // retain: the sum over nodes.
  caf::replies_to<retain_atom, std::string, std::set<std::string>>::with<int64_t>,
  // logs and control: from the node that has the container; errc::not_found if none has.
  caf::replies_to<logs_atom, std::string, container_log_query>::with<container_log_batch>,
  caf::replies_to<control_atom, container_command>::with<container_health>,
  // Internal: heartbeat deadline check.
  caf::reacts_to<tick_atom>>;

/// Published on `gilgal serve --cluster-listen`: the only actor a peer can
/// reach before it has proven the cluster secret. A join is two steps:
/// hello (protocol version checked, a fresh single-use nonce handed out),
/// then join with the proof. Refusals are logged with the peer's name.
using gatekeeper_actor = caf::typed_actor<
  // Replies a nonce (hex). A different protocol version is refused with
  // errc::conflict and a message naming both versions.
  caf::replies_to<hello_atom, int64_t, std::string>::with<std::string>,
  // Checks the proof, registers the node with the scheduler and replies a
  // session token (for heartbeats) and the logger the node's builders write
  // to. A wrong proof or an unknown nonce: errc::unauthorized, nothing else.
  caf::replies_to<join_atom, node_registration, node_actor>::with<std::string, logger_actor>,
  // A joined node is alive (its session token). Unknown tokens are ignored.
  caf::reacts_to<heartbeat_atom, std::string>>;

/// Sole owner of the proxy's configuration (Caddy, driven through its admin
/// API). The store is the truth: routes are derived from it and reapplied at
/// start, when Caddy restarts and periodically. A deployment going live is the
/// one change made in place. Without a configured proxy it only retires
/// replaced containers.
using router_actor = caf::typed_actor<
  // The deployment's container (containerId, port, runNode) is healthy and
  // becomes its environment's live one: one admin-API call moves the route's
  // upstream. Replies true once Caddy serves it (false without a proxy). The
  // previous container is drained afterwards (stopped once idle, at the latest
  // after the drain timeout) and removed. An error leaves the live route as
  // it was.
  caf::replies_to<route_atom, deployment>::with<bool>,
  // The environment (id) is stopped: its hosts answer Gilgal's 503 page, and
  // its replaced containers are no longer drained by the router (the caller
  // stops its containers), until a deployment is routed to it again. Replies
  // true once Caddy serves the page (false without a proxy).
  caf::replies_to<stop_atom, std::string>::with<bool>,
  // Derives the routes from the store and applies them when Caddy's differ.
  // Replies how many environments are routed. Sent by the HTTP edge after
  // environments change (the answer may be ignored): a deleted environment's
  // route goes this way.
  caf::replies_to<reconcile_atom>::with<int64_t>,
  // Internal: supervision of Caddy, its log, periodic reconciliation.
  caf::reacts_to<tick_atom>,
  // Internal: a look at the draining containers.
  caf::reacts_to<drain_atom>>;

/// Delivers signed notifications of deployment events (actors/notifier.hpp).
/// Told by the deployment manager; answers nothing.
using notifier_actor = caf::typed_actor<
  // An event (notification_event::...) and the deployment's record at that
  // moment: as handed over for "started", as finally stored otherwise.
  caf::reacts_to<notify_atom, std::string, deployment>>;

/// Tells followers of an environment's runtime log when what they read
/// changes (http/app_log_routes): a deployment of the environment went live,
/// or the environment was removed. Told by the deployment manager; followers
/// block on their mailbox instead of reading the store again and again.
using environment_events_actor = caf::typed_actor<
  // Subscribes an actor to the events of an environment (id); replies once
  // it is subscribed, so an event after the answer reaches it. It then
  // receives (live_atom, id) and (remove_atom, id) until it unsubscribes or
  // goes (the hub monitors it).
  caf::replies_to<subscribe_atom, std::string, caf::actor>::with<bool>,
  caf::reacts_to<unsub_atom, std::string, caf::actor>,
  // A deployment of the environment went live; its record is stored.
  caf::reacts_to<live_atom, std::string>,
  // The environment is being deleted: its deployments ended and its
  // containers are gone.
  caf::reacts_to<remove_atom, std::string>>;

/// Supervisor of deployment actors: one per deployment from the moment it is
/// handed over, started when its environment has no other deployment in
/// progress. It writes no record itself; it forwards cancels and answers
/// waits from what its deployment actors report.
using deployment_manager_actor = caf::typed_actor<
  // Takes a stored pending deployment: spawns its actor and starts it, or
  // queues it behind its environment's deployment in progress. Kind rollback
  // runs its image_name, kind config the image live when it starts (no build).
  // Errors: errc::unavailable while the server shuts down (the deployment then
  // ends failed).
  caf::replies_to<deploy_atom, deployment, project, environment>::with<bool>,
  // Cancels a queued or running deployment; replies its final record
  // (status cancelled) once stored. errc::conflict when it is already going
  // live or has ended; errc::not_found when it is not in progress here.
  caf::replies_to<cancel_atom, std::string>::with<deployment>,
  // Replies the final record of a deployment in progress once it is stored.
  // errc::not_found when it is not in progress here (it has ended: the store
  // holds its final record).
  caf::replies_to<wait_atom, std::string>::with<deployment>,
  // 1-based position of a queued deployment, 0 if it is not queued.
  caf::replies_to<queue_atom, std::string>::with<int64_t>,
  // After a restart: fails deployments left unfinished and removes containers
  // that belong to no live deployment. Replies how many deployments it ended.
  caf::replies_to<recover_atom>::with<int64_t>,
  // How many deployment actors are alive.
  caf::replies_to<count_atom>::with<int64_t>,
  // Stops, starts or restarts the container of the environment's live
  // deployment ("stop" | "start" | "restart"); replies the environment's
  // state afterwards. It is the environment's one writer of its run state:
  // an action waits for nothing and refuses (errc::conflict) while a
  // deployment or another action of the environment is in progress;
  // deployments queue behind an action. errc::conflict when the environment
  // has no live deployment.
  caf::replies_to<control_atom, environment, std::string>::with<environment_state>,
  // The environment is being deleted: refuses its new deployments from now
  // on, cancels those in progress, waits for them to end, then stops and
  // removes its containers on every node. Replies how many were removed.
  caf::replies_to<remove_atom, std::string>::with<int64_t>>;

/// Removes previews (the environments of pull requests) idle past their
/// project's previews.ttlHours: nothing deployed, pending, building or
/// changed in that time. Each removal takes environment deletion's one path
/// (actors/environment_removal), in a detached worker.
using preview_reaper_actor = caf::typed_actor<
  // Reaps now; replies how many previews were removed. A request that comes
  // while a reap runs is answered when a reap that starts after it ends.
  caf::replies_to<prune_atom>::with<int64_t>,
  // Internal: the periodic reap.
  caf::reacts_to<tick_atom>>;

} // namespace gilgal

// Actor handles that travel between processes (a node hands out builders and
// runners; the gatekeeper hands out the logger). Announced by
// add_message_types() with the main block.
CAF_BEGIN_TYPE_ID_BLOCK(gilgal_handles, caf::id_block::gilgal::end)

CAF_ADD_TYPE_ID(gilgal_handles, (gilgal::builder_actor))
CAF_ADD_TYPE_ID(gilgal_handles, (gilgal::runner_actor))
CAF_ADD_TYPE_ID(gilgal_handles, (gilgal::node_actor))
CAF_ADD_TYPE_ID(gilgal_handles, (gilgal::logger_actor))
CAF_ADD_TYPE_ID(gilgal_handles, (gilgal::deployment_actor))
CAF_ADD_TYPE_ID(gilgal_handles, (gilgal::placement))

CAF_END_TYPE_ID_BLOCK(gilgal_handles)
