// Options shared by every operator console command (`gilgal deploy`, `gilgal
// projects`, ...): where the server is, the API token, the CA file that
// https:// URLs are checked against, and --json.
//
// Precedence: --url / --token / --cacert flags > GILGAL_URL / GILGAL_TOKEN /
// GILGAL_CACERT > the user's config file ($XDG_CONFIG_HOME/gilgal/config.toml,
// else ~/.config/gilgal/config.toml, with `url = "..."`, `token = "..."` and
// `cacert = "..."`) > the default URL http://127.0.0.1:8080 and the system CA
// bundle. The token is never printed.
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
  std::string url;        // as configured, without a trailing '/'; requests go to url + path
  bool https = false;     // the URL's scheme is https
  std::string host;       // from the URL
  int port = 80;          // from the URL (default 80, or 443 for https)
  std::string base_path;  // a path prefix of the URL ("" or "/prefix")
  std::string token;      // never printed
  std::string cacert;     // PEM file of the CAs trusted for https ("" = the system bundle)
  bool json = false;      // machine output
};

/// The console's config file path ("" if neither XDG_CONFIG_HOME nor HOME is set).
std::string console_config_path();

/// Splits "http[s]://host[:port][/prefix]".
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
  std::string cacert_;
  bool json_ = false;
};

} // namespace gilgal::cli
