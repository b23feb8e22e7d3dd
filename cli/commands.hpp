// The `gilgal` command line: serve, node, admin ..., and the operator console.
#pragma once

namespace gilgal {

/// Parses argv and runs the chosen command. Returns the process exit code.
int run_cli(int argc, char** argv);

} // namespace gilgal
