#include "cli/commands.hpp"

#include <CLI/CLI.hpp>

namespace gilgal {

int run_cli(int argc, char** argv) {
  CLI::App app{"Gilgal: a self-hosted deployment engine"};
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}

} // namespace gilgal
