// Decides how a checked-out repository is built: its own Dockerfile, or one of
// Gilgal's recipes (config/recipes/<framework>.Dockerfile).
//
// Order (first match wins):
//   dockerfile  the repository has a Dockerfile at its root
//   nextjs      package.json depends (or dev-depends) on `next`
//   react       package.json depends on `vite` or `react-scripts` (static build, nginx)
//   nodejs      package.json has scripts.start or main
//   django      manage.py
//   python      requirements.txt or pyproject.toml
//   static      index.html
// A project's configured framework (anything but "auto") forces the recipe.
// A Procfile `web:` line is the start command (Heroku, Dokku).
#pragma once

#include <string>
#include <string_view>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

namespace gilgal {

struct detection {
  /// dockerfile | nextjs | react | nodejs | django | python | static
  std::string framework;
  /// Why, for the deployment log ("package.json depends on next").
  std::string reason;
  /// Shell command line that starts the app (run by /bin/sh -c in the image);
  /// empty for dockerfile, react and static. May refer to $PORT.
  std::string start_command;
  /// Where start_command came from: "Procfile", "package.json", "default".
  std::string start_source;
};

/// Inspects `dir` (a checkout). `configured` is the project's framework
/// ("auto" or empty: detect). Errors: errc::build_failed with a message naming
/// everything looked for when nothing is recognised, when package.json is
/// malformed, or when a Python app has no Procfile, main.py or app.py.
caf::expected<detection> detect_framework(const std::string& dir,
                                          const std::string& configured = "auto");

/// The command of the first `web:` line of DIR/Procfile, or empty. An
/// unsafe Procfile (a link, a FIFO, over 1 MiB: nodes/repo_file) is an error.
caf::expected<std::string> procfile_web_command(const std::string& dir);

/// The command of the first `web:` line of a Procfile's text, or empty
/// (lines with control characters are skipped).
std::string parse_procfile_web(std::string_view text);

/// package.json's text as a JSON object; errc::build_failed when malformed.
caf::expected<nlohmann::json> parse_package_json(std::string_view text);

} // namespace gilgal
