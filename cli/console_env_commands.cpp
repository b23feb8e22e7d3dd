// `gilgal env set PROJECT ENV KEY=VALUE...`, `gilgal env unset PROJECT ENV
// KEY...` and `gilgal env show PROJECT ENV`: an environment's runtime
// variables (PATCH / GET /api/environments/:id). A change to a deployed
// environment is released at once as a deployment of kind "config" (its log
// is followed like `gilgal deploy`'s) unless --no-deploy is given.
#include <iostream>
#include <memory>

#include "cli/console_commands.hpp"
#include "cli/console_follow.hpp"
#include "cli/console_format.hpp"
#include "protocol/error.hpp"

namespace gilgal::cli {

namespace {

using nlohmann::json;

struct env_var_args {
  std::string project;
  std::string environment;
  std::vector<std::string> items; // KEY=VALUE (set) or KEY (unset)
  bool no_deploy = false;
};

caf::expected<json> resolve(const api_client& api, const env_var_args& a) {
  auto project = api.resolve_project(a.project);
  if (!project)
    return project.error();
  return api.resolve_environment(str_of(*project, "id"), a.environment);
}

/// PATCHes the variables and follows the config release, if one was made.
int change(const api_client& api, const env_var_args& a, const json& variables) {
  auto env = resolve(api, a);
  if (!env)
    return report(env.error());
  auto path = "/api/environments/" + path_segment(str_of(*env, "id"));
  if (a.no_deploy)
    path += "?deploy=false";
  auto res = api.patch(path, json{{"environmentVariables", variables}});
  if (!res)
    return report(res.error());
  bool as_json = api.target().json;
  std::ostream& text = as_json ? std::cerr : std::cout;
  auto release = res->value("deployment", json{});
  if (!release.is_object()) {
    if (as_json)
      print_json(*res);
    else if (a.no_deploy)
      text << "Saved, not released (--no-deploy): the next deployment takes it" << std::endl;
    else if (res->value("liveDeploymentId", json{}).is_string())
      text << "Saved: the variables were already so, nothing to release" << std::endl;
    else
      text << "Saved: nothing runs yet, the first deployment takes it" << std::endl;
    return console_exit::ok;
  }
  auto id = str_of(release, "id");
  text << "Releasing the change as deployment " << id << " (the live image, new settings)"
       << std::endl;
  auto status = follow_and_print(api, id, text, false);
  if (!status)
    return report(status.error());
  if (as_json) {
    auto end = api.get("/api/deployments/" + path_segment(id));
    if (!end)
      return report(end.error());
    print_json(*end);
  } else {
    text << "Deployment " << id << " ended: " << *status << std::endl;
  }
  return exit_code_of_status(*status);
}

int set(const api_client& api, const env_var_args& a) {
  auto vars = json::object();
  for (auto& item : a.items) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "error: expected KEY=VALUE, got '" << one_line(item.substr(0, eq), 40)
                << (eq == std::string::npos ? "'" : "=...'") << std::endl;
      return console_exit::usage;
    }
    vars[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return change(api, a, vars);
}

int unset(const api_client& api, const env_var_args& a) {
  auto vars = json::object();
  for (auto& name : a.items)
    vars[name] = nullptr;
  return change(api, a, vars);
}

int show(const api_client& api, const env_var_args& a) {
  auto listed = resolve(api, a);
  if (!listed)
    return report(listed.error());
  auto env = api.get("/api/environments/" + path_segment(str_of(*listed, "id")));
  if (!env)
    return report(env.error());
  auto vars = env->value("environmentVariables", json::object());
  if (api.target().json) {
    print_json(vars);
    return console_exit::ok;
  }
  for (auto& [name, value] : vars.items())
    std::cout << name << "=" << (value.is_string() ? value.get<std::string>() : value.dump())
              << '\n';
  std::cout.flush();
  return console_exit::ok;
}

CLI::App* add_var_command(CLI::App& env, int& exit_code, const char* name,
                          const std::string& description,
                          int (*body)(const api_client&, const env_var_args&)) {
  auto a = std::make_shared<env_var_args>();
  auto* cmd = add_console_command(env, exit_code, name, description,
                                  [a, body](const api_client& api) { return body(api, *a); });
  cmd->add_option("PROJECT", a->project, "project name or id")->required();
  cmd->add_option("ENV", a->environment, "environment name or id (of that project)")
    ->required();
  if (std::string{name} != "show") {
    cmd->add_option("ITEMS", a->items, std::string{name} == "set" ? "KEY=VALUE ..." : "KEY ...")
      ->required();
    cmd->add_flag("--no-deploy", a->no_deploy,
                  "save only; the change takes effect at the next deployment");
  }
  return cmd;
}

} // namespace

void add_console_env_commands(CLI::App& app, int& exit_code) {
  auto* env = app.add_subcommand("env", "An environment's runtime variables: set, unset, show.");
  env->require_subcommand(1);
  add_var_command(*env, exit_code, "set",
                  "Set variables of environment ENV of PROJECT. A deployed environment is "
                  "released at once: its live image runs with the new values, health-checked "
                  "like any deployment (the log is followed; exit 1 if it fails, the old "
                  "container then keeps running).",
                  set);
  add_var_command(*env, exit_code, "unset",
                  "Remove variables of environment ENV of PROJECT (released like `env set`).",
                  unset);
  add_var_command(*env, exit_code, "show",
                  "Print the variables of environment ENV of PROJECT as KEY=VALUE (values "
                  "shown: you own them).",
                  show);
}

} // namespace gilgal::cli
