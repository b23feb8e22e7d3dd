// `gilgal projects`, `gilgal envs PROJECT`, `gilgal deployments PROJECT`:
// one page of a list as an aligned table (or the API's page JSON with --json).
#include <iostream>
#include <map>

#include "cli/console_commands.hpp"
#include "cli/console_format.hpp"
#include "protocol/deployment_state.hpp"

namespace gilgal::cli {

namespace {

using nlohmann::json;

struct page_options {
  int page = 0;  // 0: the server's default (1)
  int limit = 0; // 0: the server's default (20)
};

void add_page_options(CLI::App* cmd, page_options& p) {
  cmd->add_option("--page", p.page, "page number, from 1")->check(CLI::PositiveNumber);
  cmd->add_option("--limit", p.limit, "items per page, 1..100 (server default 20)")
    ->check(CLI::Range(1, 100));
}

void print_page(const json& page, const text_table& table, const std::string& none) {
  if (table.empty()) {
    std::cout << none << std::endl;
  } else {
    table.print(std::cout);
  }
  if (auto footer = page_footer(page); !footer.empty())
    std::cout << footer << std::endl;
}

int list_projects(const api_client& api, const page_options& p) {
  auto page = api.get("/api/projects" + page_query(p.page, p.limit));
  if (!page)
    return report(page.error());
  if (api.target().json) {
    print_json(*page);
    return console_exit::ok;
  }
  text_table table{{"ID", "NAME", "BRANCH", "FRAMEWORK", "REPOSITORY", "CREATED"}};
  table.flexible(1, 12).flexible(2, 8).flexible(4, 16);
  table.droppable(3, 4).droppable(2, 3).droppable(5, 2).droppable(4, 1);
  for (auto& x : page->value("items", json::array()))
    table.add({str_of(x, "id"), str_of(x, "name"), str_of(x, "branch"),
               str_of(x, "framework", "auto"), one_line(str_of(x, "repositoryUrl"), 60),
               age_of(str_of(x, "createdAt", ""))});
  print_page(*page, table, "no projects (create one with gilgal projects create NAME REPO)");
  return console_exit::ok;
}

int list_environments(const api_client& api, const std::string& project_arg,
                      const page_options& p) {
  if (project_arg.empty()) { // not required by CLI11: `gilgal envs create` needs none
    std::cerr << "error: envs: PROJECT is required (gilgal envs PROJECT, or gilgal envs "
                 "create PROJECT NAME --type TYPE)"
              << std::endl;
    return console_exit::usage;
  }
  auto project = api.resolve_project(project_arg);
  if (!project)
    return report(project.error());
  auto id = project->value("id", "");
  auto page = api.get("/api/projects/" + path_segment(id) + "/environments"
                      + page_query(p.page, p.limit));
  if (!page)
    return report(page.error());
  if (api.target().json) {
    print_json(*page);
    return console_exit::ok;
  }
  text_table table{{"ID", "NAME", "TYPE", "DOMAIN", "VARIABLES", "CREATED"}};
  table.flexible(1, 12).flexible(3, 12);
  table.droppable(5, 4).droppable(4, 3).droppable(3, 2).droppable(2, 1);
  for (auto& x : page->value("items", json::array())) {
    auto vars = x.value("environmentVariables", json::object());
    table.add({str_of(x, "id"), str_of(x, "name"), str_of(x, "type"), str_of(x, "domain"),
               std::to_string(vars.size()), age_of(str_of(x, "createdAt", ""))});
  }
  print_page(*page, table, "no environments in project " + project->value("name", id));
  return console_exit::ok;
}

int list_deployments(const api_client& api, const std::string& project_arg,
                     const page_options& p) {
  auto project = api.resolve_project(project_arg);
  if (!project)
    return report(project.error());
  auto id = project->value("id", "");
  auto page = api.get("/api/projects/" + path_segment(id) + "/deployments"
                      + page_query(p.page, p.limit));
  if (!page)
    return report(page.error());
  if (api.target().json) {
    print_json(*page);
    return console_exit::ok;
  }
  // Environment names for the table; ids if they cannot be listed.
  std::map<std::string, std::string> env_names;
  if (auto envs = api.get_all("/api/projects/" + path_segment(id) + "/environments"))
    for (auto& e : *envs)
      env_names[e.value("id", "")] = e.value("name", "");
  text_table table{
    {"ID", "STATUS", "ENVIRONMENT", "COMMIT", "CREATED", "DURATION", "MESSAGE"}};
  table.flexible(2, 11).flexible(6, 12);
  table.droppable(6, 5).droppable(5, 4).droppable(3, 3).droppable(4, 2).droppable(2, 1);
  for (auto& x : page->value("items", json::array())) {
    auto env_id = str_of(x, "environmentId");
    auto env = env_names.count(env_id) ? env_names[env_id] : env_id;
    auto message = str_of(x, "commitMessage", "");
    if (parse_deployment_kind(str_of(x, "kind", "")) == deployment_kind::rollback
        && message.empty())
      message = "rollback to " + str_of(x, "rollbackOf").substr(0, 8);
    if (parse_deployment_status(str_of(x, "status", "")) == deployment_status::failed
        && message.empty())
      message = str_of(x, "errorMessage", "");
    table.add({str_of(x, "id"), str_of(x, "status"), env, commit8(x.value("commitSha", json{})),
               age_of(str_of(x, "createdAt", "")), duration_of(x.value("durationSeconds", json{})),
               one_line(message, 50)});
  }
  print_page(*page, table,
             ("no deployments of project " + project->value("name", id)
              + " yet (gilgal deploy PROJECT ENV)"));
  return console_exit::ok;
}

} // namespace

void add_console_list_commands(CLI::App& app, int& exit_code) {
  auto projects_page = std::make_shared<page_options>();
  auto* projects = add_console_command(
    app, exit_code, "projects",
    "List your projects (id, name, branch, repository, age); `gilgal projects create` "
    "creates one.",
    [projects_page](const api_client& api) { return list_projects(api, *projects_page); });
  add_page_options(projects, *projects_page);

  auto envs_project = std::make_shared<std::string>();
  auto envs_page = std::make_shared<page_options>();
  auto* envs = add_console_command(
    app, exit_code, "envs",
    "List the environments of PROJECT (a project name or id); `gilgal envs create` "
    "creates one.",
    [envs_project, envs_page](const api_client& api) {
      return list_environments(api, *envs_project, *envs_page);
    });
  envs->add_option("PROJECT", *envs_project, "project name or id");
  add_page_options(envs, *envs_page);
  add_console_create_commands(*projects, *envs, exit_code);
  add_console_repository_commands(*projects, exit_code);

  auto deps_project = std::make_shared<std::string>();
  auto deps_page = std::make_shared<page_options>();
  auto* deps = add_console_command(
    app, exit_code, "deployments",
    "List the deployments of PROJECT (a project name or id), newest first: id, status, "
    "environment, commit, age, duration, message.",
    [deps_project, deps_page](const api_client& api) {
      return list_deployments(api, *deps_project, *deps_page);
    });
  deps->add_option("PROJECT", *deps_project, "project name or id")->required();
  add_page_options(deps, *deps_page);
}

} // namespace gilgal::cli
