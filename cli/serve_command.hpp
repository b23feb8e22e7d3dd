// `gilgal serve`: the control plane. All wiring of the running server lives in
// serve_command.cpp: data dir, secret key, store, actor system, HTTP edge, and
// (later) the deployment manager, logger and local node.
#pragma once

#include <CLI/CLI.hpp>

#include "config/settings.hpp"

namespace gilgal::cli {

/// Adds the `serve` subcommand; it stores its exit code in `exit_code`.
void add_serve_command(CLI::App& app, int& exit_code);

/// Runs the server until SIGTERM or SIGINT. Returns 0 after a clean shutdown,
/// non-zero if it could not start.
int run_serve(const settings& s);

} // namespace gilgal::cli
