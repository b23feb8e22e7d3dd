// Network endpoints of docker_client: create, remove, list.
#include "nodes/docker_client.hpp"

#include <nlohmann/json.hpp>

namespace gilgal {

caf::expected<std::string> docker_client::create_network(const std::string& name,
                                                         const label_map& labels) {
  nlohmann::json body;
  body["Name"] = name;
  body["Driver"] = "bridge";
  body["CheckDuplicate"] = true; // API < 1.44 would otherwise create a second one
  body["Labels"] = labels;
  auto payload = body.dump();
  request req;
  req.method = "POST";
  req.path = "/networks/create";
  req.body = payload;
  auto res = perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status != 201)
    return http_error(*res, errc::unavailable, "create network " + name);
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (!j.is_object() || !j.contains("Id") || !j["Id"].is_string())
    return make_error(errc::internal, "create network " + name + ": no id in the answer");
  return j["Id"].get<std::string>();
}

caf::expected<bool> docker_client::remove_network(const std::string& name) {
  request req;
  req.method = "DELETE";
  req.path = "/networks/" + escape(name);
  auto res = perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status == 204 || res->status == 200)
    return true;
  if (res->status == 404)
    return false;
  if (res->status == 403 || res->status == 409) // "has active endpoints"
    return make_error(errc::conflict, "remove network " + name + ": still in use");
  return http_error(*res, errc::internal, "remove network " + name);
}

caf::expected<std::vector<std::string>>
docker_client::list_networks(const std::vector<std::string>& labels) {
  request req;
  req.path = "/networks";
  if (!labels.empty())
    req.path += "?filters=" + label_filters(labels);
  auto res = perform(req);
  if (!res)
    return std::move(res.error());
  if (res->status != 200)
    return http_error(*res, errc::internal, "list networks");
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (!j.is_array())
    return make_error(errc::internal, "list networks: unreadable answer");
  std::vector<std::string> names;
  for (const auto& n : j)
    if (n.is_object() && n.contains("Name") && n["Name"].is_string())
      names.push_back(n["Name"].get<std::string>());
  return names;
}

} // namespace gilgal
