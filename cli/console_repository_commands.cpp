// Private repositories from the console:
//   gilgal projects deploy-key PROJECT [--rotate]   the public deploy key
//   gilgal projects set-token PROJECT [TOKEN|-]     the HTTPS repository token
//                                 (- or nothing: read from stdin; --remove)
// A token given as an argument shows in this machine's process list: prefer
// stdin. The server never answers a token back.
#include <iostream>

#include "cli/console_commands.hpp"
#include "cli/console_format.hpp"
#include "protocol/error.hpp"

namespace gilgal::cli {

namespace {

using nlohmann::json;

struct deploy_key_args {
  std::string project;
  bool rotate = false;
};

struct token_args {
  std::string project;
  std::string token;
  bool remove = false;
};

int deploy_key(const api_client& api, const deploy_key_args& a) {
  auto project = api.resolve_project(a.project);
  if (!project)
    return report(project.error());
  auto path = "/api/projects/" + path_segment(project->value("id", "")) + "/deploy-key";
  auto key = api.post(a.rotate ? path + "/rotate" : path, json::object());
  if (!key)
    return report(key.error());
  if (api.target().json) {
    print_json(*key);
    return console_exit::ok;
  }
  // The key alone on stdout (to pipe into a git host's CLI); the advice on stderr.
  std::cout << str_of(*key, "publicKey") << std::endl;
  std::cerr << "Add this key (" << str_of(*key, "fingerprint")
            << ") to the repository as a read-only deploy key, and give the project an ssh "
               "repository URL (git@host:org/repo.git)."
            << std::endl;
  return console_exit::ok;
}

/// TOKEN, "-" or nothing: the first line of stdin.
std::string token_text(const std::string& given) {
  if (!given.empty() && given != "-")
    return given;
  std::string line;
  std::getline(std::cin, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
    line.pop_back();
  return line;
}

int set_token(const api_client& api, const token_args& a) {
  auto project = api.resolve_project(a.project);
  if (!project)
    return report(project.error());
  json body{{"repositoryToken", nullptr}};
  if (!a.remove) {
    auto token = token_text(a.token);
    if (token.empty())
      return report(make_error(errc::invalid_argument,
                               "no token given (argument, or a line on stdin; --remove "
                               "removes the stored one)"));
    body["repositoryToken"] = token;
  }
  auto updated = api.patch("/api/projects/" + path_segment(project->value("id", "")), body);
  if (!updated)
    return report(updated.error());
  if (api.target().json) {
    print_json(*updated);
    return console_exit::ok;
  }
  std::cout << "Project " << str_of(*updated, "name")
            << (updated->value("hasRepositoryToken", false) ? ": repository token stored"
                                                            : ": no repository token")
            << std::endl;
  return console_exit::ok;
}

} // namespace

void add_console_repository_commands(CLI::App& projects, int& exit_code) {
  auto ka = std::make_shared<deploy_key_args>();
  auto* k = add_console_command(
    projects, exit_code, "deploy-key",
    "Print the public SSH deploy key of PROJECT (made on first use; --rotate replaces it). "
    "Gilgal fetches the project's ssh repository URL with it.",
    [ka](const api_client& api) { return deploy_key(api, *ka); });
  k->add_option("PROJECT", ka->project, "project name or id")->required();
  k->add_flag("--rotate", ka->rotate, "replace the key by a new one (the old one stops working)");

  auto ta = std::make_shared<token_args>();
  auto* t = add_console_command(
    projects, exit_code, "set-token",
    "Store the HTTPS token Gilgal fetches PROJECT's https repository with (TOKEN or "
    "USER:TOKEN; sealed at rest, never shown again). Without TOKEN, or with -, it is read "
    "from stdin, which keeps it out of the process list.",
    [ta](const api_client& api) { return set_token(api, *ta); });
  t->add_option("PROJECT", ta->project, "project name or id")->required();
  t->add_option("TOKEN", ta->token, "the token, or - for stdin (the default)");
  t->add_flag("--remove", ta->remove, "remove the stored token");
}

} // namespace gilgal::cli
