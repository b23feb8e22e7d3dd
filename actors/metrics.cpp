#include "actors/metrics.hpp"

#include <array>
#include <atomic>
#include <cstdio>

namespace gilgal::metrics {

namespace {

constexpr std::array<double, 12> bounds = {1,   5,   10,   30,   60,   120,
                                           300, 600, 900, 1200, 1800, 3600};

/// Fixed-bucket histogram. Buckets hold plain (non-cumulative) counts; the
/// renderer accumulates them, so the exposed buckets are monotonic even while
/// observations race with a scrape.
class histogram {
public:
  void observe(double x) {
    size_t i = 0;
    while (i < bounds.size() && x > bounds[i])
      ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    auto old = sum_.load(std::memory_order_relaxed);
    while (!sum_.compare_exchange_weak(old, old + x, std::memory_order_relaxed))
      ; // retry with the value another thread stored
  }

  void render(std::string& out, const char* name, const char* help) const {
    out += std::string{"# HELP "} + name + " " + help + "\n";
    out += std::string{"# TYPE "} + name + " histogram\n";
    uint64_t cumulative = 0;
    char buf[64];
    for (size_t i = 0; i < bounds.size(); ++i) {
      cumulative += counts_[i].load(std::memory_order_relaxed);
      std::snprintf(buf, sizeof buf, "%g", bounds[i]);
      out += std::string{name} + "_bucket{le=\"" + buf + "\"} " + std::to_string(cumulative)
             + "\n";
    }
    cumulative += counts_[bounds.size()].load(std::memory_order_relaxed);
    out += std::string{name} + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
    std::snprintf(buf, sizeof buf, "%.17g", sum_.load(std::memory_order_relaxed));
    out += std::string{name} + "_sum " + buf + "\n";
    out += std::string{name} + "_count " + std::to_string(cumulative) + "\n";
  }

private:
  std::array<std::atomic<uint64_t>, bounds.size() + 1> counts_{};
  std::atomic<double> sum_{0};
};

struct registry {
  histogram build;
  histogram deploy;
  std::atomic<int64_t> queue_length{0};
  std::atomic<int64_t> log_lines{0};
  std::atomic<int64_t> restarts{0};
  std::atomic<int64_t> oom_kills{0};
};

registry& the_registry() {
  static registry r;
  return r;
}

void scalar(std::string& out, const char* name, const char* type, const char* help,
            int64_t value) {
  out += std::string{"# HELP "} + name + " " + help + "\n";
  out += std::string{"# TYPE "} + name + " " + type + "\n";
  out += std::string{name} + " " + std::to_string(value) + "\n";
}

} // namespace

void observe_build_seconds(double seconds) {
  the_registry().build.observe(seconds < 0 ? 0 : seconds);
}

void observe_deploy_seconds(double seconds) {
  the_registry().deploy.observe(seconds < 0 ? 0 : seconds);
}

void set_queue_length(int64_t n) {
  the_registry().queue_length.store(n, std::memory_order_relaxed);
}

void add_log_lines(int64_t n) {
  the_registry().log_lines.fetch_add(n, std::memory_order_relaxed);
}

void add_container_restart() {
  the_registry().restarts.fetch_add(1, std::memory_order_relaxed);
}

void add_container_oom_kill() {
  the_registry().oom_kills.fetch_add(1, std::memory_order_relaxed);
}

const double* duration_buckets(size_t& count) {
  count = bounds.size();
  return bounds.data();
}

std::string render_prometheus(const std::map<deployment_status, int64_t>& deployments_by_status) {
  auto& r = the_registry();
  std::string out;
  out += "# HELP gilgal_deployments Deployments by status.\n";
  out += "# TYPE gilgal_deployments gauge\n";
  for (auto s : all_deployment_statuses) {
    auto it = deployments_by_status.find(s);
    auto n = it == deployments_by_status.end() ? 0 : it->second;
    out += std::string{"gilgal_deployments{status=\""} + to_string(s) + "\"} " + std::to_string(n)
           + "\n";
  }
  r.build.render(out, "gilgal_build_duration_seconds",
                 "Seconds an image build took (cache hits included).");
  r.deploy.render(out, "gilgal_deploy_duration_seconds",
                  "Seconds a deployment took from start to its final status.");
  scalar(out, "gilgal_build_queue_length", "gauge", "Deployments waiting for a build slot.",
         r.queue_length.load(std::memory_order_relaxed));
  scalar(out, "gilgal_log_lines_written_total", "counter",
         "Deployment log lines accepted by the logger.",
         r.log_lines.load(std::memory_order_relaxed));
  scalar(out, "gilgal_container_restarts_total", "counter",
         "Restarts of managed containers by their restart policy.",
         r.restarts.load(std::memory_order_relaxed));
  scalar(out, "gilgal_container_oom_kills_total", "counter",
         "Managed containers killed for exceeding their memory limit.",
         r.oom_kills.load(std::memory_order_relaxed));
  return out;
}

} // namespace gilgal::metrics
