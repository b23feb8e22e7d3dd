// `gilgal logs ID [-f]` (or `--app PROJECT ENV [-f] [--tail N]`: the running app), `gilgal cancel ID`, `gilgal rollback ID`: commands on
// one deployment.
#include <chrono>
#include <iostream>
#include <vector>

#include "cli/console_commands.hpp"
#include "cli/console_follow.hpp"
#include "cli/console_format.hpp"
#include "protocol/deployment_state.hpp"
#include "protocol/error.hpp"

namespace gilgal::cli {

namespace {

using nlohmann::json;

struct logs_args {
  std::string id;
  std::vector<std::string> app; // PROJECT ENV: the environment's runtime log
  bool follow = false;
  int page = 0;
  int limit = 0;
  int tail = -1;
};

std::string deployment_path(const std::string& id) {
  return "/api/deployments/" + path_segment(id);
}

void print_line(const json& line, bool as_json) {
  if (as_json)
    std::cout << line.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  else
    std::cout << format_log_line(line) << '\n';
}

/// `[timestamp] stream: message` of a runtime log line.
void print_app_line(const json& line, bool as_json) {
  if (as_json)
    std::cout << line.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  else
    std::cout << "[" << str_of(line, "timestamp", "") << "] " << str_of(line, "stream", "stdout")
              << ": " << str_of(line, "message", "") << '\n';
}

/// `gilgal logs --app PROJECT ENV [-f] [--tail N]`: what the app prints.
int show_app_logs(const api_client& api, const logs_args& a) {
  bool as_json = api.target().json;
  auto project = api.resolve_project(a.app[0]);
  if (!project)
    return report(project.error());
  auto env = api.resolve_environment(str_of(*project, "id"), a.app[1]);
  if (!env)
    return report(env.error());
  auto env_id = str_of(*env, "id");
  if (a.follow) {
    // Until Ctrl-C, or until the environment is deleted.
    auto end = api.follow_app_log(
      env_id, a.tail,
      [as_json](const json& line) {
        print_app_line(line, as_json);
        std::cout.flush();
      },
      [](int attempt, const std::string& why) {
        std::cerr << "reconnecting (" << attempt << "): " << why << std::endl;
      });
    if (!end)
      return report(end.error());
    std::cerr << "log ended: " << *end << std::endl;
    return console_exit::ok;
  }
  auto path = "/api/environments/" + path_segment(env_id) + "/logs";
  if (a.tail >= 0)
    path += "?tail=" + std::to_string(a.tail);
  auto res = api.get(path);
  if (!res)
    return report(res.error());
  if (as_json) {
    print_json(*res);
    return console_exit::ok;
  }
  for (auto& line : res->value("items", json::array()))
    print_app_line(line, false);
  std::cout.flush();
  return console_exit::ok;
}

int show_logs(const api_client& api, const logs_args& a) {
  if (!a.app.empty())
    return show_app_logs(api, a);
  if (a.id.empty()) {
    std::cerr << "error: give a deployment ID, or --app PROJECT ENV" << std::endl;
    return console_exit::usage;
  }
  if (a.tail >= 0) {
    std::cerr << "error: --tail is for --app PROJECT ENV (a deployment log has --page/--limit)"
              << std::endl;
    return console_exit::usage;
  }
  bool as_json = api.target().json;
  if (a.follow) {
    // Stops when the deployment ends (at once for a finished one).
    auto status = follow_and_print(api, a.id, std::cout, as_json);
    if (!status)
      return report(status.error());
    if (!as_json)
      std::cerr << "deployment " << a.id << " ended: " << *status << std::endl;
    return console_exit::ok;
  }
  auto base = deployment_path(a.id) + "/logs";
  if (a.page > 0 || a.limit > 0) { // exactly one page, as the API gives it
    auto page = api.get(base + page_query(a.page, a.limit));
    if (!page)
      return report(page.error());
    if (as_json) {
      print_json(*page);
      return console_exit::ok;
    }
    for (auto& line : page->value("items", json::array()))
      print_line(line, false);
    std::cout.flush();
    if (auto footer = page_footer(*page); !footer.empty())
      std::cerr << footer << std::endl;
    return console_exit::ok;
  }
  auto lines = api.get_all(base);
  if (!lines)
    return report(lines.error());
  for (auto& line : *lines)
    print_line(line, as_json);
  std::cout.flush();
  return console_exit::ok;
}

int cancel(const api_client& api, const std::string& id) {
  auto res = api.del(deployment_path(id));
  if (!res)
    return report(res.error());
  if (api.target().json)
    print_json(*res);
  else
    std::cout << res->value("message", "Deployment cancelled") << ": " << id << std::endl;
  return console_exit::ok;
}

int rollback(const api_client& api, const std::string& id) {
  // The server answers 202 at once; the rollback is a deployment of its own,
  // followed here until it ends (its log on stderr).
  auto res = api.post(deployment_path(id) + "/rollback", json::object());
  if (!res) {
    auto msg = message_of(res.error());
    if (code_of(res.error()) == errc::not_found && msg.rfind("no route for", 0) == 0) {
      std::cerr << "error: this Gilgal server does not offer rollback (" << msg << ")"
                << std::endl;
      return console_exit::failed;
    }
    return report(res.error());
  }
  auto target = str_of(*res, "id");
  auto rollback_id = str_of(*res, "rollbackDeploymentId");
  if (rollback_id.empty()) { // a server that answered when it was done
    if (api.target().json)
      print_json(*res);
    else
      std::cout << res->value("message", "Rolled back") << ' ' << target << std::endl;
    return console_exit::ok;
  }
  std::cerr << "Rolling back to deployment " << target << " as deployment " << rollback_id
            << std::endl;
  auto status = follow_and_print(api, rollback_id, std::cerr, false);
  if (!status) {
    auto code = report(status.error());
    std::cerr << "the rollback goes on; `gilgal logs " << rollback_id << " -f` follows it again"
              << std::endl;
    return code;
  }
  auto end = api.get(deployment_path(rollback_id));
  if (!end)
    return report(end.error());
  auto final_status = str_of(*end, "status", *status);
  if (api.target().json) {
    print_json(json{{"id", target},
                    {"status", final_status},
                    {"rollbackDeploymentId", rollback_id},
                    {"deployment", *end}});
  } else if (parse_deployment_status(final_status) == deployment_status::success) {
    std::cout << "Rolled back to previous deployment " << target << " (status success)"
              << "; the rollback is deployment " << rollback_id;
    if (end->value("port", json{}).is_number())
      std::cout << ", port " << str_of(*end, "port");
    std::cout << std::endl;
  } else {
    std::cout << "Rollback " << rollback_id << " to " << target << " ended " << final_status
              << ": " << str_of(*end, "errorMessage", "(no message)") << std::endl;
  }
  return exit_code_of_status(final_status);
}

} // namespace

void add_console_deployment_commands(CLI::App& app, int& exit_code) {
  auto la = std::make_shared<logs_args>();
  auto* logs = add_console_command(
    app, exit_code, "logs",
    "Print the log of deployment ID as `[timestamp] level: message` (every line, or one "
    "page with --page/--limit). With -f, follow it live until the deployment ends, "
    "reconnecting if the connection drops; Ctrl-C stops following and does not cancel the "
    "deployment. --json prints one JSON object per line (or the page's JSON with --page).\n"
    "With --app PROJECT ENV instead of ID: what the environment's running app prints on "
    "stdout and stderr, as `[timestamp] stream: message` (the last --tail lines, 100 by "
    "default; -f follows it across restarts and new deployments until Ctrl-C).",
    [la](const api_client& api) { return show_logs(api, *la); });
  auto* id = logs->add_option("ID", la->id, "deployment id");
  auto* app_opt = logs->add_option("--app", la->app, "PROJECT ENV: the running app's log")
                ->expected(2);
  id->excludes(app_opt);
  logs->add_option("--tail", la->tail, "with --app: the last N lines (0..10000)")
    ->check(CLI::Range(0, 10000));
  auto* follow = logs->add_flag("-f,--follow", la->follow,
                                "follow the log live (a deployment's until it ends)");
  auto* page = logs->add_option("--page", la->page, "print only this page (from 1)")
                 ->check(CLI::PositiveNumber);
  auto* limit =
    logs->add_option("--limit", la->limit, "lines per page, 1..100")->check(CLI::Range(1, 100));
  follow->excludes(page)->excludes(limit);

  auto cancel_id = std::make_shared<std::string>();
  auto* c = add_console_command(
    app, exit_code, "cancel",
    "Cancel deployment ID while it is pending or building (its build or container is "
    "stopped and removed). A finished deployment cannot be cancelled: the server's message "
    "is printed and the exit code is 1.",
    [cancel_id](const api_client& api) { return cancel(api, *cancel_id); });
  c->add_option("ID", *cancel_id, "deployment id")->required();

  auto rollback_id = std::make_shared<std::string>();
  auto* r = add_console_command(
    app, exit_code, "rollback",
    "Roll the environment of deployment ID back to its previous successful deployment "
    "(POST /api/deployments/ID/rollback); prints the server's answer, or its error.",
    [rollback_id](const api_client& api) { return rollback(api, *rollback_id); });
  r->add_option("ID", *rollback_id, "deployment id")->required();
}

} // namespace gilgal::cli
