// Following a deployment's log in the terminal, shared by `gilgal deploy` and
// `gilgal logs -f`: lines printed as they arrive, reconnects reported on
// stderr, and Ctrl-C that only stops following (the deployment goes on).
#pragma once

#include <ostream>
#include <string>

#include <caf/expected.hpp>

#include "cli/console_client.hpp"

namespace gilgal::cli {

/// Prints the log of `deployment_id` live to `out` (as `[ts] level: message`,
/// or as one JSON object per line with `json_lines`) until it ends; returns
/// the final status. From the call on, SIGINT prints how to resume or cancel
/// and exits with console_exit::interrupted, without cancelling anything.
caf::expected<std::string> follow_and_print(const api_client& api,
                                            const std::string& deployment_id,
                                            std::ostream& out, bool json_lines);

/// The exit code for a final deployment status: success 0, cancelled 3, else 1.
int exit_code_of_status(const std::string& status);

} // namespace gilgal::cli
