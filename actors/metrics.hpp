// Process-wide metrics of the deployment engine, rendered for GET /metrics in
// the Prometheus text format (version 0.0.4). Every function is thread-safe
// and lock-free (atomics), so any actor or worker thread may call it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "protocol/deployment_state.hpp"

namespace gilgal::metrics {

/// Seconds one image build took (fetch to built image, cache hits included).
void observe_build_seconds(double seconds);

/// Seconds one deployment took from start to its terminal status.
void observe_deploy_seconds(double seconds);

/// Deployments waiting for a build slot.
void set_queue_length(int64_t n);

/// Lines accepted by the logger.
void add_log_lines(int64_t n = 1);

/// A managed container restarted by its restart policy.
void add_container_restart();

/// A managed container killed by the kernel's OOM killer.
void add_container_oom_kill();

/// Upper bounds (seconds) of the duration histograms' buckets, +Inf implied.
const double* duration_buckets(size_t& count);

/// The exposition text. `deployments_by_status` comes from the store; every
/// known status is listed, 0 when absent.
std::string render_prometheus(const std::map<deployment_status, int64_t>& deployments_by_status);

/// The Content-Type of render_prometheus()'s text.
constexpr const char* content_type = "text/plain; version=0.0.4; charset=utf-8";

} // namespace gilgal::metrics
