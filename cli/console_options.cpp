#include "cli/console_options.hpp"

#include <cstdlib>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

#include <toml.hpp>

#include "protocol/error.hpp"

namespace gilgal::cli {

namespace {

constexpr const char* default_url = "http://127.0.0.1:8080";

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string{v} : std::string{};
}

caf::error bad(const std::string& message) {
  return make_error(errc::invalid_argument, message);
}

struct file_values {
  std::string url;
  std::string token;
  std::string cacert;
};

/// Reads `url`, `token` and `cacert` from the config file, if it exists. Unknown keys
/// are errors (a typo must not silently fall back to the defaults).
caf::expected<file_values> read_config_file(const std::string& path) {
  file_values out;
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0)
    return out; // no file: nothing to apply
  toml::value data;
  try {
    data = toml::parse(path);
  } catch (const toml::syntax_error& e) {
    return bad("config file " + path + ": " + e.what());
  } catch (const std::exception&) {
    return bad("cannot read config file " + path);
  }
  if (!data.is_table())
    return bad("config file " + path + ": not a table");
  for (auto& [key, value] : data.as_table()) {
    if (key != "url" && key != "token" && key != "cacert")
      return bad("config file " + path + ": unknown key '" + key
                 + "' (the console reads only url, token and cacert)");
    if (!value.is_string())
      return bad("config file " + path + ": '" + key + "' must be a string");
    (key == "url" ? out.url : key == "token" ? out.token : out.cacert) = value.as_string().str;
  }
  if (!out.token.empty() && (st.st_mode & 077) != 0)
    std::cerr << "warning: " << path
              << " holds an API token and is readable by others (chmod 600 it)" << std::endl;
  return out;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

} // namespace

std::string console_config_path() {
  auto xdg = env_or_empty("XDG_CONFIG_HOME");
  if (!xdg.empty())
    return xdg + "/gilgal/config.toml";
  auto home = env_or_empty("HOME");
  if (!home.empty())
    return home + "/.config/gilgal/config.toml";
  return {};
}

caf::expected<console_target> parse_console_url(const std::string& url) {
  console_target t;
  std::string scheme;
  for (const char* s : {"http://", "https://"})
    if (url.rfind(s, 0) == 0)
      scheme = s;
  if (scheme.empty())
    return bad("url '" + url + "': must start with http:// or https://");
  t.https = scheme == "https://";
  t.port = t.https ? 443 : 80;
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  t.base_path = slash == std::string::npos ? std::string{} : rest.substr(slash);
  while (!t.base_path.empty() && t.base_path.back() == '/')
    t.base_path.pop_back();
  if (t.base_path.find_first_of("?#") != std::string::npos)
    return bad("url " + url + ": must not have a query or fragment");
  if (authority.find('@') != std::string::npos)
    return bad("url: must not contain credentials (use --token or GILGAL_TOKEN)");
  std::string port_text;
  if (!authority.empty() && authority[0] == '[') { // [IPv6]:port
    auto close = authority.find(']');
    if (close == std::string::npos)
      return bad("url " + url + ": unterminated IPv6 address");
    t.host = authority.substr(1, close - 1);
    auto tail = authority.substr(close + 1);
    if (!tail.empty()) {
      if (tail[0] != ':')
        return bad("url " + url + ": unexpected text after the IPv6 address");
      port_text = tail.substr(1);
    }
  } else {
    auto colon = authority.rfind(':');
    t.host = authority.substr(0, colon);
    if (colon != std::string::npos)
      port_text = authority.substr(colon + 1);
  }
  if (t.host.empty())
    return bad("url " + url + ": has no host");
  if (!port_text.empty()) {
    if (!all_digits(port_text) || port_text.size() > 5 || std::stoi(port_text) < 1
        || std::stoi(port_text) > 65535)
      return bad("url " + url + ": port must be 1..65535");
    t.port = std::stoi(port_text);
  }
  t.url = url;
  while (t.url.size() > scheme.size() && t.url.back() == '/')
    t.url.pop_back();
  return t;
}

console_options::console_options(CLI::App& cmd) {
  cmd.add_option("--url", url_,
                 "server URL (else GILGAL_URL, else `url` in the config file, else "
                   + std::string{default_url} + ")");
  cmd.add_option("--token", token_,
                 "API token (else GILGAL_TOKEN, else `token` in "
                 "$XDG_CONFIG_HOME/gilgal/config.toml or ~/.config/gilgal/config.toml); "
                 "get one with `gilgal admin create-user NAME`");
  cmd.add_option("--cacert", cacert_,
                 "PEM file of the CA(s) an https server's certificate must be signed by "
                 "(else GILGAL_CACERT, else `cacert` in the config file, else the system "
                 "CA bundle)");
  cmd.add_flag("--json", json_, "machine output: the API's JSON");
}

caf::expected<console_target> console_options::resolve() const {
  auto path = console_config_path();
  auto file = read_config_file(path);
  if (!file)
    return file.error();
  auto url = url_;
  if (url.empty())
    url = env_or_empty("GILGAL_URL");
  if (url.empty())
    url = file->url;
  if (url.empty())
    url = default_url;
  auto target = parse_console_url(url);
  if (!target)
    return target.error();
  target->token = token_;
  if (target->token.empty())
    target->token = env_or_empty("GILGAL_TOKEN");
  if (target->token.empty())
    target->token = file->token;
  if (target->token.empty())
    return bad("no API token: pass --token, set GILGAL_TOKEN, or put token = \"...\" in "
               + (path.empty() ? std::string{"~/.config/gilgal/config.toml"} : path)
               + " (`gilgal admin create-user NAME` prints one)");
  for (unsigned char c : target->token)
    if (c < 0x21 || c > 0x7e)
      return bad("the API token contains spaces or control characters");
  target->cacert = !cacert_.empty() ? cacert_ : env_or_empty("GILGAL_CACERT");
  if (target->cacert.empty())
    target->cacert = file->cacert;
  if (!target->cacert.empty() && ::access(target->cacert.c_str(), R_OK) != 0)
    return bad("cacert " + target->cacert + ": cannot be read");
  target->json = json_;
  return target;
}

} // namespace gilgal::cli
