#include "nodes/docker_build_guard.hpp"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "nodes/docker_events.hpp"
#include "nodes/docker_refs.hpp"
#include "protocol/bytes.hpp"

namespace gilgal {

namespace {

int64_t now_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

docker_build_guard::docker_build_guard(const docker_client& docker, int64_t pids_limit)
  : docker_(docker),
    pids_limit_(pids_limit),
    host_("gilgal-build-" + random_hex(16) + ".invalid"),
    started_nano_(now_nanos()),
    // Docker's "Created" has whole seconds; a container made in the second
    // the build started must count.
    started_sec_(started_nano_ / 1000000000 - 1),
    stop_(abort_signal::make()) {
  if (pids_limit_ > 0)
    follower_ = std::thread{[this] { follow(); }};
}

docker_build_guard::~docker_build_guard() {
  stop_->trigger();
  if (follower_.joinable())
    follower_.join();
}

std::string docker_build_guard::extra_host() const {
  return host_ + ":127.0.0.1";
}

bool docker_build_guard::is_ours(const container_info& c) const {
  auto mark = extra_host();
  return std::find(c.extra_hosts.begin(), c.extra_hosts.end(), mark) != c.extra_hosts.end()
         && c.labels.count("gilgal.managed") == 0;
}

void docker_build_guard::on_created(const std::string& id) {
  auto info = docker_.inspect_container(id);
  if (!info || !is_ours(*info))
    return;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    seen_.insert(info->id);
  }
  if (auto res = docker_.set_pids_limit(info->id, pids_limit_))
    ++limited_;
  else if (code_of(res.error()) != errc::not_found) // a step may end first
    spdlog::warn("build: cannot limit the processes of a build step: {}",
                 message_of(res.error()));
}

void docker_build_guard::follow() {
  event_filter filter;
  filter.types = {"container"};
  filter.actions = {"create"};
  auto since = started_nano_;
  while (!stop_->triggered()) {
    auto res = stream_docker_events(docker_, filter, since, std::chrono::minutes(10), stop_,
                                    [&](const docker_event& ev) {
                                      since = std::max(since, ev.time_nano);
                                      if (is_docker_object_id(ev.id))
                                        on_created(ev.id);
                                    });
    if (!res && !stop_->triggered()) {
      spdlog::warn("build: following Docker's events failed: {}", message_of(res.error()));
      return;
    }
  }
}

int docker_build_guard::remove_containers() {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::milliseconds(1500);
  int removed = 0;
  for (;;) {
    std::set<std::string> ours;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      ours = seen_;
    }
    // Containers created since the build started, not managed by Gilgal, that
    // carry this build's mark in Docker's own record of them.
    if (auto list = docker_.list_containers({}, true))
      for (const auto& c : *list)
        if (c.created >= started_sec_ && c.labels.count("gilgal.managed") == 0
            && is_docker_object_id(c.id))
          if (auto info = docker_.inspect_container(c.id); info && is_ours(*info))
            ours.insert(info->id);
    for (const auto& id : ours)
      if (docker_.remove_container(id, true, true))
        ++removed;
    if (removed > 0 || clock::now() >= deadline)
      return removed;
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // Docker may be creating it
  }
}

} // namespace gilgal
