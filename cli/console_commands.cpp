#include "cli/console_commands.hpp"

#include <iostream>

namespace gilgal::cli {

const char* const console_help_footer =
  "Server and token: --url/--token/--cacert, else GILGAL_URL/GILGAL_TOKEN/GILGAL_CACERT, "
  "else url/token/cacert in $XDG_CONFIG_HOME/gilgal/config.toml "
  "(~/.config/gilgal/config.toml); default URL http://127.0.0.1:8080; https:// URLs are "
  "checked against the system CA bundle unless --cacert names a CA file.\nExit codes: 0 ok, 1 failed or refused by the server, 2 bad "
  "configuration (e.g. no token), 3 deployment cancelled, 4 server unreachable.";

void add_console_commands(CLI::App& app, int& exit_code) {
  add_console_deploy_command(app, exit_code);
  add_console_list_commands(app, exit_code);
  add_console_deployment_commands(app, exit_code);
  add_console_node_commands(app, exit_code);
  add_console_status_commands(app, exit_code);
  add_console_webhook_commands(app, exit_code);
  add_console_preview_commands(app, exit_code);
  add_console_lifecycle_commands(app, exit_code);
  add_console_env_commands(app, exit_code);
}

CLI::App* add_console_command(CLI::App& app, int& exit_code, const char* name,
                              const std::string& description,
                              std::function<int(const api_client&)> body) {
  auto* cmd = app.add_subcommand(name, description);
  cmd->footer(console_help_footer);
  auto opts = std::make_shared<console_options>(*cmd);
  cmd->callback([&exit_code, cmd, opts, body = std::move(body)] {
    if (!cmd->get_subcommands().empty())
      return; // `gilgal projects create ...`: the chosen subcommand did the work
    auto target = opts->resolve();
    if (!target) {
      std::cerr << "error: " << error_text(target.error()) << std::endl;
      exit_code = console_exit::usage;
      return;
    }
    exit_code = body(api_client{*target});
  });
  return cmd;
}

int report(const caf::error& err) {
  std::cerr << "error: " << error_text(err) << std::endl;
  return exit_code_of(err);
}

void print_json(const nlohmann::json& j) {
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

std::string page_query(int page, int limit) {
  std::string q;
  if (page > 0)
    q += "page=" + std::to_string(page);
  if (limit > 0)
    q += (q.empty() ? "" : "&") + std::string{"limit="} + std::to_string(limit);
  return q.empty() ? q : "?" + q;
}

} // namespace gilgal::cli
