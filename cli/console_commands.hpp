// The operator console: `gilgal deploy`, `deployments`, `logs`, `projects
// [create|deploy-key|set-token]`, `envs [create]`, `status`, `open`, `cancel`, `rollback`, `nodes`, `webhook`,
// `previews` —
// clients of the HTTP API (cli/console_client.hpp). Every command takes
// --url, --token, --cacert and --json (cli/console_options.hpp).
#pragma once

#include <functional>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/console_client.hpp"
#include "cli/console_options.hpp"

namespace gilgal::cli {

/// Adds every console subcommand to `app`; the chosen one stores its exit code
/// in `exit_code`.
void add_console_commands(CLI::App& app, int& exit_code);

// -- shared by the console_*_command(s).cpp files ------------------------------

/// The footer of every console command's --help (server, token, exit codes).
extern const char* const console_help_footer;

/// A console subcommand of `app` with --url/--token/--cacert/--json whose
/// callback runs `body` with a client of the configured server (unless one of
/// its own subcommands was chosen: that one runs instead); a configuration
/// error (no token, bad URL) prints `error: ...` and exits with
/// console_exit::usage.
CLI::App* add_console_command(CLI::App& app, int& exit_code, const char* name,
                              const std::string& description,
                              std::function<int(const api_client&)> body);

/// Prints `error: MESSAGE` on stderr; returns the exit code for `err`.
int report(const caf::error& err);

/// Prints `j` as JSON on stdout (invalid UTF-8 replaced).
void print_json(const nlohmann::json& j);

/// "?page=N&limit=M" for the options given (0: not given), or "".
std::string page_query(int page, int limit);

void add_console_list_commands(CLI::App& app, int& exit_code);
void add_console_deployment_commands(CLI::App& app, int& exit_code);
void add_console_deploy_command(CLI::App& app, int& exit_code);
void add_console_node_commands(CLI::App& app, int& exit_code);
void add_console_status_commands(CLI::App& app, int& exit_code);
void add_console_webhook_commands(CLI::App& app, int& exit_code);
void add_console_preview_commands(CLI::App& app, int& exit_code);
/// `gilgal stop|start|restart PROJECT ENV`.
void add_console_lifecycle_commands(CLI::App& app, int& exit_code);
/// `gilgal env set|unset|show PROJECT ENV ...`.
void add_console_env_commands(CLI::App& app, int& exit_code);
/// `gilgal projects create` and `gilgal envs create`, under those commands.
void add_console_create_commands(CLI::App& projects, CLI::App& envs, int& exit_code);
/// `gilgal projects deploy-key` and `gilgal projects set-token`.
void add_console_repository_commands(CLI::App& projects, int& exit_code);

} // namespace gilgal::cli
