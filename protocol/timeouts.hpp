// The time limits of requests that cross actors, in one place, so that every
// asker waits longer than the one it asks: the HTTP edge outlasts the
// deployment manager, which outlasts the deployment actor's own steps. A
// request that times out at the edge never changes a deployment; it is still
// answered by its actor, and GET /api/deployments/:id shows the outcome.
#pragma once

#include <chrono>

namespace gilgal::timeouts {

using std::chrono::seconds;

/// One short question to a local actor (queue position, placement, a handle).
constexpr seconds actor_question{5};

/// A deployment actor's start: it asks the scheduler for its queue position.
constexpr seconds pipeline_start = 2 * actor_question;

/// The edge's wait for the manager to take a deployment (it answers after
/// the start above).
constexpr seconds edge_deploy = pipeline_start + actor_question;

/// Writing one deployment record through the store actor.
constexpr seconds record_write{10};

/// How long a cancelled deployment waits for its runner to stop the container
/// it was starting; then it removes its containers itself (listing them, then
/// stopping them, each bounded by the same time).
constexpr seconds cancel_grace{10};

/// The edge's wait for a cancel: the grace, the clean-up and the final write.
constexpr seconds edge_cancel = 3 * cancel_grace + record_write + seconds{5};

/// Stopping the environment's previous container after a deployment went
/// live (docker stop gives it 10 s to drain, then kills it).
constexpr seconds drain{30};

/// The router moving an environment's route to a deployment's container (one
/// admin-API call, or a whole configuration load when Caddy lost it and is
/// started again).
constexpr seconds route_switch{30};

/// A stop, start or restart of an environment's container, on top of its
/// health check's time: docker stop's 10 s grace, the node lookup, slack.
constexpr seconds container_control{45};

/// The edge's wait for a stop, start or restart, on top of the health check's time.
constexpr seconds edge_control = container_control + record_write + seconds{5};

/// The deletion of an environment: its deployments end (a cancel each), then
/// its containers stop (docker stop's grace) on every node.
constexpr seconds environment_removal = edge_cancel + drain;

/// One batch of a followed container log (the node answers when lines come,
/// or empty after this long), and the scheduler's lookup on top.
constexpr seconds log_follow_batch{15};
constexpr seconds edge_log_follow = log_follow_batch + actor_question + seconds{5};

} // namespace gilgal::timeouts
