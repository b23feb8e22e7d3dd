#include "actors/deployment_store.hpp"

#include <caf/actor_system.hpp>

namespace gilgal {

deployment_store_actor::behavior_type deployment_store(deployment_store_actor::pointer,
                                                       std::shared_ptr<store> db) {
  return {
    [db](put_atom, const deployment& d) -> caf::result<bool> {
      if (auto res = db->update_deployment(d); !res)
        return res.error();
      return true;
    },
    [db](live_atom, const std::string& environment_id)
      -> caf::result<std::vector<deployment>> {
      auto res = db->list_successful_deployments(environment_id);
      if (!res)
        return res.error();
      return std::move(*res);
    },
    [db](recover_atom) -> caf::result<std::vector<deployment>> {
      auto res = db->list_unfinished_deployments();
      if (!res)
        return res.error();
      return std::move(*res);
    },
    [db](keep_atom, const std::map<std::string, std::string>& containers)
      -> caf::result<std::vector<std::string>> {
      std::vector<std::string> keep;
      std::map<std::string, std::string> newest; // environment -> newest successful deployment
      for (auto& [container, deployment_id] : containers) {
        auto d = db->find_deployment(deployment_id);
        if (!d) {
          // Not a deployment of this store (another Gilgal on the same Docker
          // host, or the store cannot tell): never ours to remove.
          keep.push_back(container);
          continue;
        }
        if (d->status != deployment_status::success)
          continue;
        auto i = newest.find(d->environment_id);
        if (i == newest.end()) {
          auto live = db->list_successful_deployments(d->environment_id);
          if (!live)
            return live.error();
          i = newest.emplace(d->environment_id, live->empty() ? "" : live->front().id).first;
        }
        if (i->second == deployment_id)
          keep.push_back(container);
      }
      return keep;
    },
    [db](retain_atom, const std::string& project_id,
         int64_t keep_per_environment) -> caf::result<std::set<std::string>> {
      std::set<std::string> keep;
      for (int64_t page_no = 1;; ++page_no) {
        auto envs = db->list_environments_masked(project_id, page_request{page_no, 100});
        if (!envs)
          return envs.error();
        for (auto& e : envs->items) {
          auto done = db->list_successful_deployments(e.id);
          if (!done)
            return done.error();
          int64_t kept = 0;
          for (auto& d : *done)
            if (!d.image_name.empty() && kept < keep_per_environment
                && keep.insert(d.image_name).second)
              ++kept;
        }
        if (!envs->has_more())
          break;
      }
      return keep;
    },
    [db](commit_atom, const std::string& project_id,
         const std::string& commit_sha) -> caf::result<std::string> {
      auto recent = db->list_deployments(project_id, page_request{1, 100});
      if (!recent)
        return recent.error();
      for (auto& d : recent->items)
        if (d.commit_sha == commit_sha && !d.commit_message.empty())
          return d.commit_message;
      return std::string{};
    },
    [db](access_atom, const std::string& project_id) -> caf::result<repository_access> {
      auto res = db->find_repository_access(project_id);
      if (!res)
        return res.error();
      return std::move(*res);
    },
    [db](hosts_atom, const std::string& project_id, const std::string& expected,
         const std::string& replacement) -> caf::result<bool> {
      auto res = db->record_known_hosts(project_id, expected, replacement);
      if (!res)
        return res.error();
      return *res;
    },
    [db](stop_atom, const std::string& environment_id,
         const std::string& deployment_id) -> caf::result<bool> {
      if (auto res = db->set_stopped_deployment(environment_id, deployment_id); !res)
        return res.error();
      return true;
    },
  };
}

deployment_store_actor spawn_deployment_store(caf::actor_system& sys,
                                              std::shared_ptr<store> db) {
  return sys.spawn<caf::detached>(deployment_store, std::move(db));
}

} // namespace gilgal
