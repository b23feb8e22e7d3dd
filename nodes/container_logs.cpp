#include "nodes/container_logs.hpp"

#include <chrono>

#include "nodes/docker_client.hpp"
#include "nodes/docker_log_stream.hpp"

namespace gilgal {

caf::expected<container_log_batch> read_container_logs(const std::string& docker_host,
                                                       const std::string& container_id,
                                                       const container_log_query& query,
                                                       const std::shared_ptr<abort_signal>& abort) {
  docker_client docker{docker_host};
  // An id or name Docker accepts: hex, letters, digits, '_', '.', '-'.
  if (container_id.empty() || container_id.size() > 128
      || container_id.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
           != std::string::npos)
    return make_error(errc::invalid_argument, "not a container id");
  bool follow = query.follow_ms > 0;
  docker_client::request req;
  req.path = "/containers/" + container_id + "/logs?stdout=1&stderr=1&timestamps=1";
  if (query.tail >= 0)
    req.path += "&tail=" + std::to_string(query.tail);
  if (!query.since.empty())
    req.path += "&since=" + docker_client::escape(query.since);
  if (follow)
    req.path += "&follow=1";
  req.timeout = follow ? std::chrono::milliseconds{query.follow_ms} : std::chrono::seconds{60};
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

} // namespace gilgal
