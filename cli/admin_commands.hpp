// `gilgal admin ...`: operator commands that work directly on the data
// directory / database, without a running server.
//   create-user NAME   creates a user and prints its first API token
//   create-token USER  prints a new API token for an existing user
//   list-users         prints every user
//   list-tokens USER   prints USER's token ids, creation times, revocations
//   revoke-token ID    revokes a token (a running server refuses it within 1 s)
// A token is printed once, alone on the last line of the output; only its
// SHA-256 is stored.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace gilgal::cli {

/// Adds the `admin` subcommand tree to `app`; the chosen command stores its
/// process exit code in `exit_code`.
void add_admin_commands(CLI::App& app, int& exit_code);

/// True for user names of 1..64 characters: [a-z0-9][a-z0-9._-]*.
bool valid_user_name(const std::string& name);

} // namespace gilgal::cli
