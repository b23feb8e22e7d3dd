// Image endpoints of docker_client: build, inspect, list, tag, remove, push,
// pull, prune.
#include "nodes/docker_client.hpp"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "nodes/docker_build_guard.hpp"
#include "nodes/docker_progress.hpp"
#include "nodes/docker_refs.hpp"
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
          if (it.value().is_string() && it.key() == id_key)
            r.deleted.push_back(it.value().get<std::string>());
    }
  r.space_reclaimed = j.value("SpaceReclaimed", int64_t{0});
  return r;
}

} // namespace

caf::expected<std::string> docker_client::build(std::string_view context_tar,
                                                const build_options& opts,
                                                const docker_line_callback& on_line) {
  docker_build_guard guard{*this, opts.pids_limit};
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
  if (opts.memory_bytes > 0) // memswap = memory: no swap on top
    q += "&memory=" + std::to_string(opts.memory_bytes)
         + "&memswap=" + std::to_string(opts.memory_bytes);
  if (opts.cpus > 0) {
    constexpr int64_t period = 100000; // microseconds
    auto quota = std::max<int64_t>(1000, static_cast<int64_t>(opts.cpus * period));
    q += "&cpuperiod=" + std::to_string(period) + "&cpuquota=" + std::to_string(quota);
  }
  q += "&extrahosts=" + escape(guard.extra_host());
  docker_progress progress{on_line};
  request req;
  req.method = "POST";
  req.path = q;
  req.body = context_tar;
  req.content_type = "application/x-tar";
  req.timeout = opts.timeout;
  req.abort = opts.abort.get();
  req.on_chunk = [&](std::string_view bytes) { progress.feed(bytes); };
  auto res = perform(req);
  progress.finish();
  if (!res) {
    // The closed connection makes Docker stop the build and remove its
    // container (forcerm), after about a second; removing the step's
    // container ourselves makes it immediate. Only containers carrying this
    // build's mark are removed.
    auto code = code_of(res.error());
    if (code == errc::timeout || code == errc::cancelled)
      guard.remove_containers();
    if (code == errc::timeout)
      return make_error(errc::timeout, "build timed out after "
                                         + std::to_string(opts.timeout.count() / 1000) + " s");
    if (code == errc::cancelled)
      return make_error(errc::cancelled, "build cancelled");
    return std::move(res.error());
  }
  if (res->status < 200 || res->status >= 300) {
    auto err = http_error(*res, errc::build_failed, "build");
    return make_error(errc::build_failed, message_of(err));
  }
  if (!progress.error().empty())
    return make_error(errc::build_failed, progress.error());
  if (!progress.image_id().empty())
    return progress.image_id();
  // No "aux" ID (an old daemon): the tag just built names the image.
  if (!opts.tags.empty())
    if (auto img = inspect_image(opts.tags.front()); img && !img->id.empty())
      return img->id;
  return make_error(errc::build_failed, "build ended without an image id");
}

caf::expected<image_info> docker_client::inspect_image(const std::string& name) {
  auto seg = image_path_segment(name);
  if (!seg)
    return std::move(seg.error());
  request req;
  req.path = "/images/" + *seg + "/json";
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
  auto seg = image_path_segment(source);
  if (!seg)
    return std::move(seg.error());
  request req;
  req.method = "POST";
  req.path = "/images/" + *seg + "/tag?repo=" + escape(repo) + "&tag=" + escape(tag);
  auto res = perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status != 201 && res->status != 200)
    return http_error(*res, errc::internal, "tag image " + source);
  return caf::unit;
}

caf::expected<void> docker_client::remove_image(const std::string& name, bool force) {
  auto seg = image_path_segment(name);
  if (!seg)
    return std::move(seg.error());
  request req;
  req.method = "DELETE";
  req.path = "/images/" + *seg + (force ? "?force=1" : "");
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
  auto seg = image_path_segment(name);
  if (!seg)
    return std::move(seg.error());
  request req;
  req.method = "POST";
  req.path = "/images/" + *seg + "/push";
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

} // namespace gilgal
