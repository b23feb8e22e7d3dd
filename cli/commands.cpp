#include "cli/commands.hpp"

#include <CLI/CLI.hpp>

#include "cli/admin_commands.hpp"
#include "cli/console_commands.hpp"
#include "cli/node_command.hpp"
#include "cli/serve_command.hpp"

namespace gilgal {

int run_cli(int argc, char** argv) {
  CLI::App app{"Gilgal: a self-hosted deployment engine.\n"
               "Run `gilgal serve` for the control plane and `gilgal admin create-user NAME` "
               "for an API token.\nEvery command explains its options with --help.",
               "gilgal"};
  app.require_subcommand(1);
  app.fallthrough(false);
  app.set_version_flag("--version", "gilgal 0.1.0");
  // An option given twice takes its last value (as most tools do), so that a
  // wrapper script's default can be overridden by a later argument.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  int exit_code = 0;
  // One file per command (group): cli/<name>_command.cpp or cli/<name>_commands.cpp.
  // Operator console commands (deploy, deployments, logs, projects, envs, cancel,
  // rollback, nodes) and `node` register here the same way.
  cli::add_serve_command(app, exit_code);
  cli::add_node_command(app, exit_code);
  cli::add_admin_commands(app, exit_code);
  cli::add_console_commands(app, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}

} // namespace gilgal
