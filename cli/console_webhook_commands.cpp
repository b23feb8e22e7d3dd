// `gilgal webhook PROJECT`: makes (or rotates) the project's webhook secret
// (POST /api/projects/:id/webhook) and prints the URLs to give the git host
// and the secret, which the server shows only this once.
#include <iostream>

#include "cli/console_commands.hpp"
#include "cli/console_format.hpp"

namespace gilgal::cli {

namespace {

using nlohmann::json;

int create_webhook(const api_client& api, const std::string& project_arg) {
  auto project = api.resolve_project(project_arg);
  if (!project)
    return report(project.error());
  auto id = project->value("id", "");
  auto body = api.post("/api/projects/" + path_segment(id) + "/webhook", json::object());
  if (!body)
    return report(body.error());
  if (api.target().json) {
    print_json(*body);
    return console_exit::ok;
  }
  std::cout << "GitHub:        " << str_of(*body, "githubUrl") << '\n'
            << "GitLab:        " << str_of(*body, "gitlabUrl") << '\n'
            << "Gitea/Forgejo: " << str_of(*body, "giteaUrl") << '\n'
            << "Content type:  " << str_of(*body, "contentType") << '\n'
            << "Secret (shown once; `gilgal webhook` again replaces it):\n"
            << str_of(*body, "secret") << std::endl;
  return console_exit::ok;
}

} // namespace

void add_console_webhook_commands(CLI::App& app, int& exit_code) {
  auto project = std::make_shared<std::string>();
  auto* cmd = add_console_command(
    app, exit_code, "webhook",
    "Make a new webhook secret for PROJECT (a project name or id) and print the URLs for "
    "GitHub, GitLab and Gitea and the secret, shown only this once (the previous secret "
    "stops working). Environments with autoDeploy then deploy every push to their branch.",
    [project](const api_client& api) { return create_webhook(api, *project); });
  cmd->add_option("PROJECT", *project, "project name or id")->required();
}

} // namespace gilgal::cli
