// Container endpoints of docker_client: create, start, stop, kill, remove,
// inspect, list, logs, stats, wait.
#include "nodes/docker_client.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "nodes/docker_refs.hpp"
#include "nodes/json_lines.hpp"

namespace gilgal {

namespace {

using json = nlohmann::json;

label_map labels_of(const json& j) {
  label_map out;
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.value().is_string())
        out.emplace(it.key(), it.value().get<std::string>());
  return out;
}

const json& member(const json& j, const char* key) {
  static const json null_value;
  if (j.is_object()) {
    auto it = j.find(key);
    if (it != j.end())
      return *it;
  }
  return null_value;
}

int64_t int_of(const json& j) {
  return j.is_number() ? j.get<int64_t>() : 0;
}

std::string string_of(const json& j) {
  return j.is_string() ? j.get<std::string>() : std::string{};
}

// The first binding of a port map {"3000/tcp":[{"HostIp":..,"HostPort":".."}]}.
bool first_binding(const json& ports, std::string& ip, int& port) {
  if (!ports.is_object())
    return false;
  for (auto it = ports.begin(); it != ports.end(); ++it) {
    if (!it.value().is_array())
      continue;
    for (const auto& b : it.value()) {
      auto p = string_of(member(b, "HostPort"));
      if (p.empty())
        continue;
      ip = string_of(member(b, "HostIp"));
      port = std::atoi(p.c_str());
      return true;
    }
  }
  return false;
}

caf::expected<void> expect_status(caf::expected<docker_client::response> res,
                                  std::initializer_list<long> ok, errc server_error,
                                  const std::string& what) {
  if (!res)
    return std::move(res.error());
  for (auto s : ok)
    if (res->status == s)
      return caf::unit;
  return docker_client::http_error(*res, server_error, what);
}

} // namespace

caf::expected<std::string> docker_client::create_container(const container_spec& spec) {
  if (spec.image.empty())
    return make_error(errc::invalid_argument, "container image is empty");
  json body;
  body["Image"] = spec.image;
  body["Env"] = spec.env;
  if (!spec.cmd.empty())
    body["Cmd"] = spec.cmd;
  body["Labels"] = spec.labels;
  if (!spec.user.empty())
    body["User"] = spec.user;
  json host;
  if (spec.container_port > 0) {
    auto key = std::to_string(spec.container_port) + "/tcp";
    body["ExposedPorts"][key] = json::object();
    json binding;
    binding["HostIp"] = spec.host_ip;
    binding["HostPort"] = spec.host_port > 0 ? std::to_string(spec.host_port) : "";
    host["PortBindings"][key] = json::array({binding});
  }
  if (spec.memory_bytes > 0)
    host["Memory"] = spec.memory_bytes;
  if (spec.nano_cpus > 0)
    host["NanoCpus"] = spec.nano_cpus;
  if (spec.pids_limit > 0)
    host["PidsLimit"] = spec.pids_limit;
  if (spec.no_new_privileges)
    host["SecurityOpt"] = json::array({"no-new-privileges"});
  if (spec.drop_all_capabilities)
    host["CapDrop"] = json::array({"ALL"});
  if (!spec.cap_add.empty())
    host["CapAdd"] = spec.cap_add;
  if (spec.init)
    host["Init"] = true;
  host["Privileged"] = false;
  host["RestartPolicy"]["Name"] = spec.restart_policy.empty() ? "no" : spec.restart_policy;
  if (!spec.network_mode.empty())
    host["NetworkMode"] = spec.network_mode;
  if (spec.log_max_mb > 0) {
    // Bounded on Docker's disk whatever the app prints.
    host["LogConfig"]["Type"] = "json-file";
    host["LogConfig"]["Config"]["max-size"] = std::to_string(spec.log_max_mb) + "m";
    host["LogConfig"]["Config"]["max-file"] = std::to_string(std::max(1, spec.log_max_files));
  }
  body["HostConfig"] = std::move(host);
  auto payload = body.dump(-1, ' ', false, json::error_handler_t::replace);
  request req;
  req.method = "POST";
  req.path = "/containers/create";
  if (!spec.name.empty())
    req.path += "?name=" + escape(spec.name);
  req.body = payload;
  auto res = perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status != 201)
    return http_error(*res, errc::run_failed, "create container from " + spec.image);
  auto j = json::parse(res->body, nullptr, false);
  auto id = string_of(member(j, "Id"));
  if (id.empty())
    return make_error(errc::internal, "create container: no id in the answer");
  return id;
}

caf::expected<void> docker_client::start_container(const std::string& id) {
  auto seg = container_path_segment(id);
  if (!seg)
    return std::move(seg.error());
  request req;
  req.method = "POST";
  req.path = "/containers/" + *seg + "/start";
  return expect_status(perform(req), {204, 304}, errc::run_failed, "start container " + id);
}

