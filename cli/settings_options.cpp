#include "cli/settings_options.hpp"

#include <algorithm>
#include <cstdio>

#include "protocol/error.hpp"

namespace gilgal::cli {

settings_options::settings_options(CLI::App& app, const std::vector<std::string>& keys) {
  app.add_option("--config", config_file_,
                 "TOML configuration file (keys as in the environment variables below, "
                 "lower-case without GILGAL_; [images] and [registry] tables) [env GILGAL_CONFIG]")
    ->type_name("FILE");
  for (auto& info : describe_settings()) {
    if (info.flag.empty())
      continue;
    if (!keys.empty() && std::find(keys.begin(), keys.end(), info.key) == keys.end())
      continue;
    auto help = info.help + " [env " + info.env + "]";
    CLI::Option* opt = nullptr;
    if (info.kind == "bool") {
      opt = app.add_flag("--" + info.flag, bool_values_[info.key], help);
    } else {
      opt = app.add_option("--" + info.flag, text_values_[info.key], help);
      opt->type_name(info.kind == "string" ? "TEXT" : info.kind == "int" ? "INT" : "NUMBER");
    }
    options_.emplace_back(info.key, opt);
  }
}

caf::expected<settings> settings_options::resolve() const {
  std::vector<std::pair<std::string, std::string>> flags;
  for (auto& [key, opt] : options_) {
    if (opt->count() == 0)
      continue;
    if (auto i = bool_values_.find(key); i != bool_values_.end())
      flags.emplace_back(key, i->second ? "true" : "false");
    else
      flags.emplace_back(key, text_values_.at(key));
  }
  return resolve_settings(config_file_, flags);
}

void run_with_settings(CLI::App& command, const std::vector<std::string>& keys, int& exit_code,
                       std::function<int(const settings&)> run) {
  auto opts = std::make_shared<settings_options>(command, keys);
  command.callback([&exit_code, opts, run = std::move(run)] {
    auto s = opts->resolve();
    if (!s) {
      auto msg = message_of(s.error());
      fprintf(stderr, "error: %s\n", msg.c_str());
      exit_code = 2;
      return;
    }
    exit_code = run(*s);
  });
}

} // namespace gilgal::cli
