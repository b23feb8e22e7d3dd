// Scheduler benchmark (run by bench/scheduler): simulated nodes as actors in
// one process join a real scheduler (real actor system, not the test
// coordinator); a driver actor keeps the cluster full and a window of builds
// waiting, releasing the oldest build for every placement, until all jobs are
// placed. Prints placements per second and the spread of load over nodes.
//
// Usage: scheduler_bench [--nodes N] [--jobs J] [--window W] [--seed S] [--threads T]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/scheduler.hpp"
#include "protocol/error.hpp"

using namespace gilgal;
using label_map = std::map<std::string, std::string>;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  int nodes = 1000;
  int64_t jobs = 100000;
  int64_t window = 512; // builds waiting in the queue at a time
  unsigned seed = 42;
  int threads = 2;
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    long long v = std::atoll(argv[i + 1]);
    if (k == "--nodes")
      o.nodes = static_cast<int>(v);
    else if (k == "--jobs")
      o.jobs = v;
    else if (k == "--window")
      o.window = v;
    else if (k == "--seed")
      o.seed = static_cast<unsigned>(v);
    else if (k == "--threads")
      o.threads = static_cast<int>(v);
    else {
      std::cerr << "scheduler_bench: unknown option " << k << "\n";
      std::exit(2);
    }
  }
  return o;
}

/// A node that takes no real work: the scheduler only needs its handle.
node_actor::behavior_type sim_node(node_actor::pointer) {
  return {
    [](new_atom, build_atom) -> caf::result<builder_actor> {
      return make_error(errc::unavailable, "simulated node");
    },
    [](new_atom, run_atom) -> caf::result<runner_actor> {
      return make_error(errc::unavailable, "simulated node");
    },
    [](stop_atom, const std::string&) { return false; },
    [](retire_atom, const std::string&, const std::string&) { return int64_t{0}; },
    [](list_atom) { return label_map{}; },
    [](health_atom, const std::string& id) -> caf::result<container_health> {
      return make_error(errc::not_found, "no container " + id);
    },
    [](retain_atom, const std::string&, const std::set<std::string>&) { return int64_t{0}; },
    [](logs_atom, const std::string&, const gilgal::container_log_query&)
      -> caf::result<gilgal::container_log_batch> {
      return gilgal::make_error(gilgal::errc::not_found, "no such container");
    },
    [](control_atom, const gilgal::container_command&) -> caf::result<gilgal::container_health> {
      return gilgal::make_error(gilgal::errc::not_found, "no such container");
    },
  };
}

struct outcome {
  int64_t placed = 0;
  int64_t errors = 0;
  int64_t stalls = 0; // watchdog releases (no placement for 100 ms)
  clock_type::time_point start, end;
  std::unordered_map<std::string, int64_t> per_node;
  std::vector<std::pair<int64_t, std::string>> labelled; // job index, node name
};

struct driver_state {
  scheduler_actor sc;
  std::vector<label_map> job_labels;
  int64_t hold_target = 0; // builds held at once (the cluster's slots minus one)
  int64_t window = 0;
  int64_t issued = 0;
  int64_t placed_at_last_tick = -1;
  std::deque<std::string> held;
  std::shared_ptr<outcome> out;
  caf::response_promise done;
  bool finished = false;
};

using driver_ptr = caf::stateful_actor<driver_state>*;

void release_oldest(driver_ptr self) {
  auto& st = self->state;
  self->send(st.sc, release_atom::value, st.held.front());
  st.held.pop_front();
}

void issue(driver_ptr self);

void on_placed(driver_ptr self, int64_t job, const std::string& node) {
  auto& st = self->state;
  auto& out = *st.out;
  ++out.placed;
  ++out.per_node[node];
  if (!st.job_labels[static_cast<size_t>(job)].empty())
    out.labelled.emplace_back(job, node);
  st.held.push_back("job-" + std::to_string(job));
  if (out.placed == static_cast<int64_t>(st.job_labels.size())) {
    out.end = clock_type::now();
    while (!st.held.empty())
      release_oldest(self);
    st.finished = true;
    st.done.deliver(true);
    return;
  }
  if (st.issued < static_cast<int64_t>(st.job_labels.size())) {
    if (static_cast<int64_t>(st.held.size()) > st.hold_target)
      release_oldest(self);
    issue(self);
  } else {
    // Everything is asked for: free all slots so the last waiting builds
    // (some with labels) find a node.
    while (!st.held.empty())
      release_oldest(self);
  }
}

