// `gilgal stop|start|restart PROJECT ENV`: the running app's lifecycle
// (POST /api/environments/:id/stop|start|restart). Prints the environment's
// state afterwards; exit 1 when it is `failed`.
#include <iostream>
#include <memory>

#include "cli/console_commands.hpp"
#include "cli/console_format.hpp"

namespace gilgal::cli {

namespace {

using nlohmann::json;

struct lifecycle_args {
  std::string project;
  std::string environment;
};

/// A read timeout above the server's: a start waits for the app's health
/// check (up to its timeout, 300 s at most by default).
constexpr std::chrono::seconds action_read_timeout{420};

int act(const api_client& api, const lifecycle_args& a, const std::string& action) {
  auto project = api.resolve_project(a.project);
  if (!project)
    return report(project.error());
  auto env = api.resolve_environment(str_of(*project, "id"), a.environment);
  if (!env)
    return report(env.error());
  auto res = api.send("POST", "/api/environments/" + path_segment(str_of(*env, "id")) + "/"
                                + action,
                      json::object(), {}, action_read_timeout);
  if (!res)
    return report(res.error());
  auto state = str_of(*res, "state", "unknown");
  if (api.target().json) {
    print_json(*res);
  } else {
    std::cout << str_of(*project, "name") << " / " << str_of(*env, "name") << ": " << state;
    if (auto reason = str_of(*res, "reason", ""); !reason.empty())
      std::cout << " (" << reason << ")";
    std::cout << std::endl;
  }
  return state == "failed" ? console_exit::failed : console_exit::ok;
}

void add_action(CLI::App& app, int& exit_code, const std::string& action,
                const std::string& description) {
  auto a = std::make_shared<lifecycle_args>();
  auto* cmd = add_console_command(app, exit_code, action.c_str(), description,
                                  [a, action](const api_client& api) {
                                    return act(api, *a, action);
                                  });
  cmd->add_option("PROJECT", a->project, "project name or id")->required();
  cmd->add_option("ENV", a->environment, "environment name or id (of that project)")
    ->required();
}

} // namespace

void add_console_lifecycle_commands(CLI::App& app, int& exit_code) {
  add_action(app, exit_code, "stop",
             "Stop the running app of environment ENV of PROJECT (its container gets "
             "SIGTERM, then SIGKILL after 10 s; it stays stopped until `gilgal start` or the "
             "next deployment).");
  add_action(app, exit_code, "start",
             "Start the stopped app of environment ENV of PROJECT again (the live "
             "deployment's container); answers once it answers HTTP on its health path.");
  add_action(app, exit_code, "restart",
             "Restart the app of environment ENV of PROJECT (its container stops and starts "
             "again); answers once it answers HTTP on its health path.");
}

} // namespace gilgal::cli
