// `gilgal node --join HOST:PORT`: a build/run node of a farm. Its node actor
// (builder and runner on its own Docker daemon) is offered to the control
// plane through CAF's middleman; it keeps its own image janitor. Prints
// "node NAME joined HOST:PORT" on stdout at each (re)join. Runs until SIGTERM
// or SIGINT; a refusal by the control plane (wrong secret, protocol version)
// ends it with exit code 1.
#pragma once

#include <CLI/CLI.hpp>

#include "config/settings.hpp"

namespace gilgal::cli {

/// Adds the `node` subcommand; it stores its exit code in `exit_code`.
void add_node_command(CLI::App& app, int& exit_code);

/// Runs the node until a signal (0) or a refusal (1); 2 for bad settings.
int run_node(const settings& s);

} // namespace gilgal::cli
