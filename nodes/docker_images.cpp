// Image endpoints of docker_client: build, inspect, list, tag, remove, push,
// pull, prune.
#include "nodes/docker_client.hpp"

#include <cctype>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "nodes/docker_progress.hpp"
#include "protocol/ids.hpp"

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

std::vector<std::string> strings_of(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& x : j)
      if (x.is_string())
        out.push_back(x.get<std::string>());
  return out;
}

std::string base64url(const std::string& in) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string auth_header(const registry_auth& auth) {
  json j = json::object();
  if (!auth.username.empty()) {
    j["username"] = auth.username;
    j["password"] = auth.password;
  }
  if (!auth.server_address.empty())
    j["serveraddress"] = auth.server_address;
  return "X-Registry-Auth: " + base64url(j.dump());
}

image_info image_of_inspect(const json& j) {
  image_info img;
  img.id = j.value("Id", "");
  img.tags = strings_of(j.value("RepoTags", json::array()));
  if (j.contains("Config") && j["Config"].is_object() && j["Config"].contains("Labels"))
    img.labels = labels_of(j["Config"]["Labels"]);
  img.created = j.value("Created", "");
  img.size = j.value("Size", int64_t{0});
  return img;
}

prune_result prune_of(const json& j, const char* list_key, const char* id_key) {
  prune_result r;
  if (j.contains(list_key) && j[list_key].is_array())
    for (const auto& x : j[list_key]) {
      if (x.is_string())
        r.deleted.push_back(x.get<std::string>());
      else if (x.is_object())
        for (auto it = x.begin(); it != x.end(); ++it)
          if (it.value().is_string() && (id_key == nullptr || it.key() == id_key))
            r.deleted.push_back(it.value().get<std::string>());
    }
  r.space_reclaimed = j.value("SpaceReclaimed", int64_t{0});
  return r;
}

/// Letters and digits only: Docker shows a RUN command re-quoted
/// ("/bin/sh -c 'sleep 20'"), the build stream shows it as written.
std::string squeezed(std::string_view s) {
  std::string out;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c)))
      out += c;
  return out;
}

/// After an aborted build whose RUN step had started but whose container id
/// was not yet announced: removes the container of that step — created from
/// `layer`, since `since` (unix seconds), running `run_command`, and not
/// managed by Gilgal — polling briefly while Docker may still be creating
/// it. Nothing else matches all of that, so no other container is touched.
void remove_step_containers(docker_client& docker, const std::string& layer,
                            const std::string& run_command, int64_t since) {
  using clock = std::chrono::steady_clock;
  auto want = squeezed(run_command);
  auto deadline = clock::now() + std::chrono::milliseconds(1500);
  for (;;) {
    bool removed = false;
    if (auto list = docker.list_containers({}, true)) {
      for (const auto& c : *list) {
        auto image = c.image_id.substr(c.image_id.find(':') + 1);
        if (image.compare(0, layer.size(), layer) != 0 || c.created < since
            || c.labels.count("gilgal.managed") > 0 || want.empty()
            || squeezed(c.command).find(want) == std::string::npos)
          continue;
        removed = static_cast<bool>(docker.remove_container(c.id, true, true)) || removed;
      }
    }
    if (removed || clock::now() >= deadline)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

} // namespace

caf::expected<std::string> docker_client::build(std::string_view context_tar,
                                                const build_options& opts,
                                                const docker_line_callback& on_line) {
  std::string q = "/build?forcerm=1&rm=1&dockerfile=" + escape(opts.dockerfile);
  for (const auto& t : opts.tags)
    q += "&t=" + escape(t);
  if (!opts.labels.empty())
    q += "&labels=" + escape(json(opts.labels).dump());
  if (!opts.build_args.empty())
    q += "&buildargs=" + escape(json(opts.build_args).dump());
  if (opts.no_cache)
    q += "&nocache=1";
  if (!opts.network_mode.empty())
    q += "&networkmode=" + escape(opts.network_mode);
  docker_progress progress{on_line};
  request req;
  req.method = "POST";
  req.path = q;
  req.body = context_tar;
  req.content_type = "application/x-tar";
  req.timeout = opts.timeout;
  req.abort = opts.abort.get();
  req.on_chunk = [&](std::string_view bytes) { progress.feed(bytes); };
  auto started = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count() - 1;
  auto res = perform(req);
  progress.finish();
  if (!res) {
    // The closed connection makes Docker stop the build and remove its
    // container (forcerm), after about a second; removing the running
    // intermediate container ourselves makes it immediate.
    auto code = code_of(res.error());
    if (code == errc::timeout || code == errc::cancelled) {
      if (!progress.running_container().empty())
        (void) remove_container(progress.running_container(), true, true);
      else if (!progress.last_layer().empty() && !progress.run_command().empty())
        remove_step_containers(*this, progress.last_layer(), progress.run_command(), started);
    }
    if (code_of(res.error()) == errc::timeout)
      return make_error(errc::timeout, "build timed out after "
                                         + std::to_string(opts.timeout.count() / 1000) + " s");
    if (code_of(res.error()) == errc::cancelled)
      return make_error(errc::cancelled, "build cancelled");
    return std::move(res.error());
  }
  if (res->status < 200 || res->status >= 300) {
    auto err = http_error(*res, errc::build_failed, "build");
    return make_error(errc::build_failed, message_of(err));
  }
  if (!progress.error().empty())
    return make_error(errc::build_failed, progress.error());
  if (progress.image_id().empty())
    return make_error(errc::build_failed, "build ended without an image id");
  auto id = progress.image_id();
  if (id.compare(0, 7, "sha256:") != 0) {
    // "Successfully built abc123" carries a short id only: resolve it.
    auto img = inspect_image(id);
    if (img)
      id = img->id;
  }
  return id;
}

caf::expected<image_info> docker_client::inspect_image(const std::string& name) {
  request req;
  req.path = "/images/" + name + "/json";
  auto res = perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status != 200)
    return http_error(*res, errc::internal, "inspect image " + name);
  auto j = json::parse(res->body, nullptr, false);
  if (!j.is_object())
    return make_error(errc::internal, "inspect image " + name + ": unreadable answer");
  return image_of_inspect(j);
}

