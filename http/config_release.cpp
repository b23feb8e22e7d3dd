#include "http/config_release.hpp"

#include <spdlog/spdlog.h>

#include "http/pipeline_start.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

bool same_resources(const environment_settings& a, const environment_settings& b) {
  return a.memory_mb == b.memory_mb && a.cpus == b.cpus && a.pids == b.pids;
}

/// "Config change: set A, B; unset C; resources" (names only).
std::string change_message(const environment& before, const environment& after) {
  std::string set, unset;
  auto add = [](std::string& list, const std::string& name) {
    list += (list.empty() ? "" : ", ") + name;
  };
  for (auto& [name, value] : after.variables) {
    auto old = before.variables.find(name);
    if (old == before.variables.end() || old->second != value)
      add(set, name);
  }
  for (auto& [name, value] : before.variables)
    if (after.variables.count(name) == 0)
      add(unset, name);
  std::string text = "Config change";
  std::string parts;
  if (!set.empty())
    parts += "set " + set;
  if (!unset.empty())
    parts += (parts.empty() ? "" : "; ") + std::string{"unset "} + unset;
  if (!same_resources(before.settings, after.settings))
    parts += (parts.empty() ? "" : "; ") + std::string{"resources"};
  if (!parts.empty())
    text += ": " + parts;
  if (text.size() > 500)
    text = text.substr(0, 497) + "...";
  return text;
}

} // namespace

bool needs_config_release(const environment& before, const environment& after) {
  return before.variables != after.variables || !same_resources(before.settings, after.settings);
}

caf::expected<caf::optional<deployment>> release_config(request_context& ctx,
                                                        const environment& before,
                                                        const environment& after) {
  auto live = ctx.db().list_successful_deployments(after.id);
  if (!live)
    return live.error();
  if (live->empty() || live->front().image_name.empty())
    return caf::optional<deployment>{}; // nothing runs: the next deployment takes the settings
  auto& current = live->front();
  auto p = ctx.db().find_project(after.project_id);
  if (!p)
    return p.error();
  deployment d;
  d.project_id = current.project_id;
  d.environment_id = after.id;
  d.kind = deployment_kind::config;
  d.image_name = current.image_name;
  d.run_node = current.run_node; // the image is where the live container runs
  d.commit_sha = current.commit_sha;
  d.commit_message = change_message(before, after);
  d.status = deployment_status::pending;
  auto created = ctx.db().create_deployment(d);
  if (!created)
    return created.error();
  if (auto err = start_pipeline(ctx, *created, *p, after))
    return err;
  spdlog::info("deployment {} (config) of environment {} queued", created->id, after.id);
  return caf::optional<deployment>{std::move(*created)};
}

} // namespace gilgal
