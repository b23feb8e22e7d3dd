#include "nodes/environment_network.hpp"

namespace gilgal {

std::string environment_network_name(const std::string& environment_id) {
  return "gilgal-env-" + environment_id;
}

caf::expected<std::string> ensure_environment_network(docker_client& docker,
                                                      const std::string& environment_id,
                                                      const std::string& project_id) {
  auto name = environment_network_name(environment_id);
  auto existing = docker.list_networks({"gilgal.environment=" + environment_id});
  if (!existing)
    return existing.error();
  for (auto& n : *existing)
    if (n == name)
      return name;
  label_map labels{{"gilgal.managed", "true"},
                   {"gilgal.environment", environment_id},
                   {"gilgal.project", project_id}};
  auto created = docker.create_network(name, labels);
  if (!created && message_of(created.error()).find("address pool") != std::string::npos) {
    if (auto pruned = prune_unused_environment_networks(docker); pruned && *pruned > 0)
      created = docker.create_network(name, labels);
  }
  if (!created && code_of(created.error()) != errc::conflict) // created by a racing job
    return created.error();
  return name;
}

caf::expected<bool> remove_environment_network_if_unused(docker_client& docker,
                                                         const std::string& environment_id) {
  if (environment_id.empty())
    return false;
  auto left = docker.list_containers({"gilgal.environment=" + environment_id}, true);
  if (!left)
    return left.error();
  if (!left->empty())
    return false;
  auto removed = docker.remove_network(environment_network_name(environment_id));
  if (!removed && code_of(removed.error()) == errc::conflict)
    return false;
  return removed;
}

caf::expected<int> prune_unused_environment_networks(docker_client& docker) {
  auto networks = docker.list_networks({"gilgal.managed=true"});
  if (!networks)
    return networks.error();
  static const std::string prefix = environment_network_name("");
  int removed = 0;
  for (auto& name : *networks) {
    if (name.compare(0, prefix.size(), prefix) != 0)
      continue;
    if (auto gone = remove_environment_network_if_unused(docker, name.substr(prefix.size()));
        gone && *gone)
      ++removed;
  }
  return removed;
}

} // namespace gilgal