caf::expected<bool> docker_client::image_exists(const std::string& name) {
  auto img = inspect_image(name);
  if (img)
    return true;
  if (code_of(img.error()) == errc::not_found)
    return false;
  return std::move(img.error());
}

caf::expected<std::vector<image_info>>
docker_client::list_images(const std::vector<std::string>& labels) {
  request req;
  req.path = "/images/json";
  if (!labels.empty())
    req.path += "?filters=" + label_filters(labels);
  auto res = perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status != 200)
    return http_error(*res, errc::internal, "list images");
  auto j = json::parse(res->body, nullptr, false);
  if (!j.is_array())
    return make_error(errc::internal, "list images: unreadable answer");
  std::vector<image_info> out;
  for (const auto& x : j) {
    image_info img;
    img.id = x.value("Id", "");
    img.tags = strings_of(x.value("RepoTags", json::array()));
    if (x.contains("Labels"))
      img.labels = labels_of(x["Labels"]);
    auto created = x.value("Created", int64_t{0});
    img.created = to_rfc3339(std::chrono::system_clock::time_point{std::chrono::seconds{created}});
    img.size = x.value("Size", int64_t{0});
    out.push_back(std::move(img));
  }
  return out;
}

caf::expected<void> docker_client::tag_image(const std::string& source,
                                             const std::string& repo, const std::string& tag) {
  request req;
  req.method = "POST";
  req.path = "/images/" + source + "/tag?repo=" + escape(repo) + "&tag=" + escape(tag);
  auto res = perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status != 201 && res->status != 200)
    return http_error(*res, errc::internal, "tag image " + source);
  return caf::unit;
}

caf::expected<void> docker_client::remove_image(const std::string& name, bool force) {
  request req;
  req.method = "DELETE";
  req.path = "/images/" + name + (force ? "?force=1" : "");
  auto res = perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status != 200)
    return http_error(*res, errc::internal, "remove image " + name);
  return caf::unit;
}

namespace {

caf::expected<void> progress_stream(docker_client& dc, docker_client::request& req,
                                    const docker_line_callback& on_line,
                                    const std::string& what) {
  docker_progress progress{on_line};
  req.on_chunk = [&](std::string_view bytes) { progress.feed(bytes); };
  auto res = dc.perform(req);
  progress.finish();
  if (!res)
    return std::move(res.error());
  if (res->status < 200 || res->status >= 300)
    return docker_client::http_error(*res, errc::unavailable, what);
  if (!progress.error().empty())
    return make_error(errc::unavailable, what + ": " + progress.error());
  return caf::unit;
}

} // namespace

caf::expected<void> docker_client::push_image(const std::string& name, const std::string& tag,
                                              const registry_auth& auth,
                                              const docker_line_callback& on_line,
                                              std::shared_ptr<abort_signal> abort,
                                              std::chrono::milliseconds timeout) {
  request req;
  req.method = "POST";
  req.path = "/images/" + name + "/push";
  if (!tag.empty())
    req.path += "?tag=" + escape(tag);
  req.headers.push_back(auth_header(auth));
  req.timeout = timeout;
  req.abort = abort.get();
  return progress_stream(*this, req, on_line, "push " + name + (tag.empty() ? "" : ":" + tag));
}

caf::expected<void> docker_client::pull_image(const std::string& name, const std::string& tag,
                                              const registry_auth& auth,
                                              const docker_line_callback& on_line,
                                              std::shared_ptr<abort_signal> abort,
                                              std::chrono::milliseconds timeout) {
  request req;
  req.method = "POST";
  req.path = "/images/create?fromImage=" + escape(name);
  req.path += "&tag=" + escape(tag.empty() ? "latest" : tag);
  req.headers.push_back(auth_header(auth));
  req.timeout = timeout;
  req.abort = abort.get();
  return progress_stream(*this, req, on_line, "pull " + name + (tag.empty() ? "" : ":" + tag));
}

caf::expected<prune_result> docker_client::prune_images(const std::vector<std::string>& labels,
                                                        bool dangling_only) {
  request req;
  req.method = "POST";
  req.path = "/images/prune?filters="
             + label_filters(labels, {{"dangling", dangling_only ? "true" : "false"}});
  req.timeout = std::chrono::minutes{10};
  auto res = perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status != 200)
    return http_error(*res, errc::internal, "prune images");
  auto j = json::parse(res->body, nullptr, false);
  if (!j.is_object())
    return make_error(errc::internal, "prune images: unreadable answer");
  return prune_of(j, "ImagesDeleted", "Deleted");
}

caf::expected<prune_result> docker_client::prune_build_cache() {
  request req;
  req.method = "POST";
  req.path = "/build/prune";
  req.timeout = std::chrono::minutes{10};
  auto res = perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status != 200)
    return http_error(*res, errc::internal, "prune build cache");
  auto j = json::parse(res->body, nullptr, false);
  if (!j.is_object())
    return make_error(errc::internal, "prune build cache: unreadable answer");
  return prune_of(j, "CachesDeleted", nullptr);
}

} // namespace gilgal
