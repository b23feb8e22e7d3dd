// Server logging: spdlog's default logger writes to stderr, one line per event,
// UTC timestamps. Never log a token, a password or an environment variable's value.
#pragma once

#include <string>

namespace gilgal::cli {

/// Installs the default logger at `level` (trace, debug, info, warn, error, off).
void configure_logging(const std::string& level);

} // namespace gilgal::cli
