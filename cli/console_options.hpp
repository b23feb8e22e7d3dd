// Options shared by every operator console command (`gilgal deploy`, `gilgal
// projects`, ...): where the server is, the API token, and --json.
//
// Precedence: --url / --token flags > GILGAL_URL / GILGAL_TOKEN > the user's
// config file ($XDG_CONFIG_HOME/gilgal/config.toml, else
// ~/.config/gilgal/config.toml, with `url = "..."` and `token = "..."`) >
// the default URL http://127.0.0.1:8080. The token is never printed.
#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <caf/expected.hpp>

namespace gilgal::cli {

/// Exit codes of the console commands.
namespace console_exit {
constexpr int ok = 0;
constexpr int failed = 1;      // a failed deployment, or an error answer of the API
constexpr int usage = 2;       // bad configuration: no token, bad URL, bad config file
constexpr int cancelled = 3;   // the deployment ended cancelled
constexpr int unreachable = 4; // the server could not be reached (or was lost)
constexpr int interrupted = 130; // Ctrl-C while following a log
} // namespace console_exit

/// Where the server is and how to authenticate.
struct console_target {
  std::string url;        // as configured, without a trailing '/'; for messages
  std::string host;       // from the URL
  int port = 80;          // from the URL
  std::string base_path;  // a path prefix of the URL ("" or "/prefix")
  std::string token;      // never printed
  bool json = false;      // machine output
};

/// The console's config file path ("" if neither XDG_CONFIG_HOME nor HOME is set).
std::string console_config_path();

/// Splits "http://host[:port][/prefix]". https is refused with a clear message.
caf::expected<console_target> parse_console_url(const std::string& url);

/// Registers --url, --token and --json on a console subcommand; resolve()
/// applies the precedence above.
class console_options {
public:
  explicit console_options(CLI::App& cmd);

  caf::expected<console_target> resolve() const;

  bool json() const { return json_; }

private:
  std::string url_;
  std::string token_;
  bool json_ = false;
};

} // namespace gilgal::cli