void issue(driver_ptr self) {
  auto& st = self->state;
  auto job = st.issued++;
  self
    ->request(st.sc, caf::infinite, place_atom::value, build_atom::value,
              "job-" + std::to_string(job), st.job_labels[static_cast<size_t>(job)])
    .then([self, job](placement& p) { on_placed(self, job, p.node_name); },
          [self](caf::error&) { ++self->state.out->errors; });
}

caf::behavior driver(driver_ptr self, scheduler_actor sc, std::vector<label_map> job_labels,
                     int64_t hold_target, int64_t window, std::shared_ptr<outcome> out) {
  auto& st = self->state;
  st.sc = sc;
  st.job_labels = std::move(job_labels);
  st.hold_target = hold_target;
  st.window = window;
  st.out = out;
  return {
    [self](start_atom) {
      auto& st = self->state;
      st.done = self->make_response_promise();
      st.out->start = clock_type::now();
      auto first = std::min<int64_t>(st.window, static_cast<int64_t>(st.job_labels.size()));
      for (int64_t i = 0; i < first; ++i)
        issue(self);
      self->delayed_send(self, std::chrono::milliseconds(100), tick_atom::value);
      return st.done;
    },
    [self](tick_atom) {
      auto& st = self->state;
      if (st.finished)
        return;
      // No placement since the last tick: the free slots fit none of the
      // waiting builds' labels. Free one more.
      if (st.out->placed == st.placed_at_last_tick && !st.held.empty()) {
        ++st.out->stalls;
        release_oldest(self);
      }
      st.placed_at_last_tick = st.out->placed;
      self->delayed_send(self, std::chrono::milliseconds(100), tick_atom::value);
    },
  };
}

bool has_labels(const label_map& have, const label_map& want) {
  for (auto& [k, v] : want) {
    auto i = have.find(k);
    if (i == have.end() || i->second != v)
      return false;
  }
  return true;
}

} // namespace

