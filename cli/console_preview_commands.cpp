// `gilgal previews PROJECT`: the project's preview environments (one per open
// pull request; GET /api/projects/:id/previews) as a table fitted to the
// terminal, or the API's page JSON with --json.
#include <iostream>

#include "cli/console_commands.hpp"
#include "cli/console_format.hpp"
#include "protocol/ids.hpp"

namespace gilgal::cli {

namespace {

using nlohmann::json;

/// "in 3h", "in 2d", "in 12m", or "due" for an RFC 3339 expiry time.
std::string expires_in(const std::string& rfc3339) {
  std::chrono::system_clock::time_point t;
  if (rfc3339.empty() || !parse_rfc3339(rfc3339, t))
    return "-";
  auto left = std::chrono::duration_cast<std::chrono::minutes>(t - std::chrono::system_clock::now())
                .count();
  if (left <= 0)
    return "due";
  if (left < 60)
    return "in " + std::to_string(left) + "m";
  if (left < 48 * 60)
    return "in " + std::to_string(left / 60) + "h";
  return "in " + std::to_string(left / (24 * 60)) + "d";
}

int list_previews(const api_client& api, const std::string& project_arg, int page, int limit) {
  auto project = api.resolve_project(project_arg);
  if (!project)
    return report(project.error());
  auto id = project->value("id", "");
  auto body = api.get("/api/projects/" + path_segment(id) + "/previews" + page_query(page, limit));
  if (!body)
    return report(body.error());
  if (api.target().json) {
    print_json(*body);
    return console_exit::ok;
  }
  text_table table{{"PR", "STATUS", "URL", "BRANCH", "COMMIT", "EXPIRES", "ID"}};
  table.flexible(2, 16).flexible(3, 8);
  table.droppable(6, 4).droppable(4, 3).droppable(5, 2).droppable(3, 1);
  for (auto& x : body->value("items", json::array())) {
    auto preview = x.value("preview", json::object());
    auto latest = x.value("latestDeployment", json::object());
    if (!latest.is_object())
      latest = json::object();
    auto number = int_of(preview, "pullRequest", 0);
    table.add({number > 0 ? "#" + std::to_string(number) : "-",
               str_of(latest, "status"), str_of(x, "url"), str_of(preview, "branch"),
               commit8(latest.value("commitSha", json{})),
               expires_in(str_of(preview, "expiresAt", "")), str_of(x, "id")});
  }
  auto settings = body->value("previews", json::object());
  if (table.empty()) {
    auto name = project->value("name", id);
    std::cout << (settings.value("enabled", false)
                    ? "no previews of project " + name + " (none of its pull requests is open)"
                    : "no previews of project " + name
                        + " (previews are off: PATCH the project's previews.enabled)")
              << std::endl;
  } else {
    table.print(std::cout);
  }
  if (auto footer = page_footer(*body); !footer.empty())
    std::cout << footer << std::endl;
  return console_exit::ok;
}

} // namespace

void add_console_preview_commands(CLI::App& app, int& exit_code) {
  struct options {
    std::string project;
    int page = 0;
    int limit = 0;
  };
  auto o = std::make_shared<options>();
  auto* cmd = add_console_command(
    app, exit_code, "previews",
    "List the preview environments of PROJECT (a project name or id): one per open pull "
    "request, with its latest deployment's status, its URL, its branch and commit and when "
    "it expires if nothing happens to it.",
    [o](const api_client& api) { return list_previews(api, o->project, o->page, o->limit); });
  cmd->add_option("PROJECT", o->project, "project name or id")->required();
  cmd->add_option("--page", o->page, "page number, from 1")->check(CLI::PositiveNumber);
  cmd->add_option("--limit", o->limit, "items per page, 1..100 (server default 20)")
    ->check(CLI::Range(1, 100));
}

} // namespace gilgal::cli