caf::expected<void> docker_client::stop_container(const std::string& id,
                                                  std::chrono::seconds grace) {
  auto seg = container_path_segment(id);
  if (!seg)
    return std::move(seg.error());
  request req;
  req.method = "POST";
  req.path = "/containers/" + *seg + "/stop?t=" + std::to_string(grace.count());
  req.timeout = grace + std::chrono::seconds{30};
  return expect_status(perform(req), {204, 304}, errc::internal, "stop container " + id);
}

caf::expected<void> docker_client::restart_container(const std::string& id,
                                                     std::chrono::seconds grace) {
  auto seg = container_path_segment(id);
  if (!seg)
    return std::move(seg.error());
  request req;
  req.method = "POST";
  req.path = "/containers/" + *seg + "/restart?t=" + std::to_string(grace.count());
  req.timeout = grace + std::chrono::seconds{30};
  return expect_status(perform(req), {204}, errc::run_failed, "restart container " + id);
}

caf::expected<void> docker_client::remove_container(const std::string& id, bool force,
                                                    bool volumes) {
  auto seg = container_path_segment(id);
  if (!seg)
    return std::move(seg.error());
  request req;
  req.method = "DELETE";
  req.path = "/containers/" + *seg + "?force=" + (force ? "1" : "0") + "&v=" + (volumes ? "1" : "0");
  return expect_status(perform(req), {204}, errc::internal, "remove container " + id);
}

caf::expected<container_info> docker_client::inspect_container(const std::string& id) {
  auto seg = container_path_segment(id);
  if (!seg)
    return std::move(seg.error());
  request req;
  req.path = "/containers/" + *seg + "/json";
  auto res = perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status != 200)
    return http_error(*res, errc::internal, "inspect container " + id);
  auto j = json::parse(res->body, nullptr, false);
  if (!j.is_object())
    return make_error(errc::internal, "inspect container " + id + ": unreadable answer");
  container_info c;
  c.id = string_of(member(j, "Id"));
  c.name = string_of(member(j, "Name"));
  if (!c.name.empty() && c.name[0] == '/')
    c.name.erase(0, 1);
  c.image_id = string_of(member(j, "Image"));
  c.restart_count = static_cast<int>(int_of(member(j, "RestartCount")));
  const auto& state = member(j, "State");
  c.status = string_of(member(state, "Status"));
  c.running = member(state, "Running").is_boolean() && member(state, "Running").get<bool>();
  c.oom_killed = member(state, "OOMKilled").is_boolean()
                 && member(state, "OOMKilled").get<bool>();
  c.exit_code = static_cast<int>(int_of(member(state, "ExitCode")));
  c.error = string_of(member(state, "Error"));
  c.started_at = string_of(member(state, "StartedAt"));
  c.finished_at = string_of(member(state, "FinishedAt"));
  const auto& config = member(j, "Config");
  c.image = string_of(member(config, "Image"));
  c.labels = labels_of(member(config, "Labels"));
  const auto& networks = member(member(j, "NetworkSettings"), "Networks");
  if (networks.is_object())
    for (auto it = networks.begin(); it != networks.end(); ++it)
      if (auto ip = string_of(member(it.value(), "IPAddress")); !ip.empty())
        c.ip_addresses.emplace(it.key(), ip);
  if (!first_binding(member(member(j, "NetworkSettings"), "Ports"), c.host_ip, c.host_port))
    first_binding(member(member(j, "HostConfig"), "PortBindings"), c.host_ip, c.host_port);
  const auto& hosts = member(member(j, "HostConfig"), "ExtraHosts");
  if (hosts.is_array())
    for (const auto& h : hosts)
      if (h.is_string())
        c.extra_hosts.push_back(h.get<std::string>());
  c.pids_limit = int_of(member(member(j, "HostConfig"), "PidsLimit"));
  return c;
}

caf::expected<void> docker_client::set_pids_limit(const std::string& id, int64_t pids) {
  auto seg = container_path_segment(id);
  if (!seg)
    return std::move(seg.error());
  auto payload = json{{"PidsLimit", pids}}.dump();
  request req;
  req.method = "POST";
  req.path = "/containers/" + *seg + "/update";
  req.body = payload;
  return expect_status(perform(req), {200}, errc::internal, "update container " + id);
}

