// `gilgal projects create NAME REPO [--branch B] [--framework F]` and
// `gilgal envs create PROJECT NAME --type T [--domain D] [--var K=V]...
// [--build-var K=V]... [--auto-deploy] [--branch B]`: POST /api/projects and
// POST /api/projects/:id/environments. The server validates every field; its
// message (naming the field) is printed on a refusal.
#include <iostream>

#include "cli/console_commands.hpp"
#include "cli/console_format.hpp"
#include "protocol/error.hpp"

namespace gilgal::cli {

namespace {

using nlohmann::json;

struct project_args {
  std::string name;
  std::string repository;
  std::string branch;
  std::string framework;
  std::string repository_token; // "-": a line of stdin
};

struct environment_args {
  std::string project;
  std::string name;
  std::string type;
  std::string domain;
  std::vector<std::string> variables;
  std::vector<std::string> build_variables;
  bool auto_deploy = false;
  std::string branch;
};

/// {"K": "V", ...} from "K=V" arguments; the flag is named in the error.
caf::expected<json> pairs_of(const std::vector<std::string>& items, const std::string& flag) {
  auto out = json::object();
  for (auto& item : items) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error(errc::invalid_argument,
                        flag + ": expected KEY=VALUE, got '" + one_line(item.substr(0, eq), 40)
                          + (eq == std::string::npos ? "'" : "=...'"));
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

int create_project(const api_client& api, const project_args& a) {
  json body{{"name", a.name}, {"repositoryUrl", a.repository}};
  if (!a.branch.empty())
    body["branch"] = a.branch;
  if (!a.framework.empty())
    body["framework"] = a.framework;
  if (a.repository_token == "-") {
    std::string line;
    std::getline(std::cin, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
      line.pop_back();
    body["repositoryToken"] = line;
  } else if (!a.repository_token.empty()) {
    body["repositoryToken"] = a.repository_token;
  }
  auto created = api.post("/api/projects", body);
  if (!created)
    return report(created.error());
  if (api.target().json) {
    print_json(*created);
    return console_exit::ok;
  }
  std::cout << "Project " << str_of(*created, "name") << " created: " << str_of(*created, "id")
            << " (branch " << str_of(*created, "branch") << ", framework "
            << str_of(*created, "framework") << ")\n"
            << "Next: gilgal envs create " << str_of(*created, "name")
            << " production --type production" << std::endl;
  return console_exit::ok;
}

int create_environment(const api_client& api, const environment_args& a) {
  auto vars = pairs_of(a.variables, "--var");
  if (!vars)
    return report(vars.error());
  auto build_vars = pairs_of(a.build_variables, "--build-var");
  if (!build_vars)
    return report(build_vars.error());
  auto project = api.resolve_project(a.project);
  if (!project)
    return report(project.error());
  json body{{"name", a.name}, {"type", a.type}};
  if (!a.domain.empty())
    body["domain"] = a.domain;
  if (!vars->empty())
    body["environmentVariables"] = *vars;
  if (!build_vars->empty())
    body["buildVariables"] = *build_vars;
  if (a.auto_deploy)
    body["autoDeploy"] = true;
  if (!a.branch.empty())
    body["branch"] = a.branch;
  auto created = api.post("/api/projects/" + path_segment(project->value("id", ""))
                            + "/environments",
                          body);
  if (!created)
    return report(created.error());
  if (api.target().json) {
    print_json(*created);
    return console_exit::ok;
  }
  std::cout << "Environment " << str_of(*created, "name") << " of "
            << project->value("name", "") << " created: " << str_of(*created, "id") << " ("
            << str_of(*created, "type");
  if (!str_of(*created, "domain", "").empty())
    std::cout << ", domain " << str_of(*created, "domain");
  std::cout << ")\nNext: gilgal deploy " << project->value("name", "") << ' '
            << str_of(*created, "name") << std::endl;
  return console_exit::ok;
}

} // namespace

void add_console_create_commands(CLI::App& projects, CLI::App& envs, int& exit_code) {
  auto pa = std::make_shared<project_args>();
  auto* p = add_console_command(
    projects, exit_code, "create",
    "Create a project NAME deployed from the git repository REPO (https:// or "
    "git@host:path); prints its id.",
    [pa](const api_client& api) { return create_project(api, *pa); });
  p->add_option("NAME", pa->name, "project name")->required();
  p->add_option("REPO", pa->repository, "git repository URL")->required();
  p->add_option("--branch", pa->branch, "branch deployed by default (server default: main)");
  p->add_option("--framework", pa->framework,
                "auto (default), nextjs, react, nodejs, django, python, static or dockerfile");
  p->add_option("--repository-token", pa->repository_token,
                "HTTPS token of a private repository (TOKEN or USER:TOKEN; - reads it from "
                "stdin, which keeps it out of the process list)");

  auto ea = std::make_shared<environment_args>();
  auto* e = add_console_command(
    envs, exit_code, "create",
    "Create the environment NAME of PROJECT (a project name or id); prints its id. "
    "--var sets a runtime variable (encrypted at rest); --build-var a build-time "
    "variable (passed to the image build as a Docker build arg: NOT secret, visible "
    "in the image history).",
    [ea](const api_client& api) { return create_environment(api, *ea); });
  e->add_option("PROJECT", ea->project, "project name or id")->required();
  e->add_option("NAME", ea->name, "environment name")->required();
  e->add_option("--type", ea->type, "production, staging or development")->required();
  e->add_option("--domain", ea->domain, "the domain it is served on");
  // One KEY=VALUE per flag, so that positionals after it stay positionals.
  e->add_option("--var", ea->variables, "KEY=VALUE runtime variable (repeatable)")
    ->allow_extra_args(false);
  e->add_option("--build-var", ea->build_variables,
                "KEY=VALUE build-time variable, e.g. VITE_API_URL=https://... (repeatable)")
    ->allow_extra_args(false);
  e->add_flag("--auto-deploy", ea->auto_deploy,
              "a push received by the project's webhook deploys it (see `gilgal webhook`)");
  e->add_option("--branch", ea->branch,
                "the branch whose pushes deploy it (default: the project's)");
}

} // namespace gilgal::cli
