#include "nodes/image_retention.hpp"

#include <nlohmann/json.hpp>

#include "nodes/docker_client.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

/// Image ids used by any container on the host, running or not.
caf::expected<std::set<std::string>> images_in_use(docker_client& docker) {
  docker_client::request req;
  req.path = "/containers/json?all=1";
  auto res = docker.perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status != 200)
    return docker_client::http_error(*res, errc::internal, "list containers");
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (!j.is_array())
    return make_error(errc::internal, "list containers: unreadable answer");
  std::set<std::string> used;
  for (auto& c : j) {
    if (c.contains("ImageID") && c["ImageID"].is_string())
      used.insert(c["ImageID"].get<std::string>());
    if (c.contains("Image") && c["Image"].is_string())
      used.insert(c["Image"].get<std::string>());
  }
  return used;
}

} // namespace

std::string repository_of(const std::string& reference) {
  auto at = reference.find('@');
  auto ref = reference.substr(0, at);
  auto colon = ref.rfind(':');
  auto slash = ref.rfind('/');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash))
    return ref.substr(0, colon);
  return ref;
}

caf::expected<int64_t> remove_unretained_images(docker_client& docker,
                                                const std::string& project_id,
                                                const std::set<std::string>& keep) {
  if (project_id.empty())
    return make_error(errc::invalid_argument, "project_id: must not be empty");
  auto images = docker.list_images({"gilgal.project=" + project_id});
  if (!images)
    return std::move(images.error());
  auto used = images_in_use(docker);
  if (!used)
    return std::move(used.error());
  int64_t removed = 0;
  for (auto& img : *images) {
    // The filter already matched; check again: never touch an unlabelled image.
    auto label = img.labels.find("gilgal.project");
    if (label == img.labels.end() || label->second != project_id)
      continue;
    if (used->count(img.id) > 0)
      continue;
    bool kept = false;
    for (auto& ref : img.tags)
      kept = kept || used->count(ref) > 0 || keep.count(ref) > 0
             || keep.count(repository_of(ref)) > 0;
    if (kept)
      continue;
    std::vector<std::string> refs;
    for (auto& ref : img.tags)
      if (ref != "<none>:<none>")
        refs.push_back(ref);
    if (refs.empty())
      refs.push_back(img.id); // dangling but labelled: delete by id
    bool failed = false;
    for (auto& ref : refs)
      if (auto res = docker.remove_image(ref, false); !res)
        failed = true;
    if (!failed)
      ++removed;
  }
  return removed;
}

caf::expected<prune_result> prune_dangling_images(docker_client& docker) {
  return docker.prune_images({"gilgal.project"}, true);
}

} // namespace gilgal
