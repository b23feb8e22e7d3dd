// The containers Docker's classic builder runs one build's RUN steps in,
// recognised by a mark only that build carries: a host entry
// "gilgal-build-<random>.invalid" passed through the build API's `extrahosts`
// parameter, which Docker copies into each step container's
// HostConfig.ExtraHosts. Nothing is taken from the build's output (a RUN step
// prints what it likes), so no container but this build's own is touched.
//
// While the build runs, a thread follows Docker's container "create" events
// and gives each of the build's containers the pids limit the build API has
// no parameter for. After an aborted build, remove_containers() removes what
// is left of them at once (Docker's forcerm would, about a second later).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "nodes/abort_signal.hpp"
#include "nodes/docker_client.hpp"

namespace gilgal {

class docker_build_guard {
public:
  /// Starts following events when `pids_limit` > 0.
  docker_build_guard(const docker_client& docker, int64_t pids_limit);

  docker_build_guard(const docker_build_guard&) = delete;
  docker_build_guard& operator=(const docker_build_guard&) = delete;

  /// Stops following events.
  ~docker_build_guard();

  /// The value of the build API's `extrahosts` parameter.
  std::string extra_host() const;

  /// True when `c` carries this build's mark.
  bool is_ours(const container_info& c) const;

  /// Removes every container of this build still present, polling briefly
  /// while Docker may still be creating one. Returns how many were removed.
  int remove_containers();

  /// How many of the build's containers got the pids limit (for tests).
  int limited() const noexcept {
    return limited_.load();
  }

private:
  void follow();
  void on_created(const std::string& id);

  docker_client docker_;
  int64_t pids_limit_;
  std::string host_;        // "gilgal-build-<32 hex>.invalid"
  int64_t started_nano_;
  int64_t started_sec_;
  std::shared_ptr<abort_signal> stop_;
  std::mutex mtx_;
  std::set<std::string> seen_; // containers of this build seen in events
  std::atomic<int> limited_{0};
  std::thread follower_;
};

} // namespace gilgal
