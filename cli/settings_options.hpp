// Command-line flags for server settings, generated from describe_settings(),
// and their resolution with the precedence flags > environment > file > defaults.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/expected.hpp>

#include "config/settings.hpp"

namespace gilgal::cli {

class settings_options {
public:
  /// Adds `--config FILE` and the flags of the settings named in `keys` (TOML
  /// keys; empty: every setting that has a flag) to `app`. The object must
  /// outlive parsing (CLI11 writes into it).
  settings_options(CLI::App& app, const std::vector<std::string>& keys);

  /// The settings after parsing: defaults < file < environment < given flags.
  caf::expected<settings> resolve() const;

private:
  std::string config_file_;
  std::map<std::string, std::string> text_values_; // key -> flag text
  std::map<std::string, bool> bool_values_;        // key -> flag value
  std::vector<std::pair<std::string, CLI::Option*>> options_;
};

/// Gives `command` the flags of `keys` and a callback that resolves them and
/// sets `exit_code` to run(settings), or to 2 (with the error on stderr) when
/// the settings are invalid.
void run_with_settings(CLI::App& command, const std::vector<std::string>& keys, int& exit_code,
                       std::function<int(const settings&)> run);

} // namespace gilgal::cli
