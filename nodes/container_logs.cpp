#include "nodes/container_logs.hpp"

#include <chrono>

#include "nodes/docker_client.hpp"
#include "nodes/docker_events.hpp"
#include "nodes/docker_log_stream.hpp"

namespace gilgal {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

int64_t now_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// One read of the logs API: the lines Docker has, or (follow) the first
/// chunk of new ones; `ended` when Docker closed a follow itself.
caf::expected<container_log_batch> read_once(docker_client& docker,
                                             const std::string& container_id,
                                             const container_log_query& query,
                                             const std::shared_ptr<abort_signal>& abort) {
  bool follow = query.follow_ms > 0;
  docker_client::request req;
  req.path = "/containers/" + container_id + "/logs?stdout=1&stderr=1&timestamps=1";
  if (query.tail >= 0)
    req.path += "&tail=" + std::to_string(query.tail);
  if (!query.since.empty())
    req.path += "&since=" + docker_client::escape(query.since);
  if (follow)
    req.path += "&follow=1";
  req.timeout = follow ? milliseconds{query.follow_ms} : milliseconds{std::chrono::seconds{60}};
  // A follow ends at the first chunk that completes a line: the caller asks
  // again (with `since`), so a line reaches it as soon as Docker has it.
  auto stop = abort_signal::make();
  int waker = -1;
  if (abort)
    waker = abort->add_waker([stop] { stop->trigger(); });
  req.abort = stop.get();
  container_log_batch batch;
  docker_log_stream parser{[&](container_log_line line) {
    if (batch.lines.size() < max_log_batch_lines)
      batch.lines.push_back(std::move(line));
  }};
  req.on_chunk = [&](std::string_view bytes) {
    parser.feed(bytes);
    if (follow && !batch.lines.empty())
      stop->trigger();
    if (batch.lines.size() >= max_log_batch_lines)
      stop->trigger();
  };
  auto res = docker.perform(req);
  if (abort)
    abort->remove_waker(waker);
  if (!res) {
    auto code = code_of(res.error());
    bool ours = code == errc::cancelled && stop->triggered() && !(abort && abort->triggered());
    if (ours || (follow && code == errc::timeout))
      return batch; // a batch is complete, or nothing came within follow_ms
    return res.error();
  }
  if (res->status < 200 || res->status >= 300)
    return docker_client::http_error(*res, errc::internal, "logs of container " + container_id);
  parser.finish();
  batch.ended = follow;
  return batch;
}

/// Waits until the container that is not running (Docker closed its log
/// stream) starts again, up to `deadline`, on Docker's event stream: true if
/// it runs, false if it did not start in time; errc::not_found once it is
/// removed.
caf::expected<bool> await_start(docker_client& docker, const std::string& container_id,
                                steady_clock::time_point deadline,
                                const std::shared_ptr<abort_signal>& abort) {
  // Events from before the look at its state on: a start in between counts.
  auto since = now_nanos();
  auto info = docker.inspect_container(container_id);
  if (!info)
    return std::move(info.error());
  if (info->running)
    return true;
  auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
  // Docker's events take whole seconds as their end.
  if (left < std::chrono::seconds{1})
    return false;
  event_filter filter;
  filter.types = {"container"};
  filter.containers = {container_id};
  filter.actions = {"start", "destroy"};
  auto stop = abort_signal::make();
  int waker = -1;
  if (abort)
    waker = abort->add_waker([stop] { stop->trigger(); });
  std::string seen;
  auto res = stream_docker_events(docker, filter, since, left, stop,
                                  [&](const docker_event& ev) {
                                    if (seen.empty()) {
                                      seen = ev.action;
                                      stop->trigger();
                                    }
                                  });
  if (abort)
    abort->remove_waker(waker);
  if (seen == "start")
    return true;
  if (seen == "destroy")
    return make_error(errc::not_found, "container " + container_id + " was removed");
  if (!res && !(code_of(res.error()) == errc::cancelled && !(abort && abort->triggered())))
    return std::move(res.error());
  return false;
}

} // namespace

caf::expected<container_log_batch> read_container_logs(docker_client& docker,
                                                       const std::string& container_id,
                                                       const container_log_query& query,
                                                       const std::shared_ptr<abort_signal>& abort) {
  // An id or name Docker accepts: hex, letters, digits, '_', '.', '-'.
  if (container_id.empty() || container_id.size() > 128
      || container_id.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
           != std::string::npos)
    return make_error(errc::invalid_argument, "not a container id");
  auto deadline = steady_clock::now() + milliseconds{query.follow_ms};
  auto batch = read_once(docker, container_id, query, abort);
  if (!batch || !batch->ended || !batch->lines.empty())
    return batch;
  // Docker closed the follow at once: the container does not run (stopped,
  // or waiting for Docker to restart it). Its next lines come after its next
  // start: the answer waits for that instead of sending the caller back now.
  auto started = await_start(docker, container_id, deadline, abort);
  if (!started)
    return std::move(started.error());
  batch->ended = !*started;
  return batch;
}

} // namespace gilgal