caf::expected<std::vector<container_summary>>
docker_client::list_containers(const std::vector<std::string>& labels, bool all) {
  request req;
  req.path = std::string{"/containers/json?all="} + (all ? "1" : "0");
  if (!labels.empty())
    req.path += "&filters=" + label_filters(labels);
  auto res = perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status != 200)
    return http_error(*res, errc::internal, "list containers");
  auto j = json::parse(res->body, nullptr, false);
  if (!j.is_array())
    return make_error(errc::internal, "list containers: unreadable answer");
  std::vector<container_summary> out;
  for (const auto& x : j) {
    container_summary s;
    s.id = string_of(member(x, "Id"));
    const auto& names = member(x, "Names");
    if (names.is_array())
      for (const auto& n : names) {
        auto name = string_of(n);
        if (!name.empty() && name[0] == '/')
          name.erase(0, 1);
        s.names.push_back(std::move(name));
      }
    s.image = string_of(member(x, "Image"));
    s.image_id = string_of(member(x, "ImageID"));
    s.command = string_of(member(x, "Command"));
    if (const auto& created = member(x, "Created"); created.is_number_integer())
      s.created = created.get<int64_t>();
    s.state = string_of(member(x, "State"));
    s.status = string_of(member(x, "Status"));
    s.labels = labels_of(member(x, "Labels"));
    out.push_back(std::move(s));
  }
  return out;
}

caf::expected<std::vector<std::string>> docker_client::container_logs(const std::string& id,
                                                                      int tail) {
  auto seg = container_path_segment(id);
  if (!seg)
    return std::move(seg.error());
  request req;
  req.path = "/containers/" + *seg + "/logs?stdout=1&stderr=1&tail="
             + (tail >= 0 ? std::to_string(tail) : std::string{"all"});
  auto res = perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status != 200)
    return http_error(*res, errc::internal, "logs of container " + id);
  std::vector<std::string> lines;
  line_splitter split{[&](std::string_view l) { lines.emplace_back(l); }};
  const auto& b = res->body;
  // Without a TTY, Docker multiplexes stdout and stderr in frames of
  // [stream(1) 0 0 0 size(4, big endian)] payload.
  auto framed = [&](size_t pos) {
    return pos + 8 <= b.size() && static_cast<unsigned char>(b[pos]) <= 2 && b[pos + 1] == 0
           && b[pos + 2] == 0 && b[pos + 3] == 0;
  };
  if (!b.empty() && framed(0)) {
    size_t pos = 0;
    while (pos + 8 <= b.size()) {
      uint32_t size = (uint32_t(uint8_t(b[pos + 4])) << 24) | (uint32_t(uint8_t(b[pos + 5])) << 16)
                      | (uint32_t(uint8_t(b[pos + 6])) << 8) | uint32_t(uint8_t(b[pos + 7]));
      pos += 8;
      auto n = std::min<size_t>(size, b.size() - pos);
      split.feed(std::string_view{b.data() + pos, n});
      pos += n;
    }
  } else {
    split.feed(b);
  }
  split.finish();
  return lines;
}

caf::expected<container_stats> docker_client::stats(const std::string& id) {
  auto seg = container_path_segment(id);
  if (!seg)
    return std::move(seg.error());
  request req;
  req.path = "/containers/" + *seg + "/stats?stream=false";
  req.timeout = std::chrono::seconds{30};
  auto res = perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status != 200)
    return http_error(*res, errc::internal, "stats of container " + id);
  auto j = json::parse(res->body, nullptr, false);
  if (!j.is_object())
    return make_error(errc::internal, "stats of container " + id + ": unreadable answer");
  container_stats s;
  const auto& cpu = member(j, "cpu_stats");
  const auto& pre = member(j, "precpu_stats");
  auto cpu_delta = double(int_of(member(member(cpu, "cpu_usage"), "total_usage")))
                   - double(int_of(member(member(pre, "cpu_usage"), "total_usage")));
  auto sys_delta = double(int_of(member(cpu, "system_cpu_usage")))
                   - double(int_of(member(pre, "system_cpu_usage")));
  auto online = double(int_of(member(cpu, "online_cpus")));
  if (online <= 0) {
    const auto& per = member(member(cpu, "cpu_usage"), "percpu_usage");
    online = per.is_array() ? double(per.size()) : 1.0;
  }
  if (cpu_delta > 0 && sys_delta > 0)
    s.cpu_percent = cpu_delta / sys_delta * online * 100.0;
  const auto& mem = member(j, "memory_stats");
  s.memory_usage = int_of(member(mem, "usage"));
  s.memory_limit = int_of(member(mem, "limit"));
  const auto& ms = member(mem, "stats");
  int64_t cache = 0;
  if (member(ms, "total_inactive_file").is_number())      // cgroup v1
    cache = int_of(member(ms, "total_inactive_file"));
  else if (member(ms, "inactive_file").is_number())       // cgroup v2
    cache = int_of(member(ms, "inactive_file"));
  if (cache > 0 && cache < s.memory_usage)
    s.memory_usage -= cache;
  s.pids = int_of(member(member(j, "pids_stats"), "current"));
  return s;
}

} // namespace gilgal
