// `gilgal status PROJECT ENV`: what an environment runs — its URL, state,
// live deployment, container, restarts, CPU and memory — and `gilgal open
// PROJECT ENV`: its URL alone.
//
// Built from what the API offers: GET /api/environments/:id (with `url`,
// `state` and `liveDeploymentId` when the server provides them), the
// project's deployments (the environment's newest successful one is the live
// one when the server names none) and GET /api/deployments/:id/health.
#include <cstdio>
#include <iostream>

#include "cli/console_commands.hpp"
#include "cli/console_format.hpp"
#include "protocol/deployment_state.hpp"
#include "protocol/error.hpp"

namespace gilgal::cli {

namespace {

using nlohmann::json;

constexpr int max_deployment_pages = 10; // newest 1,000 deployments of the project

struct env_args {
  std::string project;
  std::string environment;
};

/// What `status` shows, gathered from the API.
struct environment_status {
  json project;
  json environment;
  json live = nullptr;   // the live deployment's record
  json latest = nullptr; // the environment's newest deployment, if not the live one
  json health = nullptr; // GET /api/deployments/:id/health of the live one
  std::string health_error;
};

std::string text_member(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

caf::expected<std::pair<json, json>> resolve(const api_client& api, const env_args& a) {
  auto project = api.resolve_project(a.project);
  if (!project)
    return project.error();
  auto listed = api.resolve_environment(project->value("id", ""), a.environment);
  if (!listed)
    return listed.error();
  // The full record: the list masks variable values and may omit fields.
  auto env = api.get("/api/environments/" + path_segment(listed->value("id", "")));
  if (!env)
    return env.error();
  return std::make_pair(std::move(*project), std::move(*env));
}

caf::expected<environment_status> gather(const api_client& api, const env_args& a) {
  auto found = resolve(api, a);
  if (!found)
    return found.error();
  environment_status st;
  st.project = std::move(found->first);
  st.environment = std::move(found->second);
  auto env_id = text_member(st.environment, "id");
  auto live_id = text_member(st.environment, "liveDeploymentId");
  // The environment's newest deployment, and its newest successful one.
  auto base = "/api/projects/" + path_segment(text_member(st.project, "id")) + "/deployments";
  for (int page = 1; page <= max_deployment_pages; ++page) {
    auto res = api.get(base + "?page=" + std::to_string(page) + "&limit=100");
    if (!res)
      return res.error();
    for (auto& d : res->value("items", json::array())) {
      if (text_member(d, "environmentId") != env_id)
        continue;
      if (st.latest.is_null())
        st.latest = d;
      bool live = live_id.empty()
                    ? parse_deployment_status(text_member(d, "status"))
                        == deployment_status::success
                    : text_member(d, "id") == live_id;
      if (live) {
        st.live = d;
        break;
      }
    }
    if (!st.live.is_null() || !res->value("hasMore", false))
      break;
  }
  if (st.live.is_null() && !live_id.empty()) { // older than the pages looked at
    auto d = api.get("/api/deployments/" + path_segment(live_id));
    if (d)
      st.live = std::move(*d);
  }
  if (!st.live.is_null() && !st.latest.is_null()
      && text_member(st.latest, "id") == text_member(st.live, "id"))
    st.latest = nullptr;
  if (!st.live.is_null()) {
    auto h = api.get("/api/deployments/" + path_segment(text_member(st.live, "id")) + "/health");
    if (h)
      st.health = std::move(*h);
    else
      st.health_error = error_text(h.error());
  }
  return st;
}

std::string mib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / (1024.0 * 1024.0));
  return buf;
}

std::string state_of(const environment_status& st) {
  if (auto s = text_member(st.environment, "state"); !s.empty()) {
    auto reason = text_member(st.environment, "stateReason");
    return reason.empty() ? s : s + " (" + reason + ")";
  }
  if (st.live.is_null())
    return "not deployed";
  if (!st.health.is_null())
    return str_of(st.health, "state", "unknown");
  return "unknown (" + st.health_error + ")";
}

void print_status(const environment_status& st) {
  auto& env = st.environment;
  auto row = [](const std::string& label, const std::string& value) {
    std::cout << "  " << label << std::string(label.size() < 11 ? 11 - label.size() : 1, ' ')
              << value << '\n';
  };
  std::cout << str_of(st.project, "name") << " / " << str_of(env, "name") << " ("
            << str_of(env, "type") << ")\n";
  auto url = text_member(env, "url");
  row("URL", url.empty() ? "none yet (this server does not publish a URL for it)" : url);
  row("State", state_of(st));
  if (st.live.is_null()) {
    row("Live", "no successful deployment (gilgal deploy " + str_of(st.project, "name") + " "
                  + str_of(env, "name") + ")");
  } else {
    auto& d = st.live;
    row("Live", str_of(d, "id"));
    row("Commit", commit8(d.value("commitSha", json{})) + ", deployed "
                    + age_of(str_of(d, "deployedAt", "")) + " ("
                    + str_of(d, "kind", "deploy") + ")");
    auto container = str_of(d, "containerId", "");
    row("Container", (container.empty() ? std::string{"-"} : container.substr(0, 12)) + " on port "
                       + str_of(d, "port") + " of node " + str_of(d, "runNode"));
    if (!st.health.is_null()) {
      auto& h = st.health;
      row("Restarts", str_of(h, "restartCount"));
      if (h.value("running", false)) {
        char cpu[32];
        std::snprintf(cpu, sizeof cpu, "%.1f%%", h.value("cpuPercent", 0.0));
        row("CPU", cpu);
        auto limit = h.value("memoryLimitBytes", 0.0);
        row("Memory", mib(h.value("memoryBytes", 0.0))
                        + (limit > 0 ? " of " + mib(limit) : std::string{" (no limit)"}));
      }
    }
  }
  if (!st.latest.is_null())
    row("Latest", str_of(st.latest, "id") + " " + str_of(st.latest, "status") + ", "
                    + age_of(str_of(st.latest, "createdAt", "")));
  std::cout.flush();
}

int status(const api_client& api, const env_args& a) {
  auto st = gather(api, a);
  if (!st)
    return report(st.error());
  if (api.target().json) {
    auto url = text_member(st->environment, "url");
    print_json(json{{"project", st->project},
                    {"environment", st->environment},
                    {"url", url.empty() ? json(nullptr) : json(url)},
                    {"state", state_of(*st)},
                    {"liveDeployment", st->live},
                    {"health", st->health},
                    {"latestDeployment", st->latest}});
    return console_exit::ok;
  }
  print_status(*st);
  return console_exit::ok;
}

int open_url(const api_client& api, const env_args& a) {
  auto found = resolve(api, a);
  if (!found)
    return report(found.error());
  auto& [project, env] = *found;
  auto url = text_member(env, "url");
  if (url.empty()) {
    std::cerr << "error: environment " << str_of(env, "name") << " of "
              << str_of(project, "name")
              << " has no URL yet: this Gilgal server does not publish one for it";
    if (!text_member(env, "domain").empty())
      std::cerr << " (its domain " << text_member(env, "domain")
                << " is not routed by this server)";
    std::cerr << ". `gilgal status " << str_of(project, "name") << ' ' << str_of(env, "name")
              << "` shows the port its container listens on." << std::endl;
    return console_exit::failed;
  }
  if (api.target().json)
    print_json(json{{"url", url}});
  else
    std::cout << url << std::endl;
  return console_exit::ok;
}

CLI::App* add_env_command(CLI::App& app, int& exit_code, const char* name,
                          const std::string& description,
                          int (*body)(const api_client&, const env_args&)) {
  auto a = std::make_shared<env_args>();
  auto* cmd = add_console_command(app, exit_code, name, description,
                                  [a, body](const api_client& api) { return body(api, *a); });
  cmd->add_option("PROJECT", a->project, "project name or id")->required();
  cmd->add_option("ENV", a->environment, "environment name or id (of that project)")
    ->required();
  return cmd;
}

} // namespace

void add_console_status_commands(CLI::App& app, int& exit_code) {
  add_env_command(app, exit_code, "status",
                  "Show environment ENV of PROJECT: its URL, state, live deployment "
                  "(commit, age, container, port, node), restarts, CPU and memory, and a "
                  "newer deployment in progress or failed. --json prints all of it as one "
                  "object.",
                  status);
  add_env_command(app, exit_code, "open",
                  "Print the URL of environment ENV of PROJECT (exit 1 with an explanation "
                  "when the server publishes none for it).",
                  open_url);
}

} // namespace gilgal::cli
