// The settings file's reader on text already in memory: what
// apply_config_file (config/settings.hpp) does after reading the file.
// Separate so that fuzz/settings_file_fuzz.cpp can feed it bytes.
#pragma once

#include <string>

#include <caf/expected.hpp>

#include "config/settings.hpp"

namespace gilgal {

/// Reads TOML `text` into `out` like apply_config_file (only keys present
/// change; a bad text changes nothing). `path` names it in error messages.
caf::expected<void> apply_config_text(const std::string& text, const std::string& path,
                                      settings& out);

} // namespace gilgal