int main(int argc, char** argv) {
  auto opt = parse(argc, argv);
  spdlog::set_level(spdlog::level::warn);
  caf::actor_system_config cfg;
  add_message_types(cfg);
  cfg.set("scheduler.max-threads", opt.threads);
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  std::minstd_rand rng(opt.seed); // reproducible for a --seed; never for secrets

  // Nodes: capacity 1..8, one of three regions, one in ten with a GPU.
  const std::vector<std::string> regions{"eu", "us", "ap"};
  std::map<std::string, node_info> infos;
  std::vector<node_actor> node_handles;
  int64_t slots = 0;
  int gpus = 0;
  auto sc = spawn_scheduler(sys, scheduler_config{});
  {
    caf::scoped_actor self{sys};
    std::uniform_int_distribution<int> cap(1, 8);
    std::uniform_int_distribution<size_t> region(0, regions.size() - 1);
    std::uniform_real_distribution<double> unit(0, 1);
    for (int i = 0; i < opt.nodes; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "node-%04d", i);
      node_info info{name, cap(rng), {{"region", regions[region(rng)]}}};
      if (unit(rng) < 0.1) {
        info.labels["gpu"] = "yes";
        ++gpus;
      }
      slots += info.capacity;
      auto n = sys.spawn(sim_node);
      node_handles.push_back(n);
      bool ok = false;
      self->request(sc, caf::infinite, join_atom::value, info, n)
        .receive([&](bool b) { ok = b; },
                 [&](caf::error& e) { std::cerr << sys.render(e) << "\n"; });
      if (!ok) {
        std::cerr << "scheduler_bench: join of " << name << " failed\n";
        return 1;
      }
      infos[name] = info;
    }
  }

  // Jobs: 90 % any node, 7 % a region, 3 % a GPU node.
  std::vector<label_map> job_labels(static_cast<size_t>(opt.jobs));
  std::uniform_real_distribution<double> unit(0, 1);
  std::uniform_int_distribution<size_t> region(0, regions.size() - 1);
  int64_t with_region = 0, with_gpu = 0;
  for (auto& l : job_labels) {
    auto x = unit(rng);
    if (x < 0.07) {
      l["region"] = regions[region(rng)];
      ++with_region;
    } else if (x < 0.10) {
      l["gpu"] = "yes";
      ++with_gpu;
    }
  }

  auto out = std::make_shared<outcome>();
  auto hold_target = slots - 1;
  auto d = sys.spawn(driver, sc, job_labels, hold_target, opt.window, out);
  bool ok = false;
  {
    caf::scoped_actor self{sys};
    self->request(d, caf::infinite, start_atom::value)
      .receive([&](bool b) { ok = b; },
               [&](caf::error& e) { std::cerr << sys.render(e) << "\n"; });
  }
  // Wait until the scheduler has handled the final releases.
  int64_t left_busy = -1;
  {
    caf::scoped_actor self{sys};
    self->request(sc, caf::infinite, list_atom::value, node_atom::value)
      .receive(
        [&](std::vector<node_status>& all) {
          left_busy = 0;
          for (auto& s : all)
            left_busy += s.running_builds;
        },
        [&](caf::error&) {});
  }
  caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sc, caf::exit_reason::user_shutdown);
  for (auto& n : node_handles)
    caf::anon_send_exit(n, caf::exit_reason::user_shutdown);
  if (!ok || out->errors > 0) {
    std::cerr << "scheduler_bench: " << out->errors << " placement(s) failed\n";
    return 1;
  }

  // Label correctness.
  int64_t violations = 0;
  for (auto& [job, node] : out->labelled)
    if (!has_labels(infos[node].labels, job_labels[static_cast<size_t>(job)]))
      ++violations;

  // Spread: placements per node, and per build slot weighted by capacity.
  double secs = std::chrono::duration<double>(out->end - out->start).count();
  double rate = static_cast<double>(out->placed) / secs;
  int64_t min_n = INT64_MAX, max_n = 0;
  double min_s = 1e300, max_s = 0;
  double mean_s = static_cast<double>(out->placed) / static_cast<double>(slots);
  double var = 0;
  int idle = 0;
  for (auto& [name, info] : infos) {
    auto i = out->per_node.find(name);
    int64_t c = i == out->per_node.end() ? 0 : i->second;
    if (c == 0)
      ++idle;
    min_n = std::min(min_n, c);
    max_n = std::max(max_n, c);
    double per_slot = static_cast<double>(c) / static_cast<double>(info.capacity);
    min_s = std::min(min_s, per_slot);
    max_s = std::max(max_s, per_slot);
    var += static_cast<double>(info.capacity) * (per_slot - mean_s) * (per_slot - mean_s);
  }
  double cv = std::sqrt(var / static_cast<double>(slots)) / mean_s;
  const double target = 20000;

  std::printf("nodes             %d (%lld build slots; regions eu/us/ap; %d with gpu=yes)\n",
              opt.nodes, static_cast<long long>(slots), gpus);
  std::printf("jobs              %lld (%lld region, %lld gpu, rest any node); cluster kept "
              "full, %lld builds waiting\n",
              static_cast<long long>(opt.jobs), static_cast<long long>(with_region),
              static_cast<long long>(with_gpu), static_cast<long long>(opt.window));
  std::printf("placements        %lld in %.3f s = %.0f /s\n",
              static_cast<long long>(out->placed), secs, rate);
  std::printf("per node          min %lld  mean %.1f  max %lld  (%d node(s) got none)\n",
              static_cast<long long>(min_n),
              static_cast<double>(out->placed) / static_cast<double>(opt.nodes),
              static_cast<long long>(max_n), idle);
  std::printf("per build slot    min %.1f  mean %.1f  max %.1f  CV (capacity-weighted) %.3f\n",
              min_s, mean_s, max_s, cv);
  std::printf("label violations  %lld;  watchdog releases %lld;  slots busy at the end %lld\n",
              static_cast<long long>(violations), static_cast<long long>(out->stalls),
              static_cast<long long>(left_busy));
  std::printf("target            >= %.0f placements/s: %s\n", target,
              rate >= target ? "met" : "NOT met");
  return violations == 0 && left_busy == 0 ? 0 : 1;
}
