#include "nodes/docker_events.hpp"

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "nodes/docker_client.hpp"
#include "nodes/json_lines.hpp"
#include "protocol/error.hpp"

namespace gilgal {

bool parse_docker_event(const std::string& line, docker_event& out) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object())
    return false;
  auto text = [&](const nlohmann::json& obj, const char* key) {
    auto i = obj.find(key);
    return i != obj.end() && i->is_string() ? i->get<std::string>() : std::string{};
  };
  out = docker_event{};
  out.type = text(j, "Type");
  out.action = text(j, "Action");
  if (out.action.empty())
    out.action = text(j, "status"); // pre-1.22 field name
  if (auto actor = j.find("Actor"); actor != j.end() && actor->is_object()) {
    out.id = text(*actor, "ID");
    if (auto attrs = actor->find("Attributes"); attrs != actor->end() && attrs->is_object())
      for (auto& item : attrs->items())
        if (item.value().is_string())
          out.attributes[item.key()] = item.value().get<std::string>();
  }
  if (out.id.empty())
    out.id = text(j, "id");
  if (auto t = j.find("timeNano"); t != j.end() && t->is_number_integer())
    out.time_nano = t->get<int64_t>();
  return !out.action.empty();
}

caf::expected<void> stream_docker_events(docker_client& docker, const event_filter& filter,
                                         int64_t since_nano, std::chrono::milliseconds duration,
                                         const std::shared_ptr<abort_signal>& abort,
                                         const std::function<void(const docker_event&)>& on_event) {
  using namespace std::chrono;
  nlohmann::json f = nlohmann::json::object();
  if (!filter.labels.empty())
    f["label"] = filter.labels;
  if (!filter.types.empty())
    f["type"] = filter.types;
  if (!filter.actions.empty())
    f["event"] = filter.actions;
  if (!filter.containers.empty())
    f["container"] = filter.containers;
  docker_client::request req;
  auto now = duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
  req.path = "/events?filters=" + docker_client::escape(f.dump());
  if (since_nano > 0) {
    // "since" takes seconds.nanoseconds; events at exactly since_nano repeat
    // and are filtered below.
    auto secs = since_nano / 1000000000;
    auto nanos = since_nano % 1000000000;
    char frac[16];
    std::snprintf(frac, sizeof frac, "%09lld", static_cast<long long>(nanos));
    req.path += "&since=" + std::to_string(secs) + "." + frac;
  }
  // "until" makes Docker end the stream itself; the timeout is a backstop.
  auto until = now + duration_cast<seconds>(duration).count();
  req.path += "&until=" + std::to_string(until);
  req.timeout = duration + seconds{30};
  req.abort = abort.get();
  line_splitter lines{[&](std::string_view line) {
    docker_event ev;
    if (parse_docker_event(std::string{line}, ev)
        && (ev.time_nano == 0 || ev.time_nano > since_nano))
      on_event(ev);
  }};
  req.on_chunk = [&](std::string_view bytes) { lines.feed(bytes); };
  auto res = docker.perform(req);
  lines.finish();
  if (!res)
    return std::move(res.error());
  if (res->status != 200)
    return docker_client::http_error(*res, errc::unavailable, "docker events");
  return caf::unit;
}

} // namespace gilgal
